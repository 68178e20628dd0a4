"""The readable terminal summary of a run: failures first, worst first, then what was not tested.

With a project (``audit --project``) the review layer applies, as in the report and the window:
severities are the effective ones (a reviewer's override, with the catalogue's beside it),
failures covered by an accepted risk are listed apart and not counted as open, and the totals
line is :func:`auditapp.core.review_layer.run_summary`, the numbers every other reader shows.
"""

from __future__ import annotations

from auditapp.catalog import catalog
from auditapp.catalog.wording import render_finding, render_reason, severity_label, status_label
from auditapp.core.model import Run, Status
from auditapp.core.review_layer import ReviewLayer, RunSummary, run_day, run_summary
from auditapp.core.validation import display_domain

HEAD = {
    "de": {"audit": "Audit", "resolver": "Resolver", "ips": "Sende-IPs", "none": "keine", "helo": "HELO",
           "failed": "Befunde", "not_tested": "Nicht getestet", "passed": "Bestanden", "na": "Nicht anwendbar",
           "fix": "Abhilfe", "background": "Rechtlicher Hintergrund", "why": "Hintergrund", "duration": "Dauer",
           "totals": "Summe", "open": "offen", "accepted": "akzeptiert", "accepted_list": "Akzeptierte Risiken",
           "catalog": "Katalog", "grade": "Gesamtnote", "not_assessed": "keine (nichts getestet)",
           "degraded": "Ergebnis ohne Aussagekraft",
           "services": "Maildienste", "hosted": "Mail-Betrieb: {name} (die Serverseite ist Sache des Anbieters)",
           "gateway": "Eingehende Mail über den Filterdienst {name}",
           "state.refused": "geschlossen", "state.timeout": "gefiltert (keine Antwort)",
           "state.unreachable": "nicht erreichbar", "state.error": "nicht geprüft"},
    "en": {"audit": "Audit", "resolver": "resolver", "ips": "Sending IPs", "none": "none", "helo": "HELO",
           "failed": "Findings", "not_tested": "Not tested", "passed": "Passed", "na": "Not applicable",
           "fix": "Fix", "background": "Legal background", "why": "Background", "duration": "duration",
           "totals": "Totals", "open": "open", "accepted": "accepted", "accepted_list": "Accepted risks",
           "catalog": "catalogue", "grade": "Overall grade", "not_assessed": "none (nothing tested)",
           "degraded": "No valid result",
           "services": "Mail services", "hosted": "Mail hosting: {name} (the server side is the provider's)",
           "gateway": "Inbound mail passes through the filtering service {name}",
           "state.refused": "closed", "state.timeout": "filtered (no answer)",
           "state.unreachable": "unreachable", "state.error": "not probed"},
}


def print_summary(run: Run, lang: str, verbose: bool = False, layer: ReviewLayer | None = None) -> None:
    """Print the run; ``layer`` is the project's review (none for ``audit DOMAIN``: the catalogue's view)."""
    h = HEAD[lang]
    cat = catalog()
    review = layer or ReviewLayer()
    day = run_day(run)
    t = run.target
    domain = t.get("domain", "")
    shown = display_domain(domain)
    name = f"{shown} ({domain})" if shown != domain else domain
    print(f"auditapp {run.tool_version} · {h['audit']} {name} · {h['resolver']} {run.resolver} · "
          f"{h['duration']} {run.duration_s:.2f} s")
    print(f"{h['ips']}: {', '.join(t.get('server_ips', [])) or h['none']}"
          + (f" · {h['helo']}: {t['helo']}" if t.get("helo") else ""))
    if run.degraded and run.degraded_reason is not None:
        print(f"{h['degraded'].upper()}: {render_reason(run.degraded_reason, lang, cat)}")
    hosting = run.inventory.get("hosting") or {}
    if hosting.get("hosted") and hosting.get("name"):
        print(h["gateway" if hosting.get("kind") == "gateway" else "hosted"].format(name=hosting["name"]))
    print_services(run, h)
    failed = [f for f in run.findings if f.status is Status.FAIL]
    accepted = [f for f in failed if review.acceptance_for(f, day) is not None]
    open_ = sorted((f for f in failed if review.acceptance_for(f, day) is None),
                   key=lambda f: (-review.effective_severity(f).rank, f.rule, f.subject))
    if open_:
        print(f"\n{h['failed']} ({len(open_)}):")
    for f in open_:
        severity = review.effective_severity(f)
        r = render_finding(f, lang, cat)
        label = severity_label(severity, lang).upper()
        if severity is not f.severity:
            label += f" ({h['catalog']}: {severity_label(f.severity, lang)})"
        print(f"  {label:<9} {f.rule:<26} {f.subject}")
        print(f"  {'':<9} {r['detail']}")
        if r["remediation"] and severity.rank >= 1:
            print(f"  {'':<9} {h['fix']}: {r['remediation']}")
        if r["category"] == "policy_legal":
            # Managers read the background next to the finding, not in an appendix; only rules with
            # legal background (catalog extra.legal) call it that.
            label = h["background"] if cat[f.rule].extra.get("legal") else h["why"]
            print(f"  {'':<9} {label}: {r['explanation']}")
    if accepted:
        print(f"\n{h['accepted_list']} ({len(accepted)}):")
        for f in accepted:
            print(f"  {f.rule:<26} {f.subject}: {review.acceptance_for(f, day).justification}")  # type: ignore[union-attr]
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
    print("\n" + totals_line(run_summary(run, review), lang))


def totals_line(s: RunSummary, lang: str) -> str:
    """The closing line: every count from :func:`run_summary` (open per effective severity, accepted, ...)."""
    h = HEAD[lang]
    severities = ", ".join(f"{n} {severity_label(sev, lang)}" for sev, n in s.open_by_severity.items() if n)
    parts = [
        (status_label(Status.PASS, lang), s.passed, ""),
        (h["open"], s.open, f" ({severities})" if severities else ""),
        (h["accepted"], s.accepted, ""),
        (status_label(Status.NOT_APPLICABLE, lang), s.not_applicable, ""),
        (status_label(Status.NOT_TESTED, lang), s.not_tested, ""),
        (status_label(Status.ERROR, lang), s.errors, ""),
    ]
    grade = h["not_assessed"] if s.worst_category is None else s.grade.value
    if s.degraded:
        grade += f" – {h['degraded']}"
    return (f"{h['totals']}: " + " · ".join(f"{label} {n}{extra}" for label, n, extra in parts if n)
            + f" · {h['grade']}: {grade}")


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
