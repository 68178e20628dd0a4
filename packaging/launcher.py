"""Entry script of the frozen program (PyInstaller needs a file, not a module path)."""

import sys

from auditapp.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
