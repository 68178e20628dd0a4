"""The built-in demo lab: zones that reproduce the 2009 article's examples, served offline.

``auditapp demo`` starts :class:`~auditapp.lab.dnsserver.LabDnsServer` on loopback with these
zones and audits them, so a consultant can see every kind of finding without network,
root or system packages.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auditapp.core.project import Project

#: Postfix configuration and questionnaire answers of the demo client (package data).
DEMO_DATA = Path(__file__).with_name("demo_data")

DEMO_DOMAIN = "beispiel-gmbh.example"
#: mail: good; mx2: its PTR name points elsewhere; 198.51.100.7: provider default name, listed.
DEMO_IPS = ("192.0.2.10", "192.0.2.20", "198.51.100.7")
#: The HELO a misconfigured Postfix sends when myhostname was left at the installer's default.
DEMO_HELO = "mail.firma.local"
DEMO_DNSBL = "dnsbl.demo.example"
DEMO_SELECTOR = "mail"

_KEY_1024 = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDn5SvnRyps04yJRe8UhUEF6KqfWpsyzVKvMrAcME4o3ipbxWSmq0PhACIAWFPZTIwmiFZrM6wJ6jm52mEM4mlvk+kQLgxOzoBDY7lYqh1M4RJWbpXe4frIsx57HGX9uyj2ENKxjKTK8eIBaBDI0sUKh9zRZlwXDHhGR19NKdrP4QIDAQAB"

DEMO_ZONES: list[tuple[str, str]] = [
    (DEMO_DOMAIN, f"""
$TTL 300
@        IN SOA ns1 hostmaster 2026112801 3600 600 86400 300
         IN NS  ns1
         IN MX  10 mail
         IN TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.20 include:_spf.provider.example -all"
ns1      IN A   192.0.2.53
mail     IN A   192.0.2.10
mx2      IN A   192.0.2.99
_dmarc   IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@{DEMO_DOMAIN}"
_adsp._domainkey IN TXT "dkim=discardable"
{DEMO_SELECTOR}._domainkey IN TXT ( "v=DKIM1; k=rsa; " "p={_KEY_1024[:200]}" "{_KEY_1024[200:]}" )
"""),
    ("provider.example", """
$TTL 300
@        IN SOA ns1 hostmaster 1 3600 600 86400 300
         IN NS  ns1
ns1      IN A   192.0.2.53
_spf     IN TXT "v=spf1 ip4:203.0.113.0/24 ~all"
7.100.51.198.dyn IN A 198.51.100.7
"""),
    ("2.0.192.in-addr.arpa", """
$TTL 300
@   IN SOA ns1.provider.example. hostmaster.provider.example. 1 3600 600 86400 300
    IN NS  ns1.provider.example.
10  IN PTR mail.beispiel-gmbh.example.
20  IN PTR mx2.beispiel-gmbh.example.
"""),
    ("100.51.198.in-addr.arpa", """
$TTL 300
@   IN SOA ns1.provider.example. hostmaster.provider.example. 1 3600 600 86400 300
    IN NS  ns1.provider.example.
7   IN PTR 7.100.51.198.dyn.provider.example.
"""),
    (DEMO_DNSBL, """
$TTL 300
@   IN SOA ns1.provider.example. hostmaster.provider.example. 1 3600 600 86400 300
    IN NS  ns1.provider.example.
7.100.51.198 IN A   127.0.0.2
7.100.51.198 IN TXT "Listed in the demo blocklist: spam trap hits"
"""),
]


def demo_project(nameserver: str) -> Project:
    """The demo client as a project (DNS only, with its Postfix configuration and answers).

    ``nameserver`` is the ``host:port`` of a running :class:`~auditapp.lab.dnsserver.LabDnsServer`
    with :data:`DEMO_ZONES`; the GUI starts one for its lifetime and rewrites this field on every open.
    """
    from auditapp.core.project import Project
    from auditapp.postfix import read_texts
    from auditapp.questionnaire import load_answers_file

    return Project(
        name="Beispiel GmbH", domain=DEMO_DOMAIN, server_ips=list(DEMO_IPS), dkim_selectors=[DEMO_SELECTOR],
        dnsbl_zones=[DEMO_DNSBL], nameservers=[nameserver], probe_services=False,
        answers=load_answers_file(DEMO_DATA / "answers.json"),
        postfix_config={"origin": "demo: main.cf + master.cf of Beispiel GmbH",
                        "files": read_texts(DEMO_DATA / "postfix")},
    )
