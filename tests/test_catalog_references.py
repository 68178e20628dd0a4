"""Sources in a German report read German (issue 14): citations stay as cited, explanations are translated."""

from __future__ import annotations

import re

import pytest

from auditapp.catalog import CatalogError, catalog
from auditapp.catalog.rules import _reference
from auditapp.catalog.wording import render_finding
from auditapp.core.model import Finding, Severity, Status

#: Words of our own English explanations; titles of cited English documents are exempt below.
_ENGLISH = re.compile(r"\b(knowledge base|the|is|since|section|requirements|testing mode|reserved|advice|tags)\b")
#: External documents cited by their own (English) title.
_CITED_TITLES = ("Spamhaus: help for legacy blocklist users",)


def test_no_reference_explains_itself_in_english_under_german() -> None:
    found = [(rule.id, ref.de) for rule in catalog().rules.values() for ref in rule.references
             if _ENGLISH.search(ref.de) and not ref.de.startswith(_CITED_TITLES)]
    assert found == []


def test_a_finding_renders_its_references_in_the_report_language() -> None:
    finding = Finding("ADSP-RECORD", Status.FAIL, Severity.INFO, "example.com", "present",
                      params={"domain": "example.com", "record": "dkim=all"})
    assert "RFC 5617 (seit 2013 „Historic“)" in render_finding(finding, "de")["references"]
    assert "RFC 5617 (Historic since 2013)" in render_finding(finding, "en")["references"]


@pytest.mark.parametrize("bad", ["", "  ", 7, {"de": "nur deutsch"}, None])
def test_a_reference_is_a_citation_or_a_text_in_both_languages(bad: object) -> None:
    with pytest.raises(CatalogError):
        _reference(bad, "x.references[0]")
