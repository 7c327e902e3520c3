# Tidemark developer entry points. Every target installs what it needs first.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "$$HOME/.local/bin/uv")
export TIDEMARK_STATE_DIR ?= $(CURDIR)/.tidemark

.PHONY: setup run stop clean test unit lint bench chaos schemas classifier-model sbom screenshots

setup:            ## install uv, the Python workspace, PostgreSQL binaries and the Kafka jars
	@bash deploy/bootstrap.sh

run: setup        ## start Kafka, PostgreSQL, the SMTP sink and the five services (Ctrl-C stops all)
	@$(UV) run --frozen tidemark-devstack run

stop:             ## stop whatever a `make run` left running
	@if [ -x "$(UV)" ] && [ -d .venv ]; then $(UV) run --frozen tidemark-devstack stop; fi

clean: stop       ## remove the local state folder (.tidemark/)
	rm -rf "$(TIDEMARK_STATE_DIR)"

test: setup       ## run the whole suite against real Kafka, PostgreSQL and SMTP
	@$(UV) run --frozen pytest

unit: setup       ## the pure tests and the in-process ones (each app over real PostgreSQL, no Kafka): under a minute
	@$(UV) run --frozen pytest tests/unit tests/sla tests/inprocess -q

lint: setup       ## ruff (incl. the wall-clock ban), mypy strict, import-linter, hadolint, the Helm chart and compose file
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy
	$(UV) run --frozen lint-imports
	$(UV) run --frozen hadolint --failure-threshold warning Dockerfile
	@# helm is built once into $(TIDEMARK_STATE_DIR)/bin (deploy/helm/ensure-helm.sh)
	$(UV) run --frozen pytest -q tests/delivery -m "not integration"

bench:            ## benchmarks: prints ratios measured side by side in one run
	@bash deploy/bootstrap.sh --bench
	@$(UV) run --frozen python -m tests.bench

chaos: setup      ## 10,000 tickets at 50/s while each part is killed or restarted; exits 1 when an invariant fails (SEED=, TICKETS=, RATE=)
	@$(UV) run --frozen python -m tests.chaos $(if $(SEED),--seed $(SEED)) --tickets $(or $(TICKETS),10000) --rate $(or $(RATE),50)

sbom: setup       ## a CycloneDX SBOM of the image's venv (built as the Dockerfile builds it): dist/sbom.cdx.json
	@bash deploy/image/sbom.sh dist/sbom.cdx.json dist/image-venv

screenshots: setup  ## refresh the board's screenshots in docs/images (a headless Chromium run)
	@mkdir -p docs/images
	@TIDEMARK_SCREENSHOTS=$(CURDIR)/docs/images $(UV) run --frozen pytest -q tests/e2e/test_board_browser.py tests/e2e/test_board_scale.py

schemas: setup    ## regenerate the published JSON Schemas of every event type and docs/asyncapi.yaml
	@$(UV) run --frozen python -m tidekit.events.schemas docs/schemas

classifier-model: setup  ## retrain the classifier's text model on tests/data/classifier/requests.jsonl
	@$(UV) run --frozen tidemark-classifier-train tests/data/classifier/requests.jsonl
