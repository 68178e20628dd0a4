"""The rule catalog: data files beside the code, validated when loaded.

Each family has one TOML file in ``catalog/data/`` (TOML because the standard library reads it;
no YAML dependency in the core). A rule's ID is its table name and never changes or gets
reused: consultants cite these IDs across audits and clients. Texts exist in German and
English, with ``{placeholders}`` filled from the check's parameters; a loader error names
the file and the rule, so a broken catalog fails at start-up, not in a client's report.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from auditapp.catalog.text import Text, load_text
from auditapp.core.model import Severity

CATALOG_DIR = Path(__file__).with_name("data")
RULE_ID = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")

#: Report categories, in report order (the management summary shows one traffic light each).
CATEGORIES = (
    "dns_identity",
    "sender_authentication",
    "transport_security",
    "services",
    "configuration",
    "policy_legal",
)
LIFECYCLES = ("stable", "preview", "deprecated")


class CatalogError(ValueError):
    """The catalog data is inconsistent; the message names file and rule."""


@dataclass(frozen=True)
class OutcomeSpec:
    key: str
    text: Text
    severity: Severity | None = None
    remediation: Text | None = None


@dataclass(frozen=True)
class Rule:
    """Metadata of one check: what it is called, how bad it is, how to fix it, where it comes from."""

    id: str
    family: str
    category: str
    severity: Severity
    title: Text
    rationale: Text
    remediation: Text
    #: Sources in both languages: a citation is language-neutral (``Text(s, s)``) unless the file
    #: gives ``{ de = ..., en = ... }`` for a reference with an explanation in words.
    references: tuple[Text, ...]
    outcomes: dict[str, OutcomeSpec]
    lifecycle: str = "stable"
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def severity_for(self, outcome: str) -> Severity:
        spec = self.outcomes.get(outcome)
        return spec.severity if spec and spec.severity else self.severity


@dataclass(frozen=True)
class Catalog:
    rules: dict[str, Rule]
    messages: dict[str, Text]
    #: A short fingerprint of the catalog files, printed in results and reports so that a
    #: changed verdict between two audits can be traced to a changed catalog.
    version: str = ""

    def __getitem__(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self.rules

    def message(self, key: str) -> Text:
        if key not in self.messages:
            raise KeyError(f"unknown message key {key!r}")
        return self.messages[key]


def _text(value: Any, where: str) -> Text:
    return load_text(value, where, CatalogError, extra_keys=("severity", "remediation"))


def _reference(value: Any, where: str) -> Text:
    """A plain citation ("RFC 7208 §4.6.4") reads the same in both languages; words need both."""
    if isinstance(value, str) and value.strip():
        return Text(de=value.strip(), en=value.strip())
    if isinstance(value, dict):
        return load_text(value, where, CatalogError, format_string=False)
    raise CatalogError(f"{where}: a reference is a non-empty string or a {{ de, en }} table")


_RULE_KEYS = {
    "family", "category", "severity", "title", "rationale", "remediation", "references", "outcomes",
    "lifecycle", "extra",
}


def _rule(rule_id: str, data: dict[str, Any], source: str) -> Rule:
    where = f"{source}: {rule_id}"
    if not RULE_ID.match(rule_id):
        raise CatalogError(f"{where}: rule IDs are upper-case words joined by '-'")
    unknown = set(data) - _RULE_KEYS
    if unknown:
        raise CatalogError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("family", "category", "severity", "title", "rationale", "remediation", "references", "outcomes"):
        if key not in data:
            raise CatalogError(f"{where}: missing '{key}'")
    if data["category"] not in CATEGORIES:
        raise CatalogError(f"{where}: category must be one of {CATEGORIES}")
    try:
        severity = Severity(data["severity"])
    except ValueError:
        raise CatalogError(f"{where}: bad severity {data['severity']!r}") from None
    lifecycle = data.get("lifecycle", "stable")
    if lifecycle not in LIFECYCLES:
        raise CatalogError(f"{where}: lifecycle must be one of {LIFECYCLES}")
    refs = data["references"]
    if not isinstance(refs, list) or not refs:
        raise CatalogError(f"{where}: 'references' must be a non-empty list")
    references = tuple(_reference(ref, f"{where}.references[{i}]") for i, ref in enumerate(refs))
    outcomes: dict[str, OutcomeSpec] = {}
    if not isinstance(data["outcomes"], dict) or "pass" not in data["outcomes"]:
        raise CatalogError(f"{where}: outcomes must include 'pass'")
    for key, value in data["outcomes"].items():
        spec_where = f"{where}.outcomes.{key}"
        sev = value.get("severity") if isinstance(value, dict) else None
        rem = value.get("remediation") if isinstance(value, dict) else None
        try:
            osev = Severity(sev) if sev else None
        except ValueError:
            raise CatalogError(f"{spec_where}: bad severity {sev!r}") from None
        outcomes[key] = OutcomeSpec(
            key=key,
            text=_text(value, spec_where),
            severity=osev,
            remediation=_text(rem, spec_where + ".remediation") if rem else None,
        )
    return Rule(
        id=rule_id,
        family=str(data["family"]),
        category=data["category"],
        severity=severity,
        title=_text(data["title"], where + ".title"),
        rationale=_text(data["rationale"], where + ".rationale"),
        remediation=_text(data["remediation"], where + ".remediation"),
        references=references,
        outcomes=outcomes,
        lifecycle=lifecycle,
        source=source,
        extra=dict(data.get("extra", {})),
    )


def _collect_messages(data: dict[str, Any], prefix: str, out: dict[str, Text], source: str) -> None:
    """Flatten ``[reason.dns_failure]``-style tables into ``reason.dns_failure`` keys."""
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and "de" in value:
            out[full] = _text(value, f"{source}: {full}")
        elif isinstance(value, dict):
            _collect_messages(value, full + ".", out, source)
        else:
            raise CatalogError(f"{source}: {full} must be a table with 'de' and 'en'")


def load_catalog(directory: Path = CATALOG_DIR) -> Catalog:
    """Read and validate every catalog file; raise :class:`CatalogError` on the first problem."""
    rules: dict[str, Rule] = {}
    messages: dict[str, Text] = {}
    fingerprint = hashlib.sha256()
    for path in sorted(directory.glob("*.toml")):
        raw = path.read_bytes()
        fingerprint.update(raw)
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{path.name}: {exc}") from exc
        if path.name == "_messages.toml":
            _collect_messages(data, "", messages, path.name)
            continue
        for rule_id, body in data.items():
            if rule_id in rules:
                raise CatalogError(f"{path.name}: {rule_id} is already defined in {rules[rule_id].source}")
            rules[rule_id] = _rule(rule_id, body, path.name)
    return Catalog(rules=rules, messages=messages, version=fingerprint.hexdigest()[:12])


@cache
def catalog() -> Catalog:
    """The shipped catalog, loaded once per process."""
    return load_catalog()
