"""An audit project: one client's mail setup, the answers about it, and every audit run so far.

A project is what a consultant keeps between visits. Its file outlives many versions of the
tool and is edited by the GUI, the CLI and (now and then) a person with a text editor, so
everything read from it is checked field by field: a wrong value is reported as a
:class:`ProjectError` naming the field, instead of surfacing later as a confusing failure
in the middle of an audit.

Secrets never live here. The test account is stored by user name only; its password is
kept in the system keyring, so a project file can be mailed to a colleague or checked into
a repository without leaking credentials. :func:`check_no_secrets` enforces this on every
load and save.

The on-disk envelope (format name, schema version, migrations) is :mod:`auditapp.core.project_io`;
this module only knows the ``"project"`` object inside it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from auditapp.core import run_shapes
from auditapp.core.model import Run, Severity, Status
from auditapp.core.review_layer import REVIEW_KINDS, AcceptedRisk, Review
from auditapp.core.stored_message import MAX_MESSAGES, StoredMessage, StoredMessageError
from auditapp.core.target import DEFAULT_DNSBL_ZONES, DEFAULT_PORTS, AuditTarget
from auditapp.core.validation import (
    InputError,
    display_domain,
    normalize_domain,
    parse_ip,
    validate_account,
    validate_connect_interval,
    validate_helo,
    validate_nameserver,
    validate_selector,
)

#: Dictionary keys that mean "a secret is stored here". Checked case-insensitively as the
#: whole key or its last ``_``/``-`` separated part (``smtp_password``), but not as a
#: prefix, so a questionnaire id such as ``password_policy`` stays possible.
SECRET_KEY_NAMES = frozenset({"password", "passwd", "pwd", "secret", "passphrase"})

#: Nesting limit for free-form JSON (questionnaire answers, branding): deep enough for any
#: real use, shallow enough that a hostile file cannot exhaust the stack.
MAX_JSON_DEPTH = 32

_MAX_TEXT = 1000
#: The longest justification or review comment: a paragraph, not a document. The same limit
#: applies when typed (core/review.py) and when loaded: a 100,000-character text from a
#: hand-edited file made the report take half a minute (issue 12).
MAX_REVIEW_TEXT = 4000
#: Subjects and evidence lines: what the probes keep of a line (8 KB); longer ones are damage.
MAX_SUBJECT = 8192
MAX_EVIDENCE_LINE = 8192
#: Names of people (accepted_by, author).
MAX_PERSON = 200


class ProjectError(ValueError):
    """A project (or project file) cannot be used; the message is one line naming the problem.

    ``field`` is the dotted path of the offending field (``server_ips[2]``) when there is
    one, so the GUI can put the message beside the right input.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Project:
    """Everything auditapp knows about one client's mail setup.

    Host names and the domain are A-labels (what DNS uses); :attr:`display_domain` gives
    the U-label for people. ``dnsbl_zones`` is explicit: an empty list means "do not check
    blocklists", which is why the default is filled in here rather than at audit time.
    ``ports`` holds only overrides; services not listed use the standard port.
    """

    name: str
    domain: str
    server_ips: list[str] = field(default_factory=list)
    helo: str | None = None
    mx_hosts: list[str] = field(default_factory=list)
    client_hosts: list[str] = field(default_factory=list)
    dkim_selectors: list[str] = field(default_factory=list)
    dnsbl_zones: list[str] = field(default_factory=lambda: list(DEFAULT_DNSBL_ZONES))
    nameservers: list[str] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    relay_test: bool = False
    #: An internal audit: addresses in private ranges found in DNS are probed too (netguard.py).
    allow_internal: bool = False
    #: False: audit DNS only and never connect to the mail servers (a client who has not agreed
    #: to being probed).
    probe_services: bool = True
    #: The built-in demo: audited against the demo lab running in this process, whatever resolver,
    #: ports and CA the file names (they are the lab's of the last session; audit/prepare.py).
    demo: bool = False
    answers: dict[str, Any] = field(default_factory=dict)
    branding: dict[str, Any] = field(default_factory=dict)
    test_account: str | None = None
    runs: list[Run] = field(default_factory=list)
    #: The imported Postfix configuration as texts: ``{"origin": ..., "files": {"main.cf": ..., ...}}``
    #: (or ``{"text": ...}`` for postconf output), so a re-run elsewhere audits the same configuration.
    postfix_config: dict[str, Any] | None = None
    #: Findings the consultant accepted as deliberate deviations (the report's risk register), stored
    #: as ``{"rule", "subject" ("*" = all), "justification", "accepted_by", "accepted_at", "expires"?}``.
    accepted_risks: list[AcceptedRisk] = field(default_factory=list)
    #: Reviewer comments and severity overrides (:mod:`auditapp.core.review`), stored as
    #: ``{"rule", "subject", "kind": "comment"|"severity", "text", "author", "at", "severity"?}``.
    reviews: list[Review] = field(default_factory=list)
    #: Received messages imported as evidence (header block and import verdicts, never a body;
    #: :mod:`auditapp.core.stored_message`). The user may remove any of them.
    messages: list[StoredMessage] = field(default_factory=list)
    #: DNSSEC trust anchor file for labs and internal roots (DS/DNSKEY records); None: the IANA root.
    trust_anchor: str | None = None
    #: Validated ROA payloads a relying-party validator exported (JSON or CSV; auditapp/rpki.py); None:
    #: the RPKI rules are not tested, because an audit cannot validate the RPKI repository itself.
    rpki_vrps: str | None = None
    #: Seconds between connection starts to one of the client's servers (collectors/pacing.py): a
    #: property of their servers (a connection rate limit), so it is kept with the project. 0: none.
    connect_interval: float = 0.0

    @property
    def display_domain(self) -> str:
        """The domain as people write it (``bücher.example``)."""
        return display_domain(self.domain)

    def to_target(self) -> AuditTarget:
        """The audit input this project describes (the HELO, if set, is marked as coming from it)."""
        return AuditTarget(
            domain=self.domain,
            server_ips=tuple(dict.fromkeys(self.server_ips)),
            helo=self.helo,
            helo_source="project",
            mx_hosts=tuple(dict.fromkeys(self.mx_hosts)),
            dkim_selectors=tuple(dict.fromkeys(self.dkim_selectors)),
            dnsbl_zones=tuple(dict.fromkeys(self.dnsbl_zones)),
            ports={**DEFAULT_PORTS, **self.ports},
            # A client-facing host serves submission and mailbox access unless probing shows otherwise.
            submission_hosts=tuple(dict.fromkeys(self.client_hosts)),
            mailbox_hosts=tuple(dict.fromkeys(self.client_hosts)),
            relay_test=self.relay_test,
            allow_internal=self.allow_internal,
            services=self.probe_services,
            account=self.test_account,
            answers=dict(self.answers),
            trust_anchor=self.trust_anchor,
            rpki_vrps=self.rpki_vrps,
            connect_interval=self.connect_interval,
        )

    def snapshot(self) -> Project:
        """A copy another thread may read while this one is edited: settings copied, runs shared.

        Runs are records: appended, deleted or archived whole, never edited after the engine
        handed them over (findings are frozen), so sharing them is safe. That makes a snapshot
        of a 200-run project cost microseconds instead of the 0.1 s of ``to_json``, which is
        what the window's save, recovery copy and report render start from.
        """
        copied = {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self) if f.name != "runs"}
        return replace(self, runs=list(self.runs), **copied)

    def to_json(self) -> dict[str, Any]:
        """The ``"project"`` object of the file, in field order (stable diffs between saves)."""
        return {
            "name": self.name,
            "domain": self.domain,
            "server_ips": list(self.server_ips),
            "helo": self.helo,
            "mx_hosts": list(self.mx_hosts),
            "client_hosts": list(self.client_hosts),
            "dkim_selectors": list(self.dkim_selectors),
            "dnsbl_zones": list(self.dnsbl_zones),
            "nameservers": list(self.nameservers),
            "ports": dict(self.ports),
            "relay_test": self.relay_test,
            **({"allow_internal": True} if self.allow_internal else {}),
            **({"probe_services": False} if not self.probe_services else {}),
            **({"demo": True} if self.demo else {}),
            "answers": dict(self.answers),
            "branding": dict(self.branding),
            "test_account": self.test_account,
            "runs": [run.to_json() for run in self.runs],
            **({"postfix_config": self.postfix_config} if self.postfix_config is not None else {}),
            **({"accepted_risks": [r.to_json() for r in self.accepted_risks]} if self.accepted_risks else {}),
            **({"reviews": [r.to_json() for r in self.reviews]} if self.reviews else {}),
            **({"messages": [m.to_json() for m in self.messages]} if self.messages else {}),
            **({"trust_anchor": self.trust_anchor} if self.trust_anchor else {}),
            **({"rpki_vrps": self.rpki_vrps} if self.rpki_vrps else {}),
            **({"connect_interval": self.connect_interval} if self.connect_interval else {}),
        }

    @classmethod
    def from_json(cls, data: object) -> Project:
        """Check every field and build the project; raises :class:`ProjectError` naming the field.

        Values are normalised as the CLI would (A-labels, canonical IP text). Unknown fields
        are refused rather than ignored: a field this version does not know would be
        silently dropped by the next save.
        """
        if not isinstance(data, dict):
            raise ProjectError(f"the project must be a JSON object, not {_kind(data)}", "project")
        known = {f.name for f in fields(cls)}
        for key in data:
            if _is_secret_key(key):
                raise ProjectError(f"field {key!r} is not allowed: passwords are kept in the system keyring, "
                                   "never in the project file", key)
            if key not in known:
                raise ProjectError(f"unknown field {key!r} (written by a different auditapp version?)", key)
        if "domain" not in data:
            raise ProjectError("field 'domain' is missing", "domain")
        check_no_secrets({k: v for k, v in data.items() if k != "runs"})
        get = data.get
        return cls(
            name=_text(get("name", ""), "name", allow_empty=True),
            domain=_input(normalize_domain, _typed(get("domain"), str, "domain"), "domain"),
            server_ips=_list(get("server_ips", []), "server_ips", lambda v, w: _input(parse_ip, _str(v, w), w)),
            helo=None if get("helo") is None else _input1(validate_helo, get("helo"), "helo"),
            mx_hosts=_list(get("mx_hosts", []), "mx_hosts", _host),
            client_hosts=_list(get("client_hosts", []), "client_hosts", _host),
            dkim_selectors=_list(get("dkim_selectors", []), "dkim_selectors",
                                 lambda v, w: _input1(validate_selector, v, w)),
            dnsbl_zones=_list(get("dnsbl_zones", list(DEFAULT_DNSBL_ZONES)), "dnsbl_zones", _host),
            nameservers=_list(get("nameservers", []), "nameservers", _nameserver),
            ports=_ports(get("ports", {})),
            relay_test=_typed(get("relay_test", False), bool, "relay_test"),
            allow_internal=_typed(get("allow_internal", False), bool, "allow_internal"),
            probe_services=_typed(get("probe_services", True), bool, "probe_services"),
            demo=_typed(get("demo", False), bool, "demo"),
            answers=_json_object(get("answers", {}), "answers"),
            branding=_json_object(get("branding", {}), "branding"),
            test_account=None if get("test_account") is None else _username(get("test_account")),
            runs=_list(get("runs", []), "runs", _run),
            postfix_config=None if get("postfix_config") is None else _postfix_config(get("postfix_config")),
            accepted_risks=_list(get("accepted_risks", []), "accepted_risks", _accepted_risk),
            reviews=_list(get("reviews", []), "reviews", _review),
            messages=_messages(get("messages", [])),
            trust_anchor=None if get("trust_anchor") is None else _text(get("trust_anchor"), "trust_anchor"),
            rpki_vrps=None if get("rpki_vrps") is None else _text(get("rpki_vrps"), "rpki_vrps"),
            connect_interval=_connect_interval(get("connect_interval", 0.0)),
        )


def _connect_interval(value: object) -> float:
    try:
        return validate_connect_interval(value, "field connect_interval")  # type: ignore[arg-type]
    except InputError as exc:
        raise ProjectError(str(exc), "connect_interval") from None


_RISK_FIELDS = ("rule", "subject", "justification", "accepted_by", "accepted_at")
_REVIEW_FIELDS = ("rule", "subject", "kind", "text", "author", "at")


def _string_entry(value: object, where: str, required: tuple[str, ...], optional: tuple[str, ...],
                  dates: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A register entry of strings: known keys only, required ones present, dates in ISO form.

    Returns the checked strings and the raw entry (for the caller's own rules).
    """
    data = _typed(value, dict, where)
    for key in data:
        if key not in (*required, *optional):
            raise ProjectError(f"field {where}: unknown entry {key!r}", where)
    out: dict[str, Any] = {}
    for key in required:
        if key not in data:
            raise ProjectError(f"field {where}.{key} is missing", f"{where}.{key}")
        out[key] = _capped(data[key], f"{where}.{key}", _ENTRY_LIMITS.get(key, _MAX_TEXT))
    for key in dates:
        text = out.get(key) if key in out else data.get(key)
        if text:
            try:
                datetime.fromisoformat(_str(text, f"{where}.{key}").replace("Z", "+00:00"))
            except ValueError:
                raise ProjectError(f"field {where}.{key}: {text!r} is not an ISO date", f"{where}.{key}") from None
    return out, data


_ENTRY_LIMITS = {"subject": MAX_SUBJECT, "justification": MAX_REVIEW_TEXT, "text": MAX_REVIEW_TEXT,
                 "accepted_by": MAX_PERSON, "author": MAX_PERSON}


def _capped(value: object, where: str, limit: int) -> str:
    text = _str(value, where)
    if len(text) > limit:
        raise ProjectError(f"field {where} is {len(text)} characters long ({limit} allowed)", where)
    return text


def _accepted_risk(value: object, where: str) -> AcceptedRisk:
    out, data = _string_entry(value, where, _RISK_FIELDS, ("expires",), ("accepted_at", "expires"))
    if not out["rule"] or not out["justification"].strip():
        raise ProjectError(f"field {where}: an accepted risk needs a rule and a justification", where)
    if data.get("expires") is not None:
        out["expires"] = _str(data["expires"], f"{where}.expires")
    return AcceptedRisk.from_json(out)


def _review(value: object, where: str) -> Review:
    out, data = _string_entry(value, where, _REVIEW_FIELDS, ("severity",), ("at",))
    if out["kind"] not in REVIEW_KINDS:
        raise ProjectError(f"field {where}.kind: {out['kind']!r} is neither 'comment' nor 'severity'", f"{where}.kind")
    if not out["rule"] or not out["text"].strip():
        raise ProjectError(f"field {where}: a review entry needs a rule and a text", where)
    if out["kind"] == "severity":
        level = data.get("severity")
        if level not in {s.value for s in Severity}:
            raise ProjectError(f"field {where}.severity: {level!r} is not a severity", f"{where}.severity")
        out["severity"] = level
    elif "severity" in data:
        raise ProjectError(f"field {where}: only severity overrides carry a severity", f"{where}.severity")
    return Review.from_json(out)


def _messages(value: object) -> list[StoredMessage]:
    items = _typed(value, list, "messages")
    if len(items) > MAX_MESSAGES:
        raise ProjectError(f"field messages: more than {MAX_MESSAGES} messages", "messages")
    out: list[StoredMessage] = []
    seen: set[str] = set()
    for n, item in enumerate(items):
        try:
            message = StoredMessage.from_json(item)
        except StoredMessageError as exc:
            where = f"messages[{n}]" + (f".{exc.field}" if exc.field else "")
            raise ProjectError(f"field {where}: {exc}", where) from exc
        if message.id in seen:
            raise ProjectError(f"field messages[{n}]: the same message is stored twice", f"messages[{n}]")
        seen.add(message.id)
        out.append(message)
    return out


def _postfix_config(value: object) -> dict[str, Any]:
    data = _typed(value, dict, "postfix_config")
    origin = _str(data.get("origin", ""), "postfix_config.origin")
    files = _typed(data.get("files"), dict, "postfix_config.files")
    allowed = {"main.cf", "master.cf", "text"}
    for name, text in files.items():
        if name not in allowed:
            raise ProjectError(f"field postfix_config.files: unknown entry {name!r} (allowed: {sorted(allowed)})",
                               "postfix_config.files")
        _str(text, f"postfix_config.files.{name}")
    return {"origin": origin, "files": dict(files)}


# -- secrets ------------------------------------------------------------------------------


def _is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    lowered = key.lower()
    last = lowered.replace("-", "_").rsplit("_", 1)[-1]
    return lowered in SECRET_KEY_NAMES or last in SECRET_KEY_NAMES


def check_no_secrets(value: object, where: str = "project", depth: int = 0) -> None:
    """Refuse any object key that names a password or secret, however deeply nested."""
    if depth > MAX_JSON_DEPTH:
        return  # the depth itself is reported by the JSON-value check
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where != "project" else str(key)
            if _is_secret_key(key):
                raise ProjectError(f"field {path!r} is not allowed: passwords and secrets are kept in the "
                                   "system keyring, never in the project file", path)
            check_no_secrets(item, path, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_no_secrets(item, f"{where}[{i}]", depth + 1)


# -- field checks -------------------------------------------------------------------------


def _kind(value: object) -> str:
    """JSON's name for a value's type, for messages ("a list", not "<class 'list'>")."""
    if value is None:
        return "null"
    names = {bool: "true/false", int: "a number", float: "a number", str: "a string", list: "a list",
             dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _typed[T](value: object, typ: type[T], where: str) -> T:
    # bool is a subclass of int; a JSON ``true`` is never a valid port or count.
    if not isinstance(value, typ) or (typ is not bool and isinstance(value, bool)):
        want = {str: "a string", bool: "true or false", int: "a whole number", dict: "an object",
                list: "a list"}.get(typ, typ.__name__)
        raise ProjectError(f"field {where} must be {want}, not {_kind(value)}", where)
    return value


def _str(value: object, where: str) -> str:
    return _typed(value, str, where)


def _text(value: object, where: str, allow_empty: bool = False) -> str:
    """Free text shown to people (client name): no control characters, bounded length."""
    text = _str(value, where)
    if not allow_empty and not text.strip():
        raise ProjectError(f"field {where} is empty", where)
    if len(text) > _MAX_TEXT:
        raise ProjectError(f"field {where} is {len(text)} characters long ({_MAX_TEXT} allowed)", where)
    if not text.isprintable():
        raise ProjectError(f"field {where} contains control characters (line breaks, tabs, ...)", where)
    return text


def _input(check: Callable[[str, str], str], value: str, where: str) -> str:
    """Run a validation-module check that names its subject (``what``); InputError becomes ProjectError."""
    try:
        return check(value, f"field {where}")
    except InputError as exc:
        raise ProjectError(str(exc), where) from None


def _input1(check: Callable[[str], str], value: object, where: str) -> str:
    """The same for checks that name the subject themselves ("HELO name ..."): the field is prefixed."""
    try:
        return check(_str(value, where))
    except InputError as exc:
        raise ProjectError(f"field {where}: {exc}", where) from None


def _host(value: object, where: str) -> str:
    return _input(normalize_domain, _str(value, where), where)


def _nameserver(value: object, where: str) -> str:
    """Stored as typed, checked by the rule of every resolver field (``validate_nameserver``)."""
    text = _str(value, where)
    try:
        validate_nameserver(text)
    except InputError as exc:
        raise ProjectError(f"field {where}: {exc}", where) from None
    return text


def _username(value: object) -> str:
    # The same rule as typed input: no name that could address another keyring entry.
    return _input1(validate_account, value, "test_account")


def _list[T](value: object, where: str, item: Callable[[object, str], T]) -> list[T]:
    items = _typed(value, list, where)
    return [item(v, f"{where}[{i}]") for i, v in enumerate(items)]


def _ports(value: object) -> dict[str, int]:
    ports = _typed(value, dict, "ports")
    out: dict[str, int] = {}
    for service, port in ports.items():
        where = f"ports.{service}"
        if service not in DEFAULT_PORTS:
            raise ProjectError(f"field ports: unknown service {service!r} (one of {', '.join(DEFAULT_PORTS)})",
                               where)
        number = _typed(port, int, where)
        if not 0 < number < 65536:
            raise ProjectError(f"field {where}: {number} is not a port number (1-65535)", where)
        out[service] = number
    return out


def _json_value(value: object, where: str, depth: int = 0) -> Any:
    """Accept exactly what JSON can hold (finite numbers, string keys), nested at most MAX_JSON_DEPTH."""
    if depth > MAX_JSON_DEPTH:
        raise ProjectError(f"field {where} is nested more than {MAX_JSON_DEPTH} levels deep", where)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ProjectError(f"field {where} is {value!r}, which JSON cannot store", where)
        return value
    if isinstance(value, list):
        return [_json_value(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                raise ProjectError(f"field {where} has the key {key!r}; keys must be non-empty strings", where)
            out[key] = _json_value(item, f"{where}.{key}", depth + 1)
        return out
    raise ProjectError(f"field {where} holds {type(value).__name__}, which is not a JSON value", where)


def _json_object(value: object, where: str) -> dict[str, Any]:
    result: dict[str, Any] = _json_value(_typed(value, dict, where), where)
    return result


# -- runs ---------------------------------------------------------------------------------

_RUN_FIELDS: dict[str, type] = {
    "id": str, "started": str, "finished": str, "tool_version": str, "catalog_version": str, "resolver": str,
    "target": dict, "findings": list, "cancelled": bool, "duration_s": float, "inventory": dict,
    "degraded": bool, "degraded_reason": dict,
}
#: Run fields older files lack (and healthy runs never write).
_OPTIONAL_RUN_FIELDS = {"resolver", "target", "cancelled", "duration_s", "inventory", "degraded", "degraded_reason"}
_FINDING_FIELDS: dict[str, type] = {
    "rule": str, "status": str, "severity": str, "subject": str, "outcome": str, "params": dict,
    "evidence": list, "reason": dict, "problems": dict,
}


def _run(value: object, where: str) -> Run:
    """Type-check a stored run before :meth:`Run.from_json`, which would coerce ``null`` to ``"None"``."""
    data = _typed(value, dict, where)
    _record(data, _RUN_FIELDS, where, optional=_OPTIONAL_RUN_FIELDS)
    for key, shape in (("target", run_shapes.TARGET), ("inventory", run_shapes.INVENTORY)):
        _json_value(data.get(key, {}), f"{where}.{key}")
        problem = run_shapes.shape_problem(data.get(key, {}), shape, f"{where}.{key}")
        if problem:
            raise ProjectError(f"field {problem[0]} {problem[1]}", problem[0])
    known = _catalog()
    for i, finding in enumerate(data["findings"]):
        _finding(finding, f"{where}.findings[{i}]", known)
    if data.get("degraded_reason") is not None:
        field_name = f"{where}.degraded_reason"
        if not data.get("degraded"):
            raise ProjectError(f"field {field_name}: only a degraded run has one", field_name)
        _reason(data["degraded_reason"], field_name, known)
    return Run.from_json(data)


def _catalog() -> Any:
    """The rule catalog, to check rule IDs and reason keys of stored findings.

    Imported here, not at the top: the catalog is data (stable rule IDs and message keys),
    and the core otherwise depends on nothing outside itself.
    """
    from auditapp.catalog import catalog

    return catalog()


def _finding(value: object, where: str, known: Any) -> None:
    data = _typed(value, dict, where)
    _record(data, _FINDING_FIELDS, where, optional={"params", "evidence", "reason", "problems"})
    for key, enum in (("status", Status), ("severity", Severity)):
        if data[key] not in {m.value for m in enum}:
            raise ProjectError(f"field {where}.{key}: unknown value {data[key]!r}", f"{where}.{key}")
    if data["rule"] not in known:
        raise ProjectError(f"field {where}.rule: unknown rule {data['rule']!r} (written by a newer auditapp "
                           "version, or damaged)", f"{where}.rule")
    _json_value(data.get("params", {}), f"{where}.params")
    _json_value(data.get("problems", {}), f"{where}.problems")
    _capped(data["subject"], f"{where}.subject", MAX_SUBJECT)
    for j, line in enumerate(data.get("evidence", [])):
        _capped(line, f"{where}.evidence[{j}]", MAX_EVIDENCE_LINE)
    if data.get("reason") is not None:
        _reason(data["reason"], f"{where}.reason", known)


def _reason(value: object, where: str, known: Any) -> None:
    """A stored :class:`~auditapp.core.model.Reason`: a catalogue message key and JSON parameters."""
    reason = _typed(value, dict, where)
    key = _str(reason.get("key"), f"{where}.key")
    if key not in known.messages:
        raise ProjectError(f"field {where}.key: unknown reason {key!r} (written by a newer auditapp "
                           "version, or damaged)", f"{where}.key")
    _json_value(_typed(reason.get("params", {}), dict, f"{where}.params"), f"{where}.params")


def _record(data: dict[str, Any], spec: dict[str, type], where: str, optional: set[str]) -> None:
    for key in data:
        if key not in spec:
            raise ProjectError(f"field {where}: unknown field {key!r}", f"{where}.{key}")
    for key, typ in spec.items():
        if key not in data:
            if key in optional:
                continue
            raise ProjectError(f"field {where}: {key!r} is missing", f"{where}.{key}")
        value = data[key]
        if key in ("reason", "degraded_reason") and value is None:
            continue
        if typ is float:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ProjectError(f"field {where}.{key} must be a number, not {_kind(value)}", f"{where}.{key}")
        else:
            _typed(value, typ, f"{where}.{key}")
