"""Fetch and parse the MTA-STS policy (RFC 8461 §3.2, §3.3) over validated HTTPS.

A small HTTP/1.1 client on asyncio streams rather than a dependency: the policy fetch has
rules of its own (no redirects, a valid certificate for ``mta-sts.DOMAIN``, at most 64 KB,
``text/plain``), and the address must come from the audit's resolver, not the system's.
"""

from __future__ import annotations

import asyncio
import re
import ssl

from auditapp.collectors.https import https_get, make_context
from auditapp.collectors.netguard import blocked
from auditapp.collectors.service_facts import MtaStsPolicy
from auditapp.core.problem import Problem, joined, labelled
from auditapp.core.text import ascii_digits
from auditapp.dnsclient import DnsClient

#: RFC 8461 §3.2: a policy larger than this is invalid; senders stop reading.
MAX_POLICY_BYTES = 64 * 1024
#: RFC 8461 §3.2: max_age up to 31557600 seconds (about a year).
MAX_AGE_LIMIT = 31_557_600


def parse_policy(text: str) -> tuple[dict[str, str], list[str], list[str]]:
    """Return (fields, mx patterns, errors) of a policy body."""
    fields: dict[str, str] = {}
    mx: list[str] = []
    errors: list[str] = []
    if len(text.encode("utf-8", "replace")) > MAX_POLICY_BYTES:
        return fields, mx, [f"the policy is larger than {MAX_POLICY_BYTES} bytes (RFC 8461 §3.2); not read"]
    for raw in re.split(r"\r?\n", text):
        line = raw.strip()
        if not line:
            continue
        if ":" not in line:
            errors.append(f"line {line[:60]!r} is not 'key: value'")
            continue
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "mx":
            mx.append(value.lower())
        elif key in fields:
            errors.append(f"field {key!r} appears twice")
        else:
            fields[key] = value
    if fields.get("version") != "STSv1":
        errors.append("version must be STSv1")
    mode = fields.get("mode", "")
    if mode not in ("enforce", "testing", "none"):
        errors.append(f"mode {mode!r} must be enforce, testing or none")
    age = fields.get("max_age", "")
    if not ascii_digits(age) or int(age) > MAX_AGE_LIMIT:
        errors.append(f"max_age {age!r} must be a number of seconds up to {MAX_AGE_LIMIT}")
    if mode in ("enforce", "testing") and not mx:
        errors.append("no mx patterns")
    for pattern in mx:
        if not re.fullmatch(r"(\*\.)?[a-z0-9_.-]+", pattern):
            errors.append(f"mx pattern {pattern!r} is malformed")
    return fields, mx, errors


async def fetch_policy(dns: DnsClient, domain: str, port: int, timeout: float, ca_file: str | None,
                       allow_internal: bool = False) -> MtaStsPolicy:
    host = f"mta-sts.{domain}"
    url = f"https://{host}/.well-known/mta-sts.txt"
    a, aaaa = await dns.addresses(host)
    addresses = list(a.records) + list(aaaa.records)
    if not addresses:
        failure = a if a.outcome.is_failure else aaaa if aaaa.outcome.is_failure else None
        why = failure.reason if failure else f"{host} has no A/AAAA record"
        return MtaStsPolicy(url=url, fetched=False, problem=why, dns_failure=failure)
    try:
        context = make_context(ca_file)
    except (OSError, ssl.SSLError) as exc:
        return MtaStsPolicy(url=url, fetched=False, local_error=Problem(
            "problem.trust_anchors", "the trust anchors could not be loaded: {error}", error=str(exc)))
    problems = []
    timeouts = 0
    for address in addresses:
        why = blocked(address, allow_internal=allow_internal)
        if why:
            return MtaStsPolicy(url=url, fetched=False, local_error=why)
        try:
            status, headers, body = await asyncio.wait_for(https_get(
                address, port, host, "/.well-known/mta-sts.txt", context, MAX_POLICY_BYTES), timeout)
        except TimeoutError:
            timeouts += 1
            problems.append(labelled(f"{address}:{port}", Problem(
                "problem.no_answer", "no answer within {seconds} s", seconds=f"{timeout:g}")))
            continue
        except ssl.SSLCertVerificationError as exc:
            problems.append(f"{address}:{port}: certificate not valid for {host}: {exc.verify_message}")
            continue
        except (OSError, ssl.SSLError, ValueError, asyncio.IncompleteReadError) as exc:
            problems.append(f"{address}:{port}: {type(exc).__name__}: {exc}")
            continue
        if status != 200:
            # RFC 8461 §3.3: only 200 counts, redirects must not be followed.
            return MtaStsPolicy(url=url, fetched=False, status=status, problem=f"HTTP status {status}")
        ctype = headers.get("content-type", "")
        text = body.decode("utf-8", "replace")
        fields, mx, errors = parse_policy(text)
        if not ctype.lower().startswith("text/plain"):
            errors.insert(0, f"Content-Type is {ctype or 'missing'}, not text/plain")
        age = fields.get("max_age", "")
        return MtaStsPolicy(
            url=url, fetched=True, status=status, text=text[:2000], version=fields.get("version", ""),
            mode=fields.get("mode", ""), mx_patterns=tuple(mx), max_age=int(age) if ascii_digits(age) else None,
            errors=tuple(errors),
        )
    return MtaStsPolicy(url=url, fetched=False, problem=joined(problems), silent=timeouts == len(addresses))
