"""Exit codes and the two errors every command may raise: the CLI's contract with scripts.

Kept apart from :mod:`auditapp.cli.main` (the parser and dispatcher) so the command modules can
raise them without importing the module that imports them: no import cycle in ``cli/``.
"""

from __future__ import annotations

#: 0 done, 1 an open result at or above ``--fail-on`` failed, 2 invalid input (one line on stderr,
#: nothing written), 3 could not run (resolver, files, disk, environment) or the audit ran but
#: could test nothing at all (no result passed or failed, e.g. a resolver that never answered).
EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_CANNOT_RUN = 0, 1, 2, 3


class UsageError(Exception):
    """Invalid input; reported as one line with exit code 2."""


class CannotRun(Exception):
    """The command could not run (resolver, files, environment); exit code 3."""
