"""The GUI's two resolver fields (settings, target page) use the one rule of core/validation.py.

They wrapped ``dnsclient.parse_nameserver`` each in their own way (issue 13); now both call
:func:`~auditapp.core.validation.validate_nameserver` and only the wording of a malformed entry
differs: the settings dialog shows its format hint.
"""

from __future__ import annotations

import pytest

from auditapp.core.validation import InputError, validate_nameserver
from auditapp.gui.dialogs.settings_dialog import check_resolver
from auditapp.gui.pages.target_page import _nameserver


@pytest.mark.parametrize("text", ["192.0.2.53", "192.0.2.53:53", "[2001:db8::53]:5353", "::1", "[::1]"])
def test_both_fields_accept_what_the_rule_accepts(text: str) -> None:
    address, port = validate_nameserver(text)
    assert check_resolver(text) == _nameserver(text) == f"{address}:{port}"


def test_the_duplicate_key_sees_the_default_port() -> None:
    assert check_resolver("192.0.2.1") == check_resolver("192.0.2.1:53")
    assert _nameserver("[::1]") == _nameserver("::1")


@pytest.mark.parametrize(("text", "code"), [
    ("resolver.example", "not_ip"), ("192.0.2.53:99999", "invalid"), ("[::1", "invalid"), ("1.2.3.4 5", "whitespace"),
])
def test_both_fields_refuse_what_the_rule_refuses(gui_lang: str, text: str, code: str) -> None:
    with pytest.raises(InputError) as rule:
        validate_nameserver(text)
    with pytest.raises(InputError) as settings:
        check_resolver(text)
    with pytest.raises(InputError) as target:
        _nameserver(text)
    assert rule.value.code == settings.value.code == target.value.code == code
    if code == "invalid":
        assert "IP:Port" in str(settings.value)  # the dialog's hint, in the GUI language
    else:
        assert str(settings.value) == str(target.value) == str(rule.value)
