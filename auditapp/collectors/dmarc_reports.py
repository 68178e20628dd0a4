"""External report destinations of the DMARC record (RFC 9990, External Report Destination Verification).

When ``rua=``/``ruf=`` names a ``mailto:`` address outside the policy's organisational domain, the
receiving domain must confirm it with a TXT record ``<policy-domain>._report._dmarc.<destination>``
starting with ``v=DMARC1``; without it receivers drop the reports (knowledge base B1, R4).

The record is found again by the tree walk through the cached client (the DMARC job asks the same
names), and only the ``mailto:`` URIs are read here; judging the record stays with the checks.
The organisational domain is, as RFC 9989's tree walk gives it, the shortest name on the walk that
holds a DMARC record (a ``psd=n`` record ends the walk there); without one, the domain itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditapp.collectors.dns_facts import collect_dmarc
from auditapp.dnsclient import DnsAnswer, DnsClient

_MAILTO = re.compile(r"mailto:([^,;!\s]+)", re.IGNORECASE)


@dataclass(frozen=True)
class ReportDestination:
    """One external destination domain and the answer for its authorisation record."""

    domain: str
    #: The tags naming it ("rua", "ruf") and the addresses, for the finding's text.
    tags: tuple[str, ...]
    addresses: tuple[str, ...]
    #: The name asked: ``<policy-domain>._report._dmarc.<domain>``.
    name: str
    answer: DnsAnswer

    @property
    def authorised(self) -> bool:
        return self.answer.ok and any(t.replace(" ", "").lower().startswith("v=dmarc1") for t in self.answer.texts)


@dataclass(frozen=True)
class DmarcReportsFact:
    #: The domain the applicable record belongs to ("" when no single record was found).
    policy_domain: str = ""
    org_domain: str = ""
    destinations: tuple[ReportDestination, ...] = ()


def _records(answer: DnsAnswer) -> list[str]:
    return [t for t in answer.texts if t.replace(" ", "").lower().startswith("v=dmarc1")]


def _tag(record: str, name: str) -> str:
    for part in record.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return value
    return ""


def mailto_domains(record: str) -> dict[str, tuple[list[str], list[str]]]:
    """Destination domain -> (tags, addresses) of every ``mailto:`` URI in rua= and ruf=."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    for tag in ("rua", "ruf"):
        for address in _MAILTO.findall(_tag(record, tag)):
            domain = address.rpartition("@")[2].rstrip(".").lower()
            if not domain:
                continue
            tags, addresses = found.setdefault(domain, ([], []))
            if tag not in tags:
                tags.append(tag)
            if address not in addresses:
                addresses.append(address)
    return found


def _inside(name: str, org: str) -> bool:
    return name == org or name.endswith("." + org)


async def collect_dmarc_reports(dns: DnsClient, domain: str) -> DmarcReportsFact:
    """Ask ``<policy-domain>._report._dmarc.<destination>`` TXT for every external report destination."""
    walk = await collect_dmarc(dns, domain)
    record, where, org = "", "", ""
    for answer in walk.answers:
        if answer.outcome.is_failure:
            if not record:
                return DmarcReportsFact()  # the DMARC checks say not_tested; nothing to verify
            break  # above the record: the organisational domain is the best known so far
        found = _records(answer)
        if len(found) != 1:
            continue
        name = answer.name.removeprefix("_dmarc.").rstrip(".").lower()
        if not record:
            record, where = found[0], name
        org = name
        if _tag(found[0], "psd").strip().lower() == "n":
            break
    if not record:
        return DmarcReportsFact()
    org = org or domain.lower()
    external = {d: v for d, v in mailto_domains(record).items() if not _inside(d, org)}
    names = [f"{where}._report._dmarc.{d}" for d in external]
    answers = await dns.query_many((n, "TXT") for n in names)
    destinations = tuple(
        ReportDestination(d, tuple(tags), tuple(addresses), n, a)
        for (d, (tags, addresses)), n, a in zip(external.items(), names, answers, strict=True)
    )
    return DmarcReportsFact(where, org, destinations)
