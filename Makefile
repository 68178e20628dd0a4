# auditapp developer commands. `make test` and `make demo` work on a fresh machine.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test demo run lint bench lab-servers clean screenshots package lock

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,package]'
	touch $(STAMP)

# Real BIND 9 / Postfix / Dovecot for the test suite; installed only when running as root.
lab-servers:
	@bash tests/lab/install-lab-servers.sh

test: $(STAMP) lab-servers
	$(PY) -m ruff check
	tests/lab/with-keyring.sh $(PY) -m pytest

demo: $(STAMP)
	$(VENV)/bin/auditapp demo --out demo-output

run: $(STAMP)
	$(VENV)/bin/auditapp

lint: $(STAMP)
	$(PY) -m ruff check

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m bench.run_all   # needs root: the checkdmarc comparison binds 127.0.0.1:53

# The Linux one-folder bundle in dist/auditapp/ (PyInstaller), then its smoke test. It is built in
# its own venv from the hash-pinned lock file, so a release contains exactly the reviewed versions.
BUNDLE_VENV := build/bundle-venv
package:
	rm -rf $(BUNDLE_VENV)
	python3 -m venv $(BUNDLE_VENV)
	$(BUNDLE_VENV)/bin/python -m pip install -q --require-hashes --no-deps -r packaging/requirements-bundle.txt
	$(BUNDLE_VENV)/bin/python -m pip install -q --no-deps --no-build-isolation .
	$(BUNDLE_VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/auditapp.spec
	bash packaging/smoke_test.sh dist/auditapp

# Regenerate the lock file after a dependency change in pyproject.toml (needs the package index).
lock:
	python3 -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install -q pip-tools
	build/lock-venv/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --extra package \
		--no-emit-index-url --no-emit-find-links --output-file packaging/requirements-bundle.txt pyproject.toml

clean:
	rm -rf $(VENV) demo-output .pytest_cache build dist

# Screenshots of the window (under Xvfb when available) and of the demo report's first pages.
screenshots: $(STAMP)
	xvfb-run -a -s "-screen 0 1600x1000x24 -nolisten tcp" env QT_QPA_PLATFORM=xcb $(PY) resources/screenshots/make_gui_screenshots.py de
	xvfb-run -a -s "-screen 0 1600x1000x24 -nolisten tcp" env QT_QPA_PLATFORM=xcb $(PY) resources/screenshots/make_gui_screenshots.py en
