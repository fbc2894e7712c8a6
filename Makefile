# Madoguchi: `make demo` runs the system on SQLite with demo data; `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
DEMO_TARGETS ?= 2000
PORT ?= 8000

.PHONY: demo test lint typecheck pytest browser-deps migrate bench clean cluster cluster-down

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

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
	rm -rf $(VENV) var .mypy_cache .ruff_cache
