"""The built-in demo client: zones that reproduce the 2009 article's examples, and its project.

The demo lab (:mod:`auditapp.lab.demolab`) serves these zones with
:class:`~auditapp.lab.dnsserver.LabDnsServer` and runs the client's mail services on
loopback, so a consultant can see every kind of finding without network, root or system
packages. The sending servers keep their documentation addresses (PTR, SPF and blocklist
examples need public-looking ones, and nothing connects to them); the hosts the audit
connects to -- the MX, submission and IMAP/POP3 names -- resolve to 127.0.0.1, where the lab's
mail responders listen. SRV records (RFC 6186) name the client hosts, so discovery never
guesses ``mail.`` (the sending server) as a client host.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from auditapp.lab.demo_messages import DKIM_RECORD, examined_demo_messages

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
#: Where the demo's mail services listen. Only 127.0.0.1: macOS has no other loopback address
#: unless an administrator adds one, so the services share it and differ by port.
DEMO_SERVICE_ADDRESS = "127.0.0.1"
#: The names the audit connects to (MX, submission, IMAP/POP3): what a correct certificate covers.
DEMO_SERVICE_NAMES = (f"mx.{DEMO_DOMAIN}", f"smtp.{DEMO_DOMAIN}", f"imap.{DEMO_DOMAIN}")

_KEY_1024 = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDn5SvnRyps04yJRe8UhUEF6KqfWpsyzVKvMrAcME4o3ipbxWSmq0PhACIAWFPZTIwmiFZrM6wJ6jm52mEM4mlvk+kQLgxOzoBDY7lYqh1M4RJWbpXe4frIsx57HGX9uyj2ENKxjKTK8eIBaBDI0sUKh9zRZlwXDHhGR19NKdrP4QIDAQAB"

DEMO_ZONES: list[tuple[str, str]] = [
    (DEMO_DOMAIN, f"""
$TTL 300
@        IN SOA ns1 hostmaster 2026112801 3600 600 86400 300
         IN NS  ns1
         IN MX  10 mx
         IN TXT "v=spf1 ip4:192.0.2.10 ip4:192.0.2.20 include:_spf.provider.example -all"
ns1      IN A   192.0.2.53
mail     IN A   192.0.2.10
mx2      IN A   192.0.2.99
mx       IN A   {DEMO_SERVICE_ADDRESS}
smtp     IN A   {DEMO_SERVICE_ADDRESS}
imap     IN A   {DEMO_SERVICE_ADDRESS}
_submission._tcp  IN SRV 0 1 587 smtp
_submissions._tcp IN SRV 0 1 465 smtp
_imap._tcp        IN SRV 0 1 143 imap
_imaps._tcp       IN SRV 0 1 993 imap
_dmarc   IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@{DEMO_DOMAIN}"
_adsp._domainkey IN TXT "dkim=discardable"
{DEMO_SELECTOR}._domainkey IN TXT ( "v=DKIM1; k=rsa; " "p={_KEY_1024[:200]}" "{_KEY_1024[200:]}" )
{DKIM_RECORD}
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


def demo_project(nameserver: str | None = None) -> Project:
    """The demo client as a project, with its Postfix configuration and questionnaire answers.

    Without ``nameserver``: the demo as the window and ``auditapp demo`` open it, marked ``demo``,
    so the prepare step aims it at the demo lab running in this process (resolver, service
    ports and the lab's CA are the lab's, never the file's); its mail services are probed on
    loopback (``allow_internal``: the MX and client names resolve to 127.0.0.1), with the
    relay test, which the lab answers like a correct server.

    With ``nameserver`` (``host:port`` of a :class:`~auditapp.lab.dnsserver.LabDnsServer` serving
    :data:`DEMO_ZONES`): the same client audited DNS only against that resolver and not marked
    as the demo (tests and benchmarks that bring their own, e.g. a silent one).

    Either way the project holds two received messages (:mod:`auditapp.lab.demo_messages`),
    signed and examined against a DNS server of its own serving :data:`DEMO_ZONES`, so their
    import verdicts never depend on ``nameserver`` (which may be a silent one on purpose).
    """
    from auditapp.core.project import Project
    from auditapp.postfix import read_texts
    from auditapp.questionnaire import load_answers_file

    project = Project(
        name="Beispiel GmbH", domain=DEMO_DOMAIN, server_ips=list(DEMO_IPS), dkim_selectors=[DEMO_SELECTOR],
        dnsbl_zones=[DEMO_DNSBL], nameservers=[nameserver] if nameserver else [], probe_services=False,
        answers=load_answers_file(DEMO_DATA / "answers.json"),
        postfix_config={"origin": "Demo: main.cf + master.cf (Beispiel GmbH)",
                        "files": read_texts(DEMO_DATA / "postfix")},
        messages=examined_demo_messages(DEMO_DOMAIN, DEMO_ZONES),
    )
    return project if nameserver else as_demo(project)


def as_demo(project: Project) -> Project:
    """Mark ``project`` as the built-in demo and switch on what the demo lab shows (returns it).

    Also upgrades a demo project saved by an older version (DNS only, a fixed resolver): runs,
    reviews and answers stay as they are.
    """
    project.demo = True
    project.probe_services = True
    project.allow_internal = True
    project.relay_test = True
    return project
