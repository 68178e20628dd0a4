"""Entry point: no arguments open the desktop GUI, a subcommand runs headless."""

from __future__ import annotations

import sys


def main() -> int:
    if len(sys.argv) == 1:
        try:
            from auditapp.gui.app import run_gui  # type: ignore[import-not-found]
        except ImportError:
            print("auditapp: the desktop window is not part of this build yet; "
                  "use a subcommand (audit, spf-eval, batch, rules, demo) or --help", file=sys.stderr)
            return 3
        return int(run_gui(sys.argv))
    from auditapp.cli.main import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
