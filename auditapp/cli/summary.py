"""The readable terminal summary of a run: failures first, worst first, then what was not tested."""

from __future__ import annotations

from auditapp.catalog import catalog
from auditapp.catalog.wording import render_finding, severity_label, status_label, summarize
from auditapp.core.model import Run, Status
from auditapp.core.validation import display_domain

HEAD = {
    "de": {"audit": "Audit", "resolver": "Resolver", "ips": "Sende-IPs", "none": "keine", "helo": "HELO",
           "failed": "Befunde", "not_tested": "Nicht getestet", "passed": "Bestanden", "na": "Nicht anwendbar",
           "fix": "Abhilfe", "background": "Rechtlicher Hintergrund", "why": "Hintergrund", "duration": "Dauer",
           "totals": "Summe",
           "services": "Maildienste", "hosted": "Mail-Betrieb: {name} (die Serverseite ist Sache des Anbieters)",
           "gateway": "Eingehende Mail über den Filterdienst {name}",
           "state.refused": "geschlossen", "state.timeout": "gefiltert (keine Antwort)",
           "state.unreachable": "nicht erreichbar", "state.error": "nicht geprüft"},
    "en": {"audit": "Audit", "resolver": "resolver", "ips": "Sending IPs", "none": "none", "helo": "HELO",
           "failed": "Findings", "not_tested": "Not tested", "passed": "Passed", "na": "Not applicable",
           "fix": "Fix", "background": "Legal background", "why": "Background", "duration": "duration",
           "totals": "Totals",
           "services": "Mail services", "hosted": "Mail hosting: {name} (the server side is the provider's)",
           "gateway": "Inbound mail passes through the filtering service {name}",
           "state.refused": "closed", "state.timeout": "filtered (no answer)",
           "state.unreachable": "unreachable", "state.error": "not probed"},
}


def print_summary(run: Run, lang: str, verbose: bool = False) -> None:
    h = HEAD[lang]
    cat = catalog()
    t = run.target
    domain = t.get("domain", "")
    shown = display_domain(domain)
    name = f"{shown} ({domain})" if shown != domain else domain
    print(f"auditapp {run.tool_version} · {h['audit']} {name} · {h['resolver']} {run.resolver} · "
          f"{h['duration']} {run.duration_s:.2f} s")
    print(f"{h['ips']}: {', '.join(t.get('server_ips', [])) or h['none']}"
          + (f" · {h['helo']}: {t['helo']}" if t.get("helo") else ""))
    hosting = run.inventory.get("hosting") or {}
    if hosting.get("hosted") and hosting.get("name"):
        print(h["gateway" if hosting.get("kind") == "gateway" else "hosted"].format(name=hosting["name"]))
    print_services(run, h)
    failed = sorted((f for f in run.findings if f.status is Status.FAIL),
                    key=lambda f: (-f.severity.rank, f.rule, f.subject))
    if failed:
        print(f"\n{h['failed']} ({len(failed)}):")
    for f in failed:
        r = render_finding(f, lang, cat)
        print(f"  {severity_label(f.severity, lang).upper():<9} {f.rule:<26} {f.subject}")
        print(f"  {'':<9} {r['detail']}")
        if r["remediation"] and f.severity.rank >= 1:
            print(f"  {'':<9} {h['fix']}: {r['remediation']}")
        if r["category"] == "policy_legal":
            # Managers read the background next to the finding, not in an appendix; only rules with
            # legal background (catalog extra.legal) call it that.
            label = h["background"] if cat[f.rule].extra.get("legal") else h["why"]
            print(f"  {'':<9} {label}: {r['explanation']}")
    untested = [f for f in run.findings if f.status in (Status.NOT_TESTED, Status.ERROR)]
    if untested:
        print(f"\n{h['not_tested']} ({len(untested)}):")
        for f in untested:
            r = render_finding(f, lang, cat)
            print(f"  {f.rule:<26} {f.subject}: {r['reason']}")
    if verbose:
        for label, status in ((h["passed"], Status.PASS), (h["na"], Status.NOT_APPLICABLE)):
            items = [f for f in run.findings if f.status is status]
            if items:
                print(f"\n{label} ({len(items)}):")
                for f in items:
                    print(f"  {f.rule:<26} {f.subject}: {render_finding(f, lang, cat)['detail']}")
    s = summarize(run.findings)
    counts = ", ".join(f"{n} {severity_label(sev, lang)}" for sev, n in
                       ((sev, s["failed_by_severity"][sev.value]) for sev in _severities()) if n)
    print(f"\n{h['totals']}: " + " · ".join(
        f"{status_label(st, lang)} {s['by_status'][st.value]}" for st in Status if s["by_status"][st.value]
    ) + (f" ({counts})" if counts else ""))


def print_services(run: Run, h: dict[str, str]) -> None:
    """Hosts (with where each came from) and what every endpoint showed."""
    hosts = run.inventory.get("hosts", [])
    endpoints = run.inventory.get("endpoints", [])
    if not hosts:
        return
    print(f"\n{h['services']}:")
    for host in hosts:
        print(f"  {host['name']:<28} {', '.join(host['addresses']) or '-':<18} {'; '.join(host['sources'])}")
    closed: dict[tuple[str, str], list[str]] = {}
    for e in endpoints:
        if e["state"] != "open":
            closed.setdefault((e["address"], e["state"]), []).append(str(e["port"]))
            continue
        extra = " ".join(filter(None, [
            e.get("tls", "no TLS" if e["service"] not in ("submissions", "imaps", "pop3s") else ""),
            f"{e['greeting_ms']} ms" if "greeting_ms" in e else "",
            e.get("problem", ""),
        ]))
        print(f"    {e['address']:<16} {e['port']:>5} {e['service']:<12} {extra}")
    for (address, state), ports in closed.items():
        print(f"    {address:<16} {h.get('state.' + state, state)}: {' '.join(ports)}")


def _severities() -> list:
    from auditapp.core.model import Severity

    return list(Severity)
