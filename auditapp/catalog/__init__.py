"""The rule catalog and every text the user reads: data with stable IDs, below the checks.

* :mod:`auditapp.catalog.text`: the two-language ``Text`` type and its loader (also used by
  the questionnaire and the data files);
* :mod:`auditapp.catalog.rules`: the rules (``data/*.toml``, one file per family) and messages;
* :mod:`auditapp.catalog.wording`: findings, reasons and problems put into German or English
  words for the terminal, JSON and the report.

The package depends only on :mod:`auditapp.core`'s model (and, for a reason that names an
unanswered question, on the questionnaire), so checks, collectors and reports can all read it.
"""

from auditapp.catalog.rules import (
    CATALOG_DIR,
    CATEGORIES,
    LIFECYCLES,
    RULE_ID,
    Catalog,
    CatalogError,
    OutcomeSpec,
    Rule,
    catalog,
    load_catalog,
)
from auditapp.catalog.text import LANGUAGES, Text

__all__ = ["CATALOG_DIR", "CATEGORIES", "LANGUAGES", "LIFECYCLES", "RULE_ID", "Catalog", "CatalogError", "OutcomeSpec",
           "Rule", "Text", "catalog", "load_catalog"]
