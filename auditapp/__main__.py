"""Entry point: no arguments (or a project file) open the desktop GUI, a subcommand runs headless."""

from __future__ import annotations

import sys

#: Arguments that belong to the window rather than the command line interface.
_GUI_FLAGS = ("--self-test",)
_SUBCOMMANDS = ("audit", "spf-eval", "batch", "rules", "report", "accept", "review", "demo")


def wants_gui(argv: list[str]) -> bool:
    """``auditapp``, ``auditapp FILE.auditproj`` (or any existing file) and ``--self-test`` open the window.

    A subcommand name always means the subcommand, even when a file of that name exists.
    """
    from pathlib import Path

    args = argv[1:]
    if args and args[0] in _SUBCOMMANDS:
        return False
    return all(a in _GUI_FLAGS or a.endswith(".auditproj") or (not a.startswith("-") and Path(a).is_file())
               for a in args)


def main() -> int:
    if wants_gui(sys.argv):
        try:
            from auditapp.gui.app import run_gui
        except ImportError as exc:
            print(f"auditapp: the desktop window cannot start ({exc}); "
                  "use a subcommand (audit, report, batch, rules, demo) or --help", file=sys.stderr)
            return 3
        return int(run_gui(sys.argv))
    from auditapp.cli.main import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
