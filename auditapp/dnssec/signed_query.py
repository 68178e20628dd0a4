"""Questions asked with DO=1 and CD=1: the answer and authority RRsets with their RRSIGs (issue 16).

A query path of its own beside :meth:`auditapp.dnsclient.DnsClient.query` (which keeps only the
records a check reads): the validator needs the signatures and the denial records, and must get
bogus data too, so that auditapp validates it itself. It shares the client's resolvers, timeout,
in-flight limit and run tally.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset

from auditapp.dnsclient import EDNS_PAYLOAD, FAILURE_REASONS, DnsClient, Outcome, normalise_name, record_question


@dataclass(frozen=True)
class SignedAnswer:
    """One question asked with DO=1 and CD=1: the answer and authority RRsets with their RRSIGs.

    CD=1 makes a validating resolver hand over bogus data too, so that auditapp validates it
    itself (:mod:`auditapp.dnssec`); the AD bit of the reply is kept only for the evidence,
    never trusted. A failure (timeout, SERVFAIL...) keeps its :class:`Outcome` and reason.
    """

    name: str
    rdtype: str
    outcome: Outcome
    answer: tuple[dns.rrset.RRset, ...] = ()
    authority: tuple[dns.rrset.RRset, ...] = ()
    ad: bool = False
    server: str = ""
    detail: str = ""
    tcp: bool = False

    @property
    def reason(self) -> str:
        if not self.outcome.is_failure:
            return ""
        base = f"{self.rdtype} {self.name}: {FAILURE_REASONS[self.outcome]}"
        return f"{base} ({self.detail})" if self.detail else base


async def query_signed(client: DnsClient, name: str, rdtype: str) -> SignedAnswer:
    """Ask ``name``/``rdtype`` with DO=1 and CD=1 through ``client``'s resolvers, once per client.

    Same budget, retries, TCP fallback and tally as :meth:`DnsClient.query`; the cache is the
    client's, kept apart from plain answers.
    """
    cache: dict[tuple[str, str], asyncio.Future[SignedAnswer]] = client.__dict__.setdefault("_signed_cache", {})
    key = (normalise_name(name), rdtype.upper())
    fut = cache.get(key)
    if fut is None:
        fut = asyncio.ensure_future(_ask_signed(client, key[0], key[1]))
        cache[key] = fut
        fut.add_done_callback(lambda f, key=key: _expire_signed(client, cache, key, f))
        if len(cache) > client.max_cached:  # a batch must not keep every signed answer it ever saw
            excess, old = len(cache) - client.max_cached, []
            for k, f in cache.items():  # oldest first; stops at once in the usual case
                if len(old) >= excess:
                    break
                if f.done():
                    old.append(k)
            for k in old:
                del cache[k]
    else:
        client.counter.cached += 1
    answer = await asyncio.shield(fut)
    record_question((key[0], f"{key[1]}+DO"), answer.outcome)
    return answer


def _expire_signed(client: DnsClient, cache: dict, key: tuple[str, str], fut: asyncio.Future) -> None:
    if fut.cancelled() or fut.exception() is not None:
        cache.pop(key, None)
    elif fut.result().outcome.is_failure:
        asyncio.get_running_loop().call_later(
            client.failure_ttl, lambda: cache.pop(key, None) if cache.get(key) is fut else None
        )


async def _ask_signed(client: DnsClient, name: str, rdtype: str) -> SignedAnswer:
    try:
        qname = dns.name.from_text(name)
        rtype = dns.rdatatype.from_text(rdtype)
    except dns.exception.DNSException as exc:
        return SignedAnswer(name, rdtype, Outcome.ERROR, detail=f"not a valid DNS name: {exc}")
    deadline = time.monotonic() + client.timeout
    last = SignedAnswer(name, rdtype, Outcome.TIMEOUT, detail=f"no answer within {client.timeout:g} s")
    attempt = malformed = 0
    async with client.slots():
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0.001:
                return last
            ns = client.nameservers[attempt % len(client.nameservers)]
            attempt += 1
            q = dns.message.make_query(qname, rtype, use_edns=0, payload=EDNS_PAYLOAD, want_dnssec=True)
            q.flags |= dns.flags.RD | dns.flags.CD
            client.counter.sent += 1
            try:
                resp, tcp = await dns.asyncquery.udp_with_fallback(
                    q, ns.address, timeout=min(client.per_try, remaining), port=ns.port
                )
            except dns.exception.Timeout:
                last = SignedAnswer(name, rdtype, Outcome.TIMEOUT, server=str(ns),
                                    detail=f"no answer within {client.timeout:g} s")
                continue
            except (dns.message.ShortHeader, dns.message.TrailingJunk, dns.exception.FormError,
                    dns.name.BadLabelType, dns.query.BadResponse, UnicodeError, ValueError) as exc:
                last = SignedAnswer(name, rdtype, Outcome.MALFORMED, server=str(ns),
                                    detail=f"{type(exc).__name__}: {exc}")
                malformed += 1
                if malformed >= len(client.nameservers):
                    return last
                continue
            except (ConnectionError, OSError, EOFError) as exc:
                last = SignedAnswer(name, rdtype, Outcome.ERROR, server=str(ns),
                                    detail=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
                continue
            rcode = resp.rcode()
            ad = bool(resp.flags & dns.flags.AD)
            if rcode == dns.rcode.SERVFAIL:
                return SignedAnswer(name, rdtype, Outcome.SERVFAIL, server=str(ns), tcp=tcp, ad=ad)
            if rcode == dns.rcode.REFUSED:
                return SignedAnswer(name, rdtype, Outcome.REFUSED, server=str(ns), tcp=tcp, ad=ad)
            if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                return SignedAnswer(name, rdtype, Outcome.ERROR, server=str(ns), tcp=tcp, ad=ad,
                                    detail=f"rcode {dns.rcode.to_text(rcode)}")
            if any(rr.name == qname and rr.rdtype in (rtype, dns.rdatatype.CNAME) for rr in resp.answer):
                outcome = Outcome.OK  # also an NXDOMAIN at the end of a CNAME: the CNAME is validated first
            elif rcode == dns.rcode.NXDOMAIN:
                outcome = Outcome.NXDOMAIN
            else:
                outcome = Outcome.NODATA
            return SignedAnswer(name, rdtype, outcome, answer=tuple(resp.answer),
                                authority=tuple(resp.authority), ad=ad, server=str(ns), tcp=tcp)
