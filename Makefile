# Loom: `make demo` runs the showcase, `make test` the whole suite, `make bench` the benchmarks.
# All bootstrap .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
APT_PACKAGES := openssh-server openssh-client

.PHONY: demo bench test lint typecheck pytest format clean system-deps venv

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Debian packages the tests need (a real sshd for the SSH spin-up tests).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	  if [ "$$SUDO" = none ]; then echo "missing Debian packages:$$missing (SSH tests will be skipped)"; \
	  else $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; fi; \
	fi

demo: $(STAMP)
	$(BIN)/loom demo

# Every scenario beside its baseline; one table, JSON in bench/results/. ARGS="--quick --only mcp"
bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider

# deploy/: the Dockerfile (hadolint), the entrypoint (shellcheck), the GitHub workflows
# (actionlint, with shellcheck on their run: steps) and the Kubernetes manifests (the
# Kubernetes OpenAPI schemas, offline). kustomization.yaml is kustomize's, not a Kubernetes object.
DEPLOY_MANIFESTS := $(filter-out %/kustomization.yaml,$(wildcard deploy/kubernetes/*.yaml))

deploy-lint: $(STAMP)
	$(BIN)/hadolint --config deploy/hadolint.yaml deploy/docker/Dockerfile
	$(BIN)/shellcheck deploy/docker/*.sh
	$(BIN)/actionlint -shellcheck=$(BIN)/shellcheck -pyflakes= deploy/github/workflows/*.yml
	$(BIN)/python deploy/check_manifests.py $(DEPLOY_MANIFESTS)
	$(BIN)/ruff check deploy
	$(BIN)/ruff format --check deploy

test: lint typecheck deploy-lint pytest

format: $(STAMP)
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
