# The README's two commands: `make run` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
STAMP := $(VENV)/.installed

.PHONY: run test unit e2e bench lint translations clean cluster system-packages-run system-packages-test system-packages-cluster

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Debian packages (Chromium, the CJK font, poppler, HAProxy): installed with apt-get when missing
# and root, else one line naming them (deploy/system-packages.sh; .ci/run uses the same script).
system-packages-run system-packages-test system-packages-cluster:
	@sh deploy/system-packages.sh $(@:system-packages-%=%)

translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d govservice/translations -D messages >/dev/null

## make run: install, migrate, load the demo data, start the identity provider and the app
run: system-packages-run $(STAMP) translations
	$(FLASK) govservice db upgrade
	$(FLASK) govservice demo
	$(FLASK) govservice serve

## make test: the whole suite (unit, integration, then the browser journey)
test: system-packages-test
	$(MAKE) --no-print-directory unit e2e

# Python writes its bytecode caches (__pycache__, git-ignored) even where the environment says not to:
# else every test run, and each of its workers, compiles govservice and rewrites every test module again.
unexport PYTHONDONTWRITEBYTECODE

# WORKERS: pytest-xdist workers (2: this machine's cores); each has its own SQLite file, PostgreSQL
# database and Redis database (tests/conftest.py). WORKERS=0 runs in one process.
WORKERS ?= 2
unit: $(STAMP) translations
	$(BIN)/python -m pytest tests -q -n $(WORKERS) --dist loadfile \
	  --cov --cov-report=term-missing:skip-covered --cov-fail-under=90 --no-cov-on-fail

e2e: $(STAMP) translations
	bash e2e/axe/install.sh
	$(BIN)/python -m pytest e2e -q

## make cluster: the production topology on this machine (deploy/cluster.py): INSTANCES (3) gunicorn
## instances behind HAProxy on CLUSTER_PORT (8000), Celery workers and beat, the development provider,
## on DATABASE_URL / REDIS_URL (default: the local PostgreSQL database govservice and Redis db 0)
cluster: system-packages-cluster $(STAMP) translations
	$(BIN)/python deploy/cluster.py

## make bench: every benchmark; the throughput figures of issue 9 want PostgreSQL and Redis, e.g.
##   make bench DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0
bench: $(STAMP) translations
	$(BIN)/python bench/tokens.py
	$(BIN)/python bench/verify_http.py
	$(BIN)/python bench/syscalls.py
	$(BIN)/python bench/submit_http.py
	$(BIN)/python bench/identity.py
	$(BIN)/python bench/front_office.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/issuance.py
	@case "$$DATABASE_URL" in postgresql*) $(BIN)/python bench/lists.py ;; \
	  *) echo "bench/lists.py: skipped (it loads a million cases by PostgreSQL COPY: set DATABASE_URL)" ;; esac

## make lint: ruff (lint and format), the import layers of ARCHITECTURE.md (lint-imports) and the
## English catalogue against the code's messages (deploy/check_translations.py)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python deploy/check_translations.py

clean:
	rm -rf $(VENV) instance .pytest_cache
