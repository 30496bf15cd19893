# Every target bootstraps .venv from pyproject.toml: on a fresh machine `make demo`
# and `make test` are the whole set-up.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
PG_CLUSTER = $(shell ls /etc/postgresql 2>/dev/null | head -n 1)

.PHONY: demo test bench postgres clean openapi

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/casework demo

postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { \
	  echo "starting PostgreSQL $(PG_CLUSTER)"; \
	  pg_ctlcluster --skip-systemctl-redirect $(PG_CLUSTER) main start; \
	  for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }

test: $(STAMP) postgres
	$(VENV)/bin/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: $(STAMP) postgres
	$(VENV)/bin/python bench/server.py

openapi: $(STAMP)
	$(VENV)/bin/python -m server.openapi_dump > server/openapi.json

clean:
	rm -rf $(VENV) .pytest_cache
