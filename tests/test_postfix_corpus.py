"""The PF-* rules on real configurations of public mail stacks and distributions (tests/corpus/postfix/).

Our own fixtures only prove what we thought of. These twelve configurations were written by
other people for real installations (docker-mailserver, mailcow, Mailu, iRedMail, Mail-in-a-Box,
Modoboa, Proxmox Mail Gateway, Sovereign, Debian, upstream Postfix); SOURCES.toml records where
each comes from. The tests check that

* our parser reads each one as the real ``postconf`` does (recorded ``postconf -n/-M/-P``),
* the verdicts a German mail administrator judged right stay right (issue 11's review),
* every printed fix is safe: it names only transports master.cf defines, never drops a milter,
  and, pasted into a copy of the configuration with the real ``postconf``, makes the finding go away.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditapp.catalog import catalog
from auditapp.checks import registered
from auditapp.checks.registry import run_check
from auditapp.collectors.facts import Facts
from auditapp.core.model import Finding, Severity, Status
from auditapp.core.target import AuditTarget
from auditapp.postfix import PostfixConfig, load_for_audit, parse_postfix_text
from auditapp.postfix.analysis import milter_list

CORPUS = Path(__file__).parent / "corpus" / "postfix"
NAMES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
POSTCONF = shutil.which("postconf") or next(
    (p for p in ("/usr/sbin/postconf", "/usr/bin/postconf") if Path(p).exists()), None)
PF_RULES = sorted(r for r in registered() if r.startswith("PF-"))
SERVICE_RULES = ("PF-OPEN-RELAY-CONFIG", "PF-SUBMISSION-NO-AUTH", "PF-AUTH-ON-PORT25", "PF-AUTH-WITHOUT-TLS",
                 "PF-NO-OUTBOUND-FILTER", "PF-PREQUEUE-FOR-AUTH", "PF-INBOUND-TLS", "PF-TLS-PROTOCOLS", "PF-SMUGGLING",
                 "PF-OWN-DOMAIN-SENDER-REJECT", "PF-BACKSCATTER", "PF-ETRN")


def load(name: str) -> PostfixConfig:
    cfg = load_for_audit(CORPUS / name)
    assert isinstance(cfg, PostfixConfig), cfg
    return cfg


def pasted(name: str, *parts: str) -> PostfixConfig:
    return parse_postfix_text("\n".join((CORPUS / name / f"postconf-{p}.txt").read_text("utf-8") for p in parts))


def results(cfg: PostfixConfig, rules: tuple[str, ...] | list[str] = PF_RULES) -> list[Finding]:
    facts = Facts(postfix=cfg, done={"postfix"})
    out: list[Finding] = []
    for rule in rules:
        out += run_check(registered()[rule], catalog(), facts, AuditTarget(domain="example.org"))
    return out


def of(found: list[Finding], rule: str, subject: str) -> Finding:
    hits = [f for f in found if f.rule == rule and f.subject == subject]
    assert len(hits) == 1, (rule, subject, [(f.subject, f.status.value, f.outcome) for f in found if f.rule == rule])
    return hits[0]


# -- provenance ---------------------------------------------------------------------------------

def test_every_configuration_has_its_source_commit_and_licence() -> None:
    sources = tomllib.loads((CORPUS / "SOURCES.toml").read_text("utf-8"))
    assert set(sources) == set(NAMES) and len(NAMES) >= 8
    for name, entry in sources.items():
        assert entry["repository"] and entry["commit"] and entry["licence"] and entry["description"], name
        assert any(p.name.startswith("LICENSE") for p in (CORPUS / name).iterdir()), name
        for f in ("main.cf", "master.cf", "postconf-n.txt", "postconf-M.txt", "postconf-P.txt"):
            assert (CORPUS / name / f).is_file(), (name, f)


# -- the parser against the real postconf ---------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_explicit_settings_equal_the_real_postconf_n(name: str) -> None:
    cfg = load(name)
    for line in (CORPUS / name / "postconf-n.txt").read_text("utf-8").splitlines():
        key, sep, value = line.partition("=")
        if not sep or key.strip() == "config_directory":  # postconf -c DIR reports DIR as set
            continue
        assert " ".join(cfg.get(key.strip()).value.split()) == " ".join(value.split()), (name, key)


@pytest.mark.parametrize("name", NAMES)
def test_services_and_overrides_equal_the_real_postconf_m_and_p(name: str) -> None:
    cfg = load(name)
    ours = {(s.name, s.type) for s in cfg.services}
    theirs = {tuple(line.split()[:2]) for line in (CORPUS / name / "postconf-M.txt").read_text("utf-8").splitlines()
              if line.strip()}
    assert ours == theirs, name
    for line in (CORPUS / name / "postconf-P.txt").read_text("utf-8").splitlines():
        key, _, value = line.partition("=")
        service, type_, param = key.strip().split("/")
        svc = cfg.service(service, type_)
        assert svc is not None and " ".join(svc.overrides[param].value.split()) == " ".join(value.split()), line


@pytest.mark.parametrize("name", NAMES)
def test_directory_and_pasted_postconf_output_give_the_same_verdicts(name: str) -> None:
    def key(f: Finding) -> tuple[str, str, str, str]:
        return f.rule, f.subject, f.status.value, f.outcome

    assert sorted(map(key, results(load(name)))) == sorted(map(key, results(pasted(name, "n", "M", "P"))))


@pytest.mark.parametrize("name", NAMES)
def test_postconf_p_without_m_leaves_the_services_not_tested(name: str) -> None:
    """Issue 11: -n and -P without -M say nothing about the services; no rule may pretend they are absent."""
    found = results(pasted(name, "n", "P"), SERVICE_RULES)
    for f in found:
        assert f.status is Status.NOT_TESTED, (f.rule, f.status, f.outcome)
        assert f.reason is not None and f.reason.params.get("what") == "why.no_master_m", f.reason


# -- verdicts judged by hand (issue 11 review of the corpus) ---------------------------------------

# (config, rule, subject, status, outcome); subjects name the master.cf service.
P, F, NA, NT = Status.PASS, Status.FAIL, Status.NOT_APPLICABLE, Status.NOT_TESTED
JUDGED = [
    # rspamd (or any milter) on submission is the outbound filter and the DKIM signer: never a finding.
    ("dms-rspamd", "PF-PREQUEUE-FOR-AUTH", "postfix:submission/inet", P, "pass"),
    ("dms-rspamd", "PF-NO-OUTBOUND-FILTER", "postfix:submission/inet", P, "pass"),
    ("mailcow", "PF-PREQUEUE-FOR-AUTH", "postfix:submission/inet", P, "pass"),
    ("mailu", "PF-PREQUEUE-FOR-AUTH", "postfix:10025/inet", P, "pass"),
    ("sovereign", "PF-PREQUEUE-FOR-AUTH", "postfix:submission/inet", P, "pass"),
    ("modoboa-rspamd", "PF-PREQUEUE-FOR-AUTH", "postfix:submission/inet", P, "pass"),
    # A real before-queue proxy on submission stays a (low) finding.
    ("modoboa", "PF-PREQUEUE-FOR-AUTH", "postfix:submission/inet", F, "proxy"),
    # AUTH on port 25: its own finding; inbound filtering there is right.
    ("modoboa", "PF-AUTH-ON-PORT25", "postfix:smtpd/pass", F, "offered"),
    ("modoboa-rspamd", "PF-AUTH-ON-PORT25", "postfix:smtp/inet", F, "offered"),
    ("sovereign", "PF-AUTH-ON-PORT25", "postfix:smtpd/pass", F, "offered"),
    ("dms", "PF-AUTH-ON-PORT25", "postfix:smtpd/pass", P, "pass"),
    # Internal ports are not submission paths.
    ("mailcow", "PF-AUTH-WITHOUT-TLS", "postfix:590/inet", NA, "internal"),
    ("mailcow", "PF-AUTH-WITHOUT-TLS", "postfix:591/inet", NA, "internal"),
    ("mailcow", "PF-AUTH-WITHOUT-TLS", "postfix:588/inet", F, "auth_in_clear_other"),
    ("modoboa", "PF-AUTH-WITHOUT-TLS", "postfix:127.0.0.1:10025/inet", NA, "internal"),
    # Behind XCLIENT (Mailu's nginx terminates STARTTLS): Postfix's own TLS says nothing.
    ("mailu", "PF-INBOUND-TLS", "postfix:smtp/inet", NT, "not_tested"),
    ("mailu", "PF-AUTH-WITHOUT-TLS", "postfix:10025/inet", NT, "not_tested"),
    # Severity follows effect: unauthenticated submission that cannot relay is high, not critical.
    ("mailinabox", "PF-SUBMISSION-NO-AUTH", "postfix:submission/inet", F, "no_auth_local"),
    ("mailinabox", "PF-NO-OUTBOUND-FILTER", "postfix:submission/inet", F, "signing_only"),
    ("iredmail", "PF-NO-OUTBOUND-FILTER", "postfix:submission/inet", P, "pass"),
    # One main.cf line, one finding (mailcow's mynetworks_style = subnet, nine services).
    ("mailcow", "PF-OPEN-RELAY-CONFIG", "postfix", F, "style_subnet"),
    ("debian-bookworm", "PF-OPEN-RELAY-CONFIG", "postfix:smtp/inet", P, "pass"),
    ("postfix-upstream", "PF-INBOUND-TLS", "postfix:smtp/inet", F, "off"),
    # Second review (issue 11): recipient verification and fast-flush domains.
    ("modoboa", "PF-BACKSCATTER", "postfix:smtpd/pass", P, "pass"),
    ("modoboa-rspamd", "PF-BACKSCATTER", "postfix:smtp/inet", P, "pass"),
    ("debian-bookworm", "PF-ETRN", "postfix:smtp/inet", P, "no_effect"),
    ("mailu", "PF-TLS-PROTOCOLS", "postfix:smtp/inet", NT, "not_tested"),
    ("debian-bookworm", "PF-INBOUND-TLS", "postfix:smtp/inet", P, "pass"),
]


@pytest.mark.parametrize(("name", "rule", "subject", "status", "outcome"), JUDGED,
                         ids=[f"{j[0]}:{j[1]}:{j[2]}" for j in JUDGED])
def test_judged_verdicts(name: str, rule: str, subject: str, status: Status, outcome: str) -> None:
    f = of(results(load(name), [rule]), rule, subject)
    assert (f.status, f.outcome) == (status, outcome), f


def test_internal_and_unused_services_get_no_filter_or_prequeue_verdict() -> None:
    """mailcow's 589-591 (mynetworks only) and Modoboa's unused smtpd/pass are no client paths."""
    found = results(load("mailcow"), ["PF-NO-OUTBOUND-FILTER", "PF-PREQUEUE-FOR-AUTH"])
    assert not {f.subject for f in found} & {"postfix:589/inet", "postfix:590/inet", "postfix:591/inet"}
    found = results(load("modoboa-rspamd"), ["PF-PREQUEUE-FOR-AUTH", "PF-AUTH-ON-PORT25", "PF-INBOUND-TLS"])
    assert "postfix:smtpd/pass" not in {f.subject for f in found}


def test_filter_transport_is_not_an_outbound_path() -> None:
    """docker-mailserver's smtp-amavis (TLS off on purpose, loopback to amavis) is no Internet delivery."""
    assert "postfix:smtp-amavis/unix" not in {f.subject for f in results(load("dms"), ["PF-OUTBOUND-TLS"])}


def test_no_corpus_configuration_gets_a_high_finding_for_a_milter_on_submission() -> None:
    for name in NAMES:
        for f in results(load(name), ["PF-PREQUEUE-FOR-AUTH"]):
            assert f.status is not Status.FAIL or f.outcome == "proxy", (name, f)
            assert f.severity.rank <= Severity.LOW.rank


# -- safe remediations ----------------------------------------------------------------------------

def _fix_commands(f: Finding) -> list[str]:
    fix = f.params.get("fix")
    text = fix if isinstance(fix, str) else ""
    return [c.strip() for c in text.split(";") if c.strip().startswith("postconf ")]


@pytest.mark.parametrize("name", NAMES)
def test_fixes_never_drop_a_milter_or_name_an_undefined_transport(name: str) -> None:
    cfg = load(name)
    defined = {s.name for s in cfg.services if s.type == "unix"}
    for f in results(cfg):
        if f.status is not Status.FAIL:
            continue
        fix = f.params.get("fix")
        texts = [fix[lang] for lang in ("de", "en")] if isinstance(fix, dict) else [str(fix)]
        for text in texts:
            for word in shlex.split(text.replace("'", " ' ").replace("(", " ").replace(")", " "), posix=False):
                if "/content_filter=" in word or word.startswith("content_filter"):
                    transport = word.split("=", 1)[1].split(":", 1)[0]
                    # Only a transport master.cf defines, or one whose whole stanza the finding shows.
                    stanza = str(f.params.get("stanza", ""))
                    assert transport in defined or f"{transport} unix" in stanza, (name, f.rule, word)
        for command in _fix_commands(f):
            for arg in shlex.split(command)[2:]:
                key, _, value = arg.partition("=")
                if key.endswith("/smtpd_milters"):
                    service, type_ = key.split("/")[:2]
                    svc = cfg.service(service, type_)
                    before = set(milter_list(svc.effective("smtpd_milters").expanded)) if svc else set()
                    assert before <= set(milter_list(value)), (name, f.rule, command)


def _copy(name: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix="pf-corpus-", dir="/tmp"))
    d.chmod(0o755)
    for f in ("main.cf", "master.cf"):
        shutil.copy(CORPUS / name / f, d / f)
    past = time.time() - 60  # postconf waits for a just-written main.cf to age a little
    for f in ("main.cf", "master.cf"):
        os.utime(d / f, (past, past))
    return d


@pytest.fixture
def postconf() -> Iterator[str]:
    if POSTCONF is None:
        if os.environ.get("CI"):
            pytest.fail("postconf is not installed; CI must install Postfix")
        pytest.skip("postconf is not installed")
    yield POSTCONF


@pytest.mark.parametrize("name", NAMES)
def test_pasted_fixes_are_accepted_by_postconf_and_remove_the_finding(name: str, postconf: str) -> None:
    """Every fix command, run with the real postconf on a copy, works, and the finding is gone afterwards."""
    for f in results(load(name)):
        commands = _fix_commands(f)
        if f.status is not Status.FAIL or not commands or f.severity is Severity.INFO:
            continue
        d = _copy(name)
        try:
            for command in commands:
                args = shlex.split(command)
                run = subprocess.run([postconf, "-c", str(d), *args[1:]], capture_output=True, text=True, timeout=30)
                assert run.returncode == 0, (name, f.rule, command, run.stderr)
            after = [g for g in results(load_for_audit(d), [f.rule])
                     if g.subject == f.subject and g.status is Status.FAIL and g.outcome == f.outcome]
            assert not after, (name, f.rule, f.subject, commands)
        finally:
            shutil.rmtree(d, ignore_errors=True)
