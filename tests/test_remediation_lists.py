"""A printed fix must not overwrite a Postfix list parameter with one value (Safe remediations).

Real stacks keep several values in ``tls_ssl_options`` (tests/corpus/postfix: docker-mailserver
``NO_COMPRESSION, NO_RENEGOTIATION``, Mailu ``NO_COMPRESSION, NO_TICKET``). A remediation that
prints ``postconf -e 'tls_ssl_options = X'`` would drop the others when pasted; the texts say which
value to add or remove instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditapp.catalog import catalog
from auditapp.postfix import config_from_texts, read_texts

CORPUS = Path(__file__).parent / "corpus" / "postfix"
LISTS = ("tls_ssl_options",)


@pytest.mark.parametrize("stack", ["dms-rspamd", "mailu"])
def test_the_corpora_keep_several_values_in_the_list(stack: str) -> None:
    config = config_from_texts(read_texts(CORPUS / stack), stack)
    values = re.split(r"[\s,]+", config.get("tls_ssl_options").value.strip())
    assert len(values) >= 2 and "NO_COMPRESSION" in values, values


def test_no_remediation_overwrites_a_list_parameter_with_one_value() -> None:
    overwrite = re.compile(r"postconf -e\s+['\"]?(" + "|".join(LISTS) + r")\s*=\s*[A-Z_0-9x]+['\"]")
    for rule in catalog().rules.values():
        texts = [rule.remediation.get(lang) for lang in ("de", "en")]
        texts += [o.remediation.get(lang) for o in rule.outcomes.values() if o.remediation for lang in ("de", "en")]
        for text in texts:
            assert not overwrite.search(text or ""), (rule.id, text)
