"""An HTTPS MTA-STS policy server (RFC 8461) for the lab, on 127.0.0.8:8443.

Why our own tiny server instead of a real web server: the policy file is a few static lines
and nginx/Apache would add a dependency and seconds of start-up. What matters for the audit
is real: TLS with a certificate from the lab CA (names ``mta-sts.<domain>``), dispatch by
the ``Host`` header like a virtual-hosting web server, CRLF policy lines, ``text/plain``
and a 404 for a domain that publishes the ``_mta-sts`` TXT record but no policy.

Policies by domain:

* ``svc.test``    -- enforce, ``mx: mx.svc.test`` (matches its MX);
* ``wrongmx.test`` -- enforce, ``mx: other.example`` (its MX is mx.svc.test: mismatch);
* ``halfmx.test`` -- enforce, ``mx: mx.svc.test``, which covers one of its two MX hosts;
* ``badsvc.test`` and anything else -- 404.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lab.certs import CertPair

POLICY_PATH = "/.well-known/mta-sts.txt"


def policy_text(mx_patterns: list[str], mode: str = "enforce", max_age: int = 604800) -> str:
    """A policy file with CRLF line endings, as RFC 8461 section 3.2 specifies."""
    lines = ["version: STSv1", f"mode: {mode}", *(f"mx: {mx}" for mx in mx_patterns), f"max_age: {max_age}"]
    return "".join(f"{line}\r\n" for line in lines)


#: Policy domain -> policy file. Domains missing here answer 404.
POLICIES: dict[str, str] = {
    "svc.test": policy_text(["mx.svc.test"]),
    "wrongmx.test": policy_text(["other.example"]),
    "halfmx.test": policy_text(["mx.svc.test"]),
    # enforce mode over an MX whose certificate does not match: senders would refuse to deliver
    "stsbad.test": policy_text(["mx.wrongname.test"]),
}


#: Thunderbird autoconfig documents by host (the same web server answers for autoconfig.*).
AUTOCONFIG_PATH = "/mail/config-v1.1.xml"
AUTOCONFIG: dict[str, str] = {
    "autoconfig.autocfg.test": """<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="autocfg.test">
    <domain>autocfg.test</domain>
    <incomingServer type="imap"><hostname>imap.svc.test</hostname><port>993</port>
      <socketType>SSL</socketType><username>%EMAILADDRESS%</username></incomingServer>
    <outgoingServer type="smtp"><hostname>smtp.svc.test</hostname><port>465</port>
      <socketType>SSL</socketType><username>%EMAILADDRESS%</username></outgoingServer>
  </emailProvider>
</clientConfig>
""",
}


def policy_domain(host_header: str | None) -> str | None:
    """``mta-sts.svc.test:8443`` -> ``svc.test``; ``None`` when the host is not an mta-sts name."""
    if not host_header:
        return None
    host = host_header.strip().lower()
    if host.startswith("["):
        return None  # an IPv6 literal is never a policy host
    host = host.rsplit(":", 1)[0].rstrip(".")
    prefix = "mta-sts."
    return host[len(prefix):] if host.startswith(prefix) else None


class _PolicyHandler(BaseHTTPRequestHandler):
    server: _PolicyHTTPServer
    server_version = "auditapp-lab-mtasts/1"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, with_body: bool) -> None:
        domain = policy_domain(self.headers.get("Host"))
        path = self.path.split("?", 1)[0]
        policy = self.server.policies.get(domain or "") if path == POLICY_PATH else None
        self.server.requests.append((domain or "", self.path))
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        ctype = "text/plain"
        if path == AUTOCONFIG_PATH and host in AUTOCONFIG:
            body, status, ctype = AUTOCONFIG[host].encode(), HTTPStatus.OK, "application/xml"
        elif policy is None:
            body, status = b"no MTA-STS policy here\n", HTTPStatus.NOT_FOUND
        else:
            body, status = policy.encode("ascii"), HTTPStatus.OK
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if with_body:
            self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest output stays clean; ``server.requests`` records what was asked."""


class _PolicyHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, policies: Mapping[str, str]) -> None:
        super().__init__(address, _PolicyHandler)
        self.context = context
        self.policies = dict(policies)
        self.requests: list[tuple[str, str]] = []

    def finish_request(self, request: Any, client_address: Any) -> None:
        """TLS handshake in the per-connection thread, so a stalled client blocks nobody."""
        request.settimeout(10)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that rejects our certificate: nothing to serve
        try:
            super().finish_request(tls, client_address)
        finally:
            # The wrapper owns the file descriptor now; shutdown_request() only sees the
            # detached plain socket, so close the TLS socket here (no close_notify wait).
            tls.close()


class MtaStsServer:
    """The policy server; ``start()`` binds and serves in a daemon thread, ``stop()`` closes."""

    def __init__(self, cert: CertPair, host: str = "127.0.0.8", port: int = 8443,
                 policies: Mapping[str, str] | None = None) -> None:
        self.cert = cert
        self.host = host
        self.port = port
        self.policies = dict(POLICIES if policies is None else policies)
        self._server: _PolicyHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def requests(self) -> list[tuple[str, str]]:
        """``(policy domain, path)`` of every request served so far."""
        return self._server.requests if self._server is not None else []

    def start(self) -> MtaStsServer:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2  # RFC 8461 3.3: TLS as for any HTTPS
        context.load_cert_chain(str(self.cert.cert), str(self.cert.key))
        try:
            self._server = _PolicyHTTPServer((self.host, self.port), context, self.policies)
        except OSError as exc:
            raise OSError(f"MTA-STS server cannot listen on {self.host}:{self.port}: {exc}") from exc
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"mtasts-{self.host}:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> MtaStsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def fetch_policy(host: str, port: int, domain: str, context: ssl.SSLContext,
                 timeout: float = 5.0) -> tuple[int, str, str]:
    """GET the policy of ``domain`` from ``host:port`` with SNI and Host ``mta-sts.<domain>``.

    Returns ``(status, Content-Type, body)``. A test helper: a plain ``http.client`` call
    would need the name in DNS or a patched resolver.
    """
    import http.client

    name = f"mta-sts.{domain}"
    raw = socket.create_connection((host, port), timeout=timeout)
    conn = http.client.HTTPSConnection(name, port, timeout=timeout, context=context)
    conn.sock = context.wrap_socket(raw, server_hostname=name)
    try:
        conn.request("GET", POLICY_PATH, headers={"Host": name})
        resp = conn.getresponse()
        body = resp.read().decode("ascii", "replace")
        return resp.status, resp.getheader("Content-Type", ""), body
    finally:
        conn.close()
