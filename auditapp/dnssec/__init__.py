"""DNSSEC validation by auditapp itself, from a trust anchor (issue 16).

:mod:`~auditapp.dnssec.anchors` holds the built-in IANA root anchors and reads anchor files;
:mod:`~auditapp.dnssec.validator` walks the chain of trust with answers asked with DO=1 and
CD=1 (never trusting a resolver's AD bit) and gives one
:class:`~auditapp.collectors.dnssec_types.NameSecurity` per RRset.
"""

from auditapp.dnssec.anchors import TrustAnchor, TrustAnchorError, iana_root, load_anchor_file, parse_anchor_text
from auditapp.dnssec.validator import METHOD, Validator

__all__ = ["METHOD", "TrustAnchor", "TrustAnchorError", "Validator", "iana_root", "load_anchor_file",
           "parse_anchor_text"]
