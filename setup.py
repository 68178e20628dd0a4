"""Package layout that pyproject.toml cannot express: the data folders as package data.

``reports/`` (themes, fonts, logos, boilerplate) and ``resources/`` (icons) live at the top of
the repository, where consultants edit them and the PyInstaller spec picks them up. An
installed wheel needs them inside the package, so they are mapped to ``auditapp.assets.reports``
and ``auditapp.assets.resources``; :func:`auditapp.paths.asset_dir` finds them there.
Everything else (metadata, dependencies, package data patterns) is in pyproject.toml.
"""

from setuptools import find_packages, setup

ASSETS = {"auditapp.assets.reports": "reports", "auditapp.assets.resources": "resources"}

setup(
    packages=[*find_packages(include=["auditapp", "auditapp.*"]), *ASSETS],
    package_dir=ASSETS,
)
