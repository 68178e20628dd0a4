# auditapp developer commands. `make test` and `make demo` work on a fresh machine.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
.DEFAULT_GOAL := $(STAMP)

# Python 3.12 or newer (PySide6 6.12 needs the immortal True/False of 3.12; see auditapp/gui/__init__.py).
# PYTHON=/path/to/python overrides; otherwise the first that is new enough of python3.12, pyenv's
# 3.12, python3.13, pyenv's newer ones and python3 (3.12 first: the version the lock file and CI use).
ifeq ($(origin PYTHON), undefined)
PYTHON := $(shell for p in python3.12 \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3 2>/dev/null | sort -rV) python3.13 \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[3-9]*/bin/python3 2>/dev/null | sort -rV) python3; do \
	  if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; \
	  then command -v $$p; break; fi; done)
endif

# A venv made with an older Python (before 3.12 was required) is rebuilt, not reused.
venv-check:
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  echo "$(VENV) was made with $$($(PY) --version 2>&1); rebuilding it with Python 3.12 or newer"; \
	  rm -rf $(VENV); fi

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "auditapp needs Python 3.12 or newer and none was found (tried python3.13, python3.12, pyenv, python3)." >&2; \
	  echo "Install one (e.g. apt install python3.12-venv, or pyenv install 3.12) or run: make PYTHON=/path/to/python3.12" >&2; \
	  exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,package]'
	touch $(STAMP)

# Real BIND 9 / Postfix / Dovecot for the test suite; installed only when running as root.
lab-servers:
	@bash tests/lab/install-lab-servers.sh

test: venv-check $(STAMP) lab-servers
	$(PY) -m ruff check
	tests/lab/with-keyring.sh $(PY) -m pytest

demo: venv-check $(STAMP)
	$(VENV)/bin/auditapp demo --out demo-output

# The preflight names a missing system library and its apt package (Linux/X11 only) instead of
# Qt's "could not load the Qt platform plugin xcb".
run: venv-check $(STAMP)
	@$(PY) -m auditapp.gui.preflight
	$(VENV)/bin/auditapp

lint: venv-check $(STAMP)
	$(PY) -m ruff check

bench: venv-check $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m bench.run_all   # needs root: the checkdmarc comparison binds 127.0.0.1:53

# The Linux one-folder bundle in dist/auditapp/ (PyInstaller), then its smoke test. It is built in
# its own venv from the hash-pinned lock file, so a release contains exactly the reviewed versions.
BUNDLE_VENV := build/bundle-venv
package:
	rm -rf $(BUNDLE_VENV)
	$(PYTHON) -m venv $(BUNDLE_VENV)
	$(BUNDLE_VENV)/bin/python -m pip install -q --require-hashes --no-deps -r packaging/requirements-bundle.txt
	$(BUNDLE_VENV)/bin/python -m pip install -q --no-deps --no-build-isolation .
	$(BUNDLE_VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/auditapp.spec
	bash packaging/smoke_test.sh dist/auditapp

# Regenerate the lock file after a dependency change in pyproject.toml (needs the package index).
lock:
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install -q pip-tools
	build/lock-venv/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --extra package \
		--no-emit-index-url --no-emit-find-links --output-file packaging/requirements-bundle.txt pyproject.toml

clean:
	rm -rf $(VENV) demo-output .pytest_cache build dist

# Screenshots of the window (under Xvfb when available) and of the demo report's first pages.
screenshots: venv-check $(STAMP)
	xvfb-run -a -s "-screen 0 1600x1000x24 -nolisten tcp" env QT_QPA_PLATFORM=xcb $(PY) resources/screenshots/make_gui_screenshots.py de
	xvfb-run -a -s "-screen 0 1600x1000x24 -nolisten tcp" env QT_QPA_PLATFORM=xcb $(PY) resources/screenshots/make_gui_screenshots.py en
