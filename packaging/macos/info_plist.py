"""Info.plist entries of the macOS app bundle, passed by packaging/auditapp.spec to ``BUNDLE(info_plist=...)``.

PyInstaller writes its own defaults (CFBundleExecutable, CFBundlePackageType, CFBundleIconFile, ...)
and updates them with this dict. Standard library only: the tests import it without PyInstaller.

The project file type: ``.auditproj`` files are declared as the exported UTI ``de.auditapp.project``
(JSON underneath), and the app is their owner and editor, so Finder opens them with auditapp.
"""

from __future__ import annotations

import re
from typing import Any

BUNDLE_ID = "de.auditapp.auditapp"
APP_NAME = "auditapp"
PROJECT_UTI = "de.auditapp.project"
PROJECT_EXTENSION = "auditproj"
PROJECT_MIME_TYPE = "application/x-auditapp-project"
#: PySide6 6.12's wheels are built for macOS 14 (``macosx_14_0_universal2``); older systems cannot run it.
MINIMUM_MACOS = "14.0"

_NUMERIC_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def bundle_version(version: str) -> str:
    """The ``major.minor.patch`` numbers of a PEP 440 version, as CFBundleShortVersionString demands.

    ``0.1.0`` stays ``0.1.0``; ``1.2`` becomes ``1.2.0``; ``0.2.0rc1`` or ``0.2.0.dev3`` become ``0.2.0``
    (macOS accepts only up to three non-negative integers there).
    """
    match = _NUMERIC_VERSION.match(version.strip())
    if match is None:
        raise ValueError(f"not a version number: {version!r}")
    return ".".join(str(int(part or 0)) for part in match.groups())


def info_plist(version: str) -> dict[str, Any]:
    """The Info.plist entries for auditapp ``version`` (the ``[project] version`` of pyproject.toml)."""
    numeric = bundle_version(version)
    return {
        "CFBundleIdentifier": BUNDLE_ID,
        "CFBundleName": APP_NAME,
        "CFBundleDisplayName": APP_NAME,
        "CFBundleShortVersionString": numeric,
        "CFBundleVersion": numeric,
        "CFBundleDevelopmentRegion": "en",
        # Without these, macOS shows Qt's native menus and dialogs in English only.
        "CFBundleLocalizations": ["de", "en"],
        "CFBundleAllowMixedLocalizations": True,
        "LSApplicationCategoryType": "public.app-category.business",
        "LSMinimumSystemVersion": MINIMUM_MACOS,
        "NSHighResolutionCapable": True,
        "NSRequiresAquaSystemAppearance": False,  # follow the system's dark mode
        "NSSupportsAutomaticGraphicsSwitching": True,
        "CFBundleDocumentTypes": [
            {
                "CFBundleTypeName": "auditapp project",
                "CFBundleTypeRole": "Editor",
                "LSHandlerRank": "Owner",
                "LSItemContentTypes": [PROJECT_UTI],
            },
        ],
        "UTExportedTypeDeclarations": [
            {
                "UTTypeIdentifier": PROJECT_UTI,
                "UTTypeDescription": "auditapp project",
                "UTTypeConformsTo": ["public.json", "public.data"],
                "UTTypeTagSpecification": {
                    "public.filename-extension": [PROJECT_EXTENSION],
                    "public.mime-type": [PROJECT_MIME_TYPE],
                },
            },
        ],
    }


if __name__ == "__main__":  # print the plist for a look: python packaging/macos/info_plist.py 0.1.0
    import plistlib
    import sys

    sys.stdout.buffer.write(plistlib.dumps(info_plist(sys.argv[1] if len(sys.argv) > 1 else "0.0.0")))
