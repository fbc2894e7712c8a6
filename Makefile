# Madoguchi: `make demo` runs the system on SQLite with demo data; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every dependency pinned with its hashes (R-39), compiled from pyproject.toml by `make lock`.
LOCK := requirements.lock
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
CHROMIUM := /usr/bin/chromium
DEMO_TARGETS ?= 2000
PORT ?= 8000

.PHONY: demo test lint typecheck pytest browser-deps migrate bench clean lock sbom cluster cluster-down

# The lock is installed with --require-hashes (a changed or substituted file is refused), then
# the project itself without dependencies: anything missing from the lock fails the import.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

# pip-compile and cyclonedx-py live in their own venv, so `make lock` works whatever the
# project's venv holds (or lacks).
$(TOOLS_STAMP):
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q pip-tools==7.6.2 cyclonedx-bom==7.5.0
	touch $(TOOLS_STAMP)

# Regenerate the lock from pyproject.toml (dev extra included) after adding or changing a
# dependency; pins already in the lock are kept, new ones resolved. Then the SBOM.
# `make lock UPGRADE=1` re-resolves every pin to the newest allowed version.
# Extras are kept (no --strip-extras): a package asked for with extras (weasyprint's
# fonttools[woff]) must be pinned with them, or pip's --require-hashes install refuses the
# lock as soon as PyPI has a newer release than the pin.
lock: $(TOOLS_STAMP)
	$(TOOLS)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --extra dev \
		--no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade,) \
		--output-file $(LOCK) pyproject.toml
	$(MAKE) sbom

# The CycloneDX SBOM of what the lock installs (docs/sbom.json, committed).
sbom: $(TOOLS_STAMP)
	$(TOOLS)/bin/cyclonedx-py requirements --pyproject pyproject.toml --output-reproducible \
		--of JSON -o docs/sbom.json $(LOCK)

demo: $(STAMP) browser-deps
	mkdir -p var/static
	MADOGUCHI_DEMO=1 $(BIN)/madoguchi migrate --noinput
	MADOGUCHI_DEMO=1 $(BIN)/madoguchi seed-demo --targets $(DEMO_TARGETS)
	@echo "Madoguchi: http://127.0.0.1:$(PORT)/  (health: http://127.0.0.1:$(PORT)/healthz)"
	MADOGUCHI_DEMO=1 $(BIN)/gunicorn madoguchi.wsgi --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 \
		--access-logformat '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss' --access-logfile -

# As root we install the system packages; otherwise browser tests are skipped
# with a notice, except under CI=true, where a missing browser fails the run.
SYSTEM_PACKAGES := chromium fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils

# Browser tests need Debian's Chromium; the PDFs (WeasyPrint) need Pango and the Noto CJK fonts.
browser-deps:
	@if ! dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ]; then \
			echo "Installing chromium and fonts-noto-cjk with apt..."; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null) \
				|| echo "!!! apt-get could not install $(SYSTEM_PACKAGES)"; \
		fi; \
	fi
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "!!!!!!!! $(CHROMIUM) is missing: BROWSER TESTS WILL BE SKIPPED (CI=true makes this a failure) !!!!!!!!"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check madoguchi bench
	$(BIN)/ruff format --check madoguchi bench

typecheck: $(STAMP)
	$(BIN)/mypy madoguchi

pytest: $(STAMP) browser-deps
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH)

# The production shape on this machine (docs/deploy.md): nginx on 8088/8443, two gunicorn app
# hosts in network namespaces, a PostgreSQL primary (5442) with a streaming replica (5443), Redis
# (6390). Needs root. Not part of `make test`.
cluster: $(STAMP)
	bash deploy/cluster/up.sh

cluster-down:
	bash deploy/cluster/down.sh

clean:
	rm -rf $(VENV) $(TOOLS) var .mypy_cache .ruff_cache
