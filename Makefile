# Two commands for a fresh machine:  make run   and   make test
# Everything they need is installed into this folder (.venv, .tools) on first use.

SHELL := /bin/bash
PORT ?= 3000
PY := .venv/bin/python
TOOLS := $(CURDIR)/.tools
BUN_VERSION := 1.4.5
BUN := $(TOOLS)/bun/node_modules/.bin/bun

# Reflex offline: our bun from the npm registry, no version/network probes.
export PATH := $(TOOLS)/bun/node_modules/.bin:$(CURDIR)/.venv/bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export BUN_INSTALL_CACHE_DIR := $(TOOLS)/bun-cache
export REFLEX_CHECK_LATEST_VERSION := 0
export REFLEX_HTTP_CLIENT_BIND_ADDRESS := 0.0.0.0
export REFLEX_TELEMETRY_ENABLED := false
export NPM_CONFIG_REGISTRY ?= $(shell npm config get registry 2>/dev/null)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint typecheck format bench reliability clean deps system-deps agent voice

run: .venv/.installed $(BUN)
	$(PY) -m interview_app.cli bootstrap
	@echo "Serving on http://127.0.0.1:$(PORT)  (Ctrl+C stops)"
	PORT=$(PORT) $(PY) -m reflex run --env prod --frontend-port $(PORT) --backend-port $(PORT) --loglevel warning

agent: .venv/.installed
	$(PY) -m agent start

# Voice on this machine without accounts: the app, the LiveKit test server (a test double, not for
# production), the worker, and a local speech server unless OPENAI_API_KEY is set. Ctrl+C stops all.
voice: .venv/.dev-installed $(BUN) system-deps
	$(PY) -m tests.e2e.voice_stack

S3RVER := $(TOOLS)/s3rver/node_modules/s3rver/bin/s3rver.js
S3RVER_SIGV4 := $(TOOLS)/s3rver-sigv4/node_modules/@20minutes/s3rver/lib/s3rver.js
AXE := $(TOOLS)/axe/node_modules/axe-core/axe.min.js

test: .venv/.dev-installed $(BUN) $(S3RVER) $(S3RVER_SIGV4) $(AXE) system-deps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	@# mypy (about a minute without its cache) runs beside pytest; either failing fails the run.
	@$(PY) -m mypy > .mypy-output.txt 2>&1 & mypy_pid=$$!; \
	$(PY) -m pytest $(PYTEST_ARGS); pytest_rc=$$?; \
	wait $$mypy_pid; mypy_rc=$$?; echo "mypy:"; cat .mypy-output.txt; rm -f .mypy-output.txt; \
	test $$pytest_rc -eq 0 && test $$mypy_rc -eq 0

lint: .venv/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# mypy on interview_app/ and agent/ ([tool.mypy] in pyproject.toml). Not yet part of `make test`:
# it joins there once it reports no errors.
typecheck: .venv/.dev-installed
	$(PY) -m mypy

format: .venv/.dev-installed
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

.venv/bin/python:
	python3 -m venv .venv
	.venv/bin/pip install --quiet --upgrade pip

.venv/.installed: requirements.txt constraints.txt | .venv/bin/python
	.venv/bin/pip install --quiet -r requirements.txt
	touch $@

.venv/.dev-installed: requirements.txt requirements-dev.txt constraints.txt | .venv/bin/python
	.venv/bin/pip install --quiet -r requirements-dev.txt
	touch .venv/.installed $@

$(BUN):
	npm install --prefix $(TOOLS)/bun --no-audit --no-fund --loglevel=error bun@$(BUN_VERSION)

# S3 test servers: s3rver checks expiry; the @20minutes fork also checks SigV4 signatures.
$(S3RVER):
	npm install --prefix $(TOOLS)/s3rver --no-audit --no-fund --loglevel=error s3rver@3.7.1

$(S3RVER_SIGV4):
	npm install --prefix $(TOOLS)/s3rver-sigv4 --no-audit --no-fund --loglevel=error @20minutes/s3rver@5.0.0

# axe-core: the accessibility scan of the candidate pages in Chromium (tests/e2e/test_candidate_flow.py).
$(AXE):
	npm install --prefix $(TOOLS)/axe --no-audit --no-fund --loglevel=error axe-core@4.10.3

# Debian packages the browser, audio and load-balancer tests use (root on CI and dev machines).
# nginx lives in /usr/sbin, which a non-root PATH may lack.
system-deps:
	@missing=""; PATH="$$PATH:/usr/sbin:/sbin"; \
	for cmd in chromium:chromium espeak-ng:espeak-ng sox:sox nginx:nginx; do \
	  command -v $${cmd%%:*} >/dev/null || missing="$$missing $${cmd##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# Benchmarks (bench/README.md): ratios against baselines measured in the same run.
BENCH_NODE := bench/baselines/node-start/node_modules/.package-lock.json

$(BENCH_NODE): bench/baselines/node-start/package.json bench/baselines/node-start/package-lock.json
	npm ci --prefix bench/baselines/node-start --no-audit --no-fund --loglevel=error

bench: .venv/.dev-installed $(BUN) $(BENCH_NODE) system-deps
	BENCH_SMOKE_FULL=1 $(PY) -m pytest tests/test_bench_smoke.py -q -p no:cacheprovider -k "p5 or p6"
	$(PY) -m bench $(BENCH_ARGS)

# The whole reliability/security suite (docs/RELIABILITY.md); `make test` runs its fast subset.
# Loopback only, bounded; prints one figure per line at the end.
reliability: .venv/.dev-installed $(BUN) $(S3RVER) $(S3RVER_SIGV4) system-deps
	RELIABILITY_FULL=1 RELIABILITY_FIGURES_FILE=$(CURDIR)/tests/artifacts/reliability-figures.txt \
	  $(PY) -m pytest tests/reliability tests/e2e/test_worker_pool.py tests/e2e/test_redis_state.py -p no:cacheprovider -q $(PYTEST_ARGS) \
	  tests/review/test_storage_s3.py::test_expired_url_is_refused_and_a_fresh_one_works \
	  tests/review/test_storage_s3.py::test_forged_and_tampered_urls_are_refused

clean:
	rm -rf .web .states __pycache__ .pytest_cache
