"""The Postfix parser against the real ``postconf`` of the installed Postfix.

Each test writes a configuration directory, runs ``postconf -c DIR -n/-M/-P`` on it, and
checks that importing the raw files and importing postconf's output give the same effective
values for every parameter the checks read, and the same services and overrides. Without
``postconf`` the tests are skipped locally and fail in CI (where Postfix is installed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditapp.postfix import (
    PostfixConfig,
    PostfixConfigError,
    PostfixLoadFailure,
    load_for_audit,
    load_postfix_config,
    parse_postfix_text,
)
from auditapp.postfix.defaults import default_for, known_names, parse_time

POSTCONF = shutil.which("postconf") or next(
    (p for p in ("/usr/sbin/postconf", "/usr/bin/postconf") if Path(p).exists()), None)

#: Every parameter the PF-* checks read.
CHECKED = (
    "maximal_queue_lifetime", "bounce_queue_lifetime", "delay_warning_time", "compatibility_level",
    "smtputf8_enable", "smtp_helo_name", "myhostname", "mydomain", "mynetworks", "mynetworks_style",
    "smtpd_relay_restrictions", "smtpd_recipient_restrictions", "smtpd_client_restrictions",
    "smtpd_helo_restrictions", "smtpd_sender_restrictions", "smtpd_sasl_auth_enable", "smtpd_tls_auth_only",
    "smtpd_tls_security_level", "smtpd_tls_wrappermode", "smtpd_use_tls", "smtpd_enforce_tls",
    "smtpd_tls_protocols", "smtpd_tls_mandatory_protocols", "smtpd_tls_cert_file", "smtpd_tls_chain_files",
    "smtpd_tls_eccert_file", "content_filter", "smtpd_milters", "non_smtpd_milters", "smtpd_proxy_filter",
    "receive_override_options", "smtpd_forbid_bare_newline", "smtp_tls_security_level", "smtp_use_tls",
    "smtp_enforce_tls", "syslog_name", "mail_version",
)

MAIN_CF = """\
# A main.cf with the syntax corners Postfix allows.
compatibility_level = 3.6
myhostname = mail.example.test
mydomain = example.test
   # an indented comment inside nothing
smtp_helo_name = $myhostname
smtpd_banner = ${myhostname} ESMTP $(mail_name)
relay_domains = ${mydomain?{$mydomain}} $$literal

smtpd_relay_restrictions = permit_mynetworks,
    # a comment inside a continuation does not end it
    permit_sasl_authenticated,

\treject_unauth_destination
mynetworks = 127.0.0.0/8, [::1]/128
    192.0.2.0/28
maximal_queue_lifetime = 3d
bounce_queue_lifetime=1d
delay_warning_time = 4h
smtpd_tls_security_level = may
smtpd_tls_cert_file = /etc/ssl/mail.pem
smtpd_tls_key_file = $smtpd_tls_cert_file
smtpd_milters = inet:127.0.0.1:8891
mua_client_restrictions = permit_sasl_authenticated, reject
smtpd_sasl_auth_enable = no
smtpd_sasl_auth_enable = no
"""

MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
smtp      inet  n       -       y       -       -       smtpd
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o { smtpd_client_restrictions = $mua_client_restrictions }
  -o smtpd_milters=inet:127.0.0.1:8891,inet:127.0.0.1:11332
# implicit TLS on 465, with the brace form and a value with spaces
submissions inet n      -       y       -       -       smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o { smtpd_relay_restrictions = permit_sasl_authenticated, reject }
  -o smtpd_sasl_auth_enable=yes
127.0.0.1:10025 inet n  -       n       -       -       smtpd
  -o content_filter= -o receive_override_options=no_milters
  -o mynetworks=127.0.0.0/8
[::1]:2587 inet n - n - - smtpd -vomy_name=1
  -o smtpd_proxy_filter=127.0.0.1:10027
pickup    unix  n       -       y       60      1       pickup
cleanup   unix  n       -       y       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       y       1000?   1       tlsmgr
smtp      unix  -       -       y       -       -       smtp
relay     unix  -       -       y       -       -       smtp
  -o smtp_helo_name=relay.example.test
  -o smtp_tls_security_level=encrypt
policy    unix  -       n       n       -       0       spawn
  user=nobody argv=/usr/bin/true { -a b }
"""


def _need_postconf() -> str:
    if POSTCONF is None:
        if os.environ.get("CI"):
            pytest.fail("postconf is not installed; CI must install Postfix (see lab-servers.md §9)")
        pytest.skip("postconf is not installed")
    return POSTCONF


@pytest.fixture
def confdir() -> Iterator[Path]:
    # Not pytest's tmp_path: postconf may run checks as the postfix user (lab-servers.md §1).
    d = Path(tempfile.mkdtemp(prefix="pf-parser-", dir="/tmp"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def write(d: Path, main: str, master: str | None = MASTER_CF) -> Path:
    (d / "main.cf").write_text(main, encoding="utf-8")
    if master is not None:
        (d / "master.cf").write_text(master, encoding="utf-8")
    # postconf waits (in 0.3 s steps) until a just-written main.cf is a moment old; backdate it.
    past = time.time() - 60
    for name in ("main.cf", "master.cf"):
        if (d / name).exists():
            os.utime(d / name, (past, past))
    return d


def postconf(d: Path, *args: str) -> str:
    out = subprocess.run([_need_postconf(), "-c", str(d), *args], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


def norm(value: str) -> str:
    """postconf prints values with whitespace collapsed; compare that way."""
    return " ".join(value.split())


def line_of(text: str, prefix: str, last: bool = False) -> int:
    numbers = [i for i, line in enumerate(text.split("\n"), start=1) if line.startswith(prefix)]
    return numbers[-1] if last else numbers[0]


def effective_values(cfg: PostfixConfig) -> dict[str, str]:
    values = {f"main:{n}": norm(cfg.get(n).expanded) for n in CHECKED}
    for svc in cfg.services:
        for n in CHECKED:
            values[f"{svc.key}:{n}"] = norm(svc.effective(n).expanded)
    return values


def services_of(cfg: PostfixConfig) -> list[tuple[str, str, str, dict[str, str]]]:
    return [(s.key, s.command, " ".join(s.args) if not s.overrides else "",
             {k: norm(v.value) for k, v in s.overrides.items()}) for s in cfg.services]


SEED_DEMO = Path(__file__).parent / "fixtures" / "postfix" / "seed-demo"
CONFIGS = {
    "corners": (MAIN_CF, MASTER_CF),
    "seed-demo": ((SEED_DEMO / "main.cf").read_text("utf-8"), (SEED_DEMO / "master.cf").read_text("utf-8")),
}


@pytest.mark.parametrize("which", sorted(CONFIGS))
def test_raw_files_and_postconf_output_agree(confdir: Path, which: str) -> None:
    write(confdir, *CONFIGS[which])
    from_files = load_postfix_config(confdir)
    text = postconf(confdir, "-n") + postconf(confdir, "-M") + postconf(confdir, "-P")
    from_output = parse_postfix_text(text)
    assert effective_values(from_files) == effective_values(from_output)
    assert services_of(from_files) == services_of(from_output)
    assert from_files.has_master and from_output.has_master


def test_folded_postconf_output_agrees_too(confdir: Path) -> None:
    """``postconf -nf`` / ``-Mf`` fold long lines into continuation lines."""
    write(confdir, MAIN_CF)
    text = postconf(confdir, "-nf") + postconf(confdir, "-Mf")
    folded = parse_postfix_text(text)
    assert effective_values(folded) == effective_values(load_postfix_config(confdir))


def test_output_saved_as_file_and_provenance(confdir: Path) -> None:
    write(confdir, MAIN_CF)
    export = confdir / "export.txt"
    export.write_text(postconf(confdir, "-n") + postconf(confdir, "-M") + postconf(confdir, "-P"), "utf-8")
    cfg = load_postfix_config(export)
    assert str(cfg.get("maximal_queue_lifetime").source).startswith("postconf -n line ")
    assert str(cfg.get("maximal_queue_lifetime").source).endswith(" in export.txt")
    sub = cfg.service("submission")
    assert sub is not None
    assert str(sub.overrides["smtpd_tls_security_level"].source).startswith("postconf -P line ")
    files = load_postfix_config(confdir)
    assert str(files.get("maximal_queue_lifetime").source) == f"main.cf:{line_of(MAIN_CF, 'maximal_queue')}"
    assert str(files.get("mynetworks").source) == f"main.cf:{line_of(MAIN_CF, 'mynetworks =')}"
    fsub = files.service("submission")
    assert fsub is not None
    assert str(fsub.overrides["smtpd_tls_security_level"].source) == "master.cf:5 (-o)"
    assert str(fsub.overrides["smtpd_client_restrictions"].source) == "master.cf:7 (-o)"
    assert str(files.get("smtputf8_enable").source) == "default (Postfix 3.11, compatibility_level 3.6)"


def test_syntax_corners_match_postconf(confdir: Path) -> None:
    write(confdir, MAIN_CF)
    cfg = load_postfix_config(confdir)
    # continuation across a comment and a blank line
    assert norm(cfg.get("smtpd_relay_restrictions").value) == norm(postconf(confdir, "-h", "smtpd_relay_restrictions"))
    assert cfg.get("mynetworks").words() == ["127.0.0.0/8", "[::1]/128", "192.0.2.0/28"]
    # the last assignment wins
    assert str(cfg.get("smtpd_sasl_auth_enable").source) == f"main.cf:{line_of(MAIN_CF, 'smtpd_sasl', last=True)}"
    # $-expansion, compared with postconf -x
    for name in ("smtp_helo_name", "smtpd_banner", "relay_domains", "smtpd_tls_key_file"):
        assert norm(cfg.get(name).expanded) == norm(postconf(confdir, "-xh", name)), name
    # -o overrides: brace form, expansion in the service context, -oname=value
    sub = cfg.service("submission")
    assert sub is not None
    assert sub.effective("smtpd_client_restrictions").expanded == "permit_sasl_authenticated, reject"
    subs = cfg.service("submissions")
    assert subs is not None and subs.port_number == 465
    assert subs.overrides["smtpd_relay_restrictions"].value == "permit_sasl_authenticated, reject"
    loop6 = cfg.service("[::1]:2587")
    assert loop6 is not None and (loop6.host, loop6.port, loop6.port_number) == ("::1", "2587", 2587)
    assert loop6.loopback_only and loop6.overrides["my_name"].value == "1"
    local = cfg.service("127.0.0.1:10025")
    assert local is not None and local.host == "127.0.0.1" and local.effective("content_filter").expanded == ""
    relay = cfg.service("relay", "unix")
    assert relay is not None and relay.effective("smtp_helo_name").expanded == "relay.example.test"
    policy = cfg.service("policy", "unix")
    assert policy is not None and policy.args == ("user=nobody", "argv=/usr/bin/true", "-a b")


def test_defaults_match_postconf_for_every_level(confdir: Path) -> None:
    """Our default table, given the installed version, equals ``postconf -x`` at each compatibility level."""
    version = postconf(confdir, "-dh", "mail_version").strip()
    # These depend on the machine's host name (relay_domains only below level 2, through $mydestination).
    skip = {"smtp_helo_name", "myorigin", "smtpd_banner", "mydestination", "relay_domains", "fast_flush_domains"}
    for level in ("0", "1", "2", "3.6"):
        write(confdir, f"compatibility_level = {level}\n", master="")
        cfg = parse_postfix_text(f"mail_version = {version}\ncompatibility_level = {level}\n")
        names = [n for n in known_names() if n not in skip and n != "compatibility_level"
                 and not getattr(default_for(n, cfg.compatibility_level, cfg.version), "unknown", True)]
        lines = postconf(confdir, "-x", *names).splitlines()
        theirs = {k.strip(): v for k, _, v in (ln.partition("=") for ln in lines)}
        ours = {n: norm(cfg.get(n).expanded) for n in names}
        assert ours == {n: norm(theirs[n]) for n in names}, level


def test_single_main_cf_and_missing_master(confdir: Path) -> None:
    write(confdir, MAIN_CF, master=None)
    cfg = load_postfix_config(confdir)
    assert not cfg.has_master and cfg.services == []
    assert any("no master.cf" in w for w in cfg.warnings)
    single = load_postfix_config(confdir / "main.cf")
    assert single.get("maximal_queue_lifetime").expanded == "3d" and not single.has_master


def test_pasted_text_with_prompts_and_crlf() -> None:
    text = ("root@mx:~# postconf -n\r\nmyhostname = mx.example.test\r\nmaximal_queue_lifetime = 2d\r\n"
            "$ postconf -M\r\nsmtp inet n - y - - smtpd\r\n"
            "postconf: warning: /etc/postfix/main.cf: unused parameter: x=y\r\n"
            "$ postconf -P\r\nsmtp/inet/smtpd_tls_security_level = may\r\n")
    cfg = parse_postfix_text(text)
    assert cfg.get("myhostname").expanded == "mx.example.test"
    assert str(cfg.get("maximal_queue_lifetime").source) == "postconf -n line 3"
    smtp = cfg.service("smtp")
    assert smtp is not None
    assert smtp.effective("smtpd_tls_security_level").expanded == "may"
    assert str(smtp.overrides["smtpd_tls_security_level"].source) == "postconf -P line 8"
    assert len(cfg.warnings) == 4  # two prompts, one postconf warning, one more prompt


def test_pasted_main_cf_with_comments_keeps_file_provenance() -> None:
    cfg = parse_postfix_text("# main.cf\nmyhostname = a.example.test\nsmtp inet n - n - - smtpd\n  -o a=b\n")
    assert str(cfg.get("myhostname").source) == "main.cf line 2 (pasted)"
    smtp = cfg.service("smtp")
    assert smtp is not None and str(smtp.overrides["a"].source) == "master.cf line 4 (-o, pasted)"


def test_p_output_alone_creates_services_with_a_warning() -> None:
    """-P without -M names services but not their commands: the services count as unknown (issue 11)."""
    cfg = parse_postfix_text("submission/inet/smtpd_sasl_auth_enable = yes\n")
    sub = cfg.service("submission")
    assert sub is not None and sub.effective("smtpd_sasl_auth_enable").flag()
    assert not cfg.has_master and cfg.master_partial
    assert any("only from postconf -P" in w for w in cfg.warnings)


def test_expansion_is_loop_safe_and_tolerant() -> None:
    cfg = parse_postfix_text("a = $b\nb = ${a}\nc = ${unclosed\nd = $ bare\ne = ${{$f} == {x} ? {yes} : {no}}\n"
                             "f = x\ng = ${nonexistent:fallback} ${f?{set}}\nh = ${{$compatibility_level} <level {2}"
                             " ? {old} : {new}}\ncompatibility_level = 3.6\n")
    assert cfg.get("a").problems and "$" in cfg.get("a").expanded
    assert cfg.get("c").problems and cfg.get("d").problems
    assert cfg.get("e").expanded == "yes"
    assert cfg.get("g").expanded == "fallback set"
    assert cfg.get("h").expanded == "new"


def test_service_name_macro() -> None:
    """The stock master.cf logs as postfix/$service_name; master(8) sets service_name per service."""
    cfg = parse_postfix_text("2587 inet n - n - - smtpd -o syslog_name=postfix/$service_name\n")
    svc = cfg.service("2587")
    assert svc is not None and svc.effective("syslog_name").expanded == "postfix/2587"
    assert cfg.get("service_name").expanded == ""


def test_unknown_machine_values() -> None:
    cfg = parse_postfix_text("smtp_helo_name = $myhostname\n")
    helo = cfg.get("smtp_helo_name")
    assert helo.unknown and cfg.helo_name() is None
    assert "unknown" in str(cfg.get("myhostname").source)
    named = parse_postfix_text("myhostname = mx.firma.example\n")
    assert named.helo_name() == "mx.firma.example"
    assert named.get("mydomain").expanded == "firma.example"


@pytest.mark.parametrize(("text", "line", "needle"), [
    ("myhostname = a\nno equals sign here\n", 2, "missing '='"),
    ("a = 1\n= value\n", 2, "missing parameter name"),
    ("a b = c\n", 1, "missing '='"),
    ("x = 1\n\x00\n", 2, "NUL"),
])
def test_main_cf_errors_name_the_line(text: str, line: int, needle: str) -> None:
    with pytest.raises(PostfixConfigError) as err:
        from auditapp.postfix.parser import parse_main_cf
        parse_main_cf(text)
    assert err.value.line == line and f"line {line}" in str(err.value) and needle in str(err.value)


@pytest.mark.parametrize(("text", "line", "needle"), [
    ("smtp inet n - n - -\n", 1, "bad field count"),
    ("# c\nsmtp foo n - n - - smtpd\n", 2, "invalid service type"),
    ("smtp inet x - n - - smtpd\n", 1, "invalid private field"),
    ("smtp inet n - n abc - smtpd\n", 1, "invalid wakeup field"),
    ("smtp inet n - n - 1x smtpd\n", 1, "invalid maxproc field"),
])
def test_master_cf_errors_name_the_line(text: str, line: int, needle: str, confdir: Path) -> None:
    from auditapp.postfix.parser import parse_master_cf
    with pytest.raises(PostfixConfigError) as err:
        parse_master_cf(text)
    assert err.value.line == line and needle in str(err.value)
    if POSTCONF:  # Postfix refuses the same input
        write(confdir, "myhostname = a.example.test\n", master=text)
        out = subprocess.run([POSTCONF, "-c", str(confdir), "-M"], capture_output=True, text=True, timeout=30)
        assert out.returncode != 0


def test_postfix_warnings_stay_warnings(confdir: Path) -> None:
    """What postconf only warns about (missing '}', -o without '=') is read the same way."""
    master = "smtp inet n - n - - smtpd -o { a = b\nsub inet n - n - - smtpd -o novalue -o {x=y}z\n"
    write(confdir, "myhostname = a.example.test\n", master=master)
    cfg = load_postfix_config(confdir)
    ours = {(s.key, k, v.value) for s in cfg.services for k, v in s.overrides.items()}
    theirs = set()
    for line in postconf(confdir, "-P").splitlines():
        left, _, value = line.partition(" = ")
        svc, typ, name = left.rsplit("/", 2)
        theirs.add((f"{svc}/{typ}", name, value.strip()))
    assert ours == theirs == {("smtp/inet", "a", "b"), ("sub/inet", "x", "y")}
    assert len(cfg.warnings) == 3


def test_clustered_o_follows_getopt() -> None:
    """``-ofoo=1`` is ``-o foo=1`` for the daemons (getopt). postconf 3.7's -M/-P rewriting mangles a
    clustered value that contains another letter "o" (it prints ``-o f -o -o=1``); we follow getopt."""
    cfg = parse_postfix_text("smtp inet n - n - - smtpd -ofoo=1 -vobar=2 -t unix -o c=3 positional -o d=4\n")
    smtp = cfg.service("smtp")
    assert smtp is not None
    assert {k: v.value for k, v in smtp.overrides.items()} == {"foo": "1", "bar": "2", "c": "3"}


def test_load_for_audit_and_odd_bytes(confdir: Path) -> None:
    (confdir / "main.cf").write_bytes(b"# Kommentar mit \xfc (Latin-1)\nmyhostname = mx.example.test\n")
    got = load_for_audit(confdir)
    assert isinstance(got, PostfixConfig) and got.get("myhostname").expanded == "mx.example.test"
    (confdir / "main.cf").write_text("myhostname\n", "utf-8")
    failure = load_for_audit(confdir)
    assert isinstance(failure, PostfixLoadFailure) and "main.cf, line 1" in failure.error


def test_load_errors() -> None:
    with pytest.raises(PostfixConfigError):
        load_postfix_config("/nonexistent/postfix")
    empty = Path(tempfile.mkdtemp(prefix="pf-empty-", dir="/tmp"))
    try:
        with pytest.raises(PostfixConfigError, match=r"no main\.cf"):
            load_postfix_config(empty)
    finally:
        shutil.rmtree(empty, ignore_errors=True)
    with pytest.raises(PostfixConfigError):
        load_postfix_config("bad\0path")


@pytest.mark.parametrize(("value", "unit", "seconds"), [
    ("5d", "d", 432000), ("3h", "d", 10800), ("1w", "d", 604800), ("2", "d", 172800), ("0", "h", 0),
    ("300s", "s", 300), ("4", "h", 14400), ("10m", "s", 600),
])
def test_parse_time(value: str, unit: str, seconds: int) -> None:
    assert parse_time(value, unit) == seconds


@pytest.mark.parametrize("value", ["", "5x", "d", "-1d", "1.5d", "5 d d", "１d"])
def test_parse_time_rejects(value: str) -> None:
    with pytest.raises(ValueError):
        parse_time(value, "d")


def test_nested_references_are_bounded() -> None:
    """Issue 12 (5): nine lines of "pN = $pN-1 $pN-1 ..." grew exponentially (98 s, 2.7 GB); now capped."""
    from auditapp.postfix.expand import MAX_EXPANDED

    lines = ["p0 = " + "x" * 10] + [f"p{i} = " + " ".join([f"$p{i - 1}"] * 10) for i in range(1, 12)]
    cfg = parse_postfix_text("\n".join([*lines, "myhostname = $p11", "smtp_helo_name = $myhostname"]) + "\n")
    p = cfg.get("smtp_helo_name")
    assert len(p.expanded) <= MAX_EXPANDED
    assert any("exceeds" in problem for problem in p.problems)
    # A rule that needs the value says it cannot evaluate it.
    from auditapp.catalog import catalog
    from auditapp.checks import registered
    from auditapp.checks.registry import run_check
    from auditapp.collectors.facts import Facts
    from auditapp.core.model import Status
    from auditapp.core.target import AuditTarget

    (f,) = run_check(registered()["PF-HELO-NAME"], catalog(), Facts(postfix=cfg, done={"postfix"}),
                     AuditTarget(domain="example.test"))
    assert f.status is Status.NOT_TESTED and f.reason is not None and "exceeds" in str(f.reason.params)


def test_a_value_referenced_many_times_expands_once() -> None:
    """Repeated references are not re-expanded: a wide but shallow value stays exact."""
    cfg = parse_postfix_text("a = x\nb = " + " ".join(["$a"] * 500) + "\n")
    assert cfg.get("b").expanded == " ".join(["x"] * 500) and not cfg.get("b").problems
