"""DNS label and name lengths are checked in the form DNS carries, and idna's errors get our codes.

The window shows a German or English text per code; idna's own English ("Empty Label",
"Label too long") reached German forms verbatim before (issue 14).
"""

from __future__ import annotations

import pytest

from auditapp.core.validation import InputError, normalize_domain


def _code(text: str) -> str:
    with pytest.raises(InputError) as caught:
        normalize_domain(text)
    return caught.value.code


def test_a_label_of_63_octets_passes_and_64_fails_with_its_length() -> None:
    assert normalize_domain("a" * 63 + ".de") == "a" * 63 + ".de"
    with pytest.raises(InputError) as caught:
        normalize_domain("a" * 64 + ".de")
    assert caught.value.code == "label_too_long" and caught.value.params == {"length": 64}


def test_a_u_label_counts_as_its_a_label() -> None:
    assert len(normalize_domain("ü" * 57 + ".de").split(".")[0]) == 63
    with pytest.raises(InputError) as caught:
        normalize_domain("ü" * 58 + ".de")  # 58 characters, but xn--tda + 57 a = 64 octets
    assert caught.value.code == "label_too_long" and caught.value.params == {"length": 64}
    assert normalize_domain("ａ" * 63 + ".de") == "a" * 63 + ".de"  # fullwidth maps to ASCII first


def test_the_whole_name_counts_to_253_octets() -> None:
    name = ".".join(["a" * 63] * 3 + ["a" * 61])  # 253
    assert normalize_domain(name) == name
    with pytest.raises(InputError) as caught:
        normalize_domain("ü." + name)
    assert caught.value.code == "name_too_long" and caught.value.params == {"length": 253 + 8}


@pytest.mark.parametrize(("text", "code"), [
    ("a..b.de", "empty_label"), (".de", "empty_label"), ("a.de..", "empty_label"),
    ("-a.de", "hyphen_edge"), ("ab--c.de", "hyphen_34"), ("xn--zz.de", "bad_alabel"),
    ("a_b.de", "bad_char"), ("a.\u0661\u0662.de", "bidi"),
])
def test_idna_errors_have_our_codes(text: str, code: str) -> None:
    assert _code(text) == code


def test_a_bad_character_is_named_with_its_position() -> None:
    with pytest.raises(InputError) as caught:
        normalize_domain("a_b.de")
    assert caught.value.params == {"char": "_", "codepoint": "U+005F", "position": 2}


def test_the_cli_keeps_its_english_messages() -> None:
    with pytest.raises(InputError, match=r"^domain 'bad\.\.example' is not a valid domain name: Empty Label$"):
        normalize_domain("bad..example")
    with pytest.raises(InputError, match=r"label 'aaaaaaaaaaaaaaaaaaaa'\.\.\. is 64 octets long \(63 allowed\)"):
        normalize_domain("a" * 64 + ".de")
