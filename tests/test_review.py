"""The review layer: accepted risks, comments and severity overrides recorded with author and time."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditapp.core.model import Severity
from auditapp.core.project import Project, ProjectError
from auditapp.core.project_io import load_project, save_project
from auditapp.core.review import (
    accept_risk,
    add_comment,
    clear_override,
    override_severity,
    reviews_for,
    withdraw_acceptance,
)


def test_comments_accumulate_and_overrides_replace_each_other(tmp_path: Path) -> None:
    project = Project(name="Kunde", domain="example.com")
    add_comment(project, "SPF-MISSING", "example.com", "  talked to the provider  ", "Anna")
    add_comment(project, "SPF-MISSING", "*", "second remark", "Ben")
    override_severity(project, "SPF-MISSING", "example.com", "low", "only a parked domain", "Anna")
    override_severity(project, "SPF-MISSING", "example.com", Severity.MEDIUM, "it sends after all", "Ben")
    entries = reviews_for(project, "SPF-MISSING", "example.com")
    assert [e.kind for e in entries] == ["comment", "comment", "severity"]
    assert entries[0].text == "talked to the provider" and entries[0].author == "Anna"
    assert entries[2].severity is Severity.MEDIUM and entries[2].author == "Ben" and entries[2].at.endswith("+00:00")
    path = tmp_path / "p.auditproj"
    save_project(project, path)
    assert load_project(path).reviews == project.reviews
    assert clear_override(project, "SPF-MISSING", "example.com") is True
    assert clear_override(project, "SPF-MISSING", "example.com") is False
    assert [e.kind for e in project.reviews] == ["comment", "comment"]


def test_acceptance_is_replaced_per_result_and_can_be_withdrawn() -> None:
    project = Project(name="Kunde", domain="example.com")
    accept_risk(project, "DKIM-WEAK-KEY", "*", "swap planned", "Anna", "2027-03-31")
    accept_risk(project, "DKIM-WEAK-KEY", "*", "swap planned for Q2", "Anna", "2027-06-30")
    assert len(project.accepted_risks) == 1 and project.accepted_risks[0].expires == "2027-06-30"
    assert withdraw_acceptance(project, "DKIM-WEAK-KEY", "*") is True
    assert project.accepted_risks == []


@pytest.mark.parametrize(("call", "field"), [
    (lambda p: add_comment(p, "NO-SUCH-RULE", "*", "t", "a"), "rule"),
    (lambda p: add_comment(p, "SPF-MISSING", "*", "   ", "a"), "text"),
    (lambda p: add_comment(p, "SPF-MISSING", "*", "t", " "), "author"),
    (lambda p: add_comment(p, "SPF-MISSING", "*", "x" * 5000, "a"), "text"),
    (lambda p: accept_risk(p, "SPF-MISSING", "*", "t", "a", "soon"), "expires"),
])
def test_invalid_review_actions_change_nothing(call, field: str) -> None:
    project = Project(name="Kunde", domain="example.com")
    with pytest.raises(ProjectError) as exc:
        call(project)
    assert exc.value.field == field
    assert project.reviews == [] and project.accepted_risks == []


def test_an_unknown_severity_is_refused() -> None:
    project = Project(name="Kunde", domain="example.com")
    with pytest.raises(ValueError):
        override_severity(project, "SPF-MISSING", "*", "urgent", "why", "me")
    assert project.reviews == []
