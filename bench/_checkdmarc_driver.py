"""Runs checkdmarc's Python API over a domain list, DNS only, loopback only; prints one JSON line.

Used by :mod:`bench.bench_batch` as a subprocess so its memory, start-up and module-global
caches are its own. Why the patches:

* checkdmarc has no switch to skip the MTA-STS policy download (an HTTPS GET of
  ``https://mta-sts.<domain>/``) or the BIMI image download; both are network tests that are
  not DNS, and resolving those host names would go to the system resolver, off loopback.
  ``download_mta_sts_policy`` is replaced by one that fails at once ("policy not
  downloaded"), and ``socket.getaddrinfo`` refuses every name that is not a loopback literal,
  so nothing can leave the machine even through a path this script did not foresee;
* SMTP/TLS tests are off by default (``check_mx_tls=False``, checkdmarc >= 6).

Everything checkdmarc does over DNS (SOA, NS, DNSSEC, MX and their PTRs, SPF, DMARC,
TLS-RPT, MTA-STS record, BIMI record) is left as it is.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import sys
import time
from typing import Any

_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        if host is None or ipaddress.ip_address(str(host)).is_loopback:
            return _real_getaddrinfo(host, *args, **kwargs)
    except ValueError:
        pass
    raise socket.gaierror(socket.EAI_NONAME, f"bench: {host!r} is not resolved (loopback only)")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--nameserver", default="127.0.0.1")
    p.add_argument("--timeout", type=float, default=2.0)
    args = p.parse_args(argv)
    socket.getaddrinfo = _loopback_only  # type: ignore[assignment]

    t_import = time.perf_counter()
    import checkdmarc
    import checkdmarc.mta_sts as mta_sts

    def no_download(domain: str, **_kw: Any) -> Any:
        raise mta_sts.MTASTSPolicyDownloadError("policy not downloaded (benchmark: DNS only)")

    mta_sts.download_mta_sts_policy = no_download  # type: ignore[assignment]
    with open(args.file, encoding="utf-8") as fh:
        domains = [s for line in fh if (s := line.split("#", 1)[0].strip())]
    t0 = time.perf_counter()
    results = checkdmarc.check_domains(domains, nameservers=[args.nameserver], timeout=args.timeout,
                                       check_mx_tls=False)
    elapsed = time.perf_counter() - t0
    if isinstance(results, dict):
        results = [results]
    spf_ok = sum(1 for r in results if r["spf"].get("valid"))
    dmarc_ok = sum(1 for r in results if r["dmarc"].get("valid"))
    print(json.dumps({"domains": len(results), "elapsed": elapsed, "import": t0 - t_import,
                      "spf_valid": spf_ok, "dmarc_valid": dmarc_ok,
                      "version": getattr(checkdmarc, "__version__", "?")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
