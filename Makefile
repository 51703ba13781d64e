# The two commands of a fresh machine: `make audit` and `make test`.
# Every target creates .venv when it is missing and installs what it needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= reports
MANIFEST ?=
STRICT ?=

.PHONY: audit test test-fast lint docs screenshots bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps make re-installs happen only when pyproject.toml changes.
$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.runtime

# The demo manifest against the embedded emulator, or MANIFEST=path against the real service
# (credentials from the environment or ~/.aliyun/config.json). Findings are the report's
# content, so only a tool failure (exit 1) fails the target, unless STRICT=1.
audit: $(VENV)/.runtime
	@$(BIN)/vod-audit run $(if $(MANIFEST),$(MANIFEST),examples/demo.yaml --emulator examples/demo-data.yaml) \
		--out $(OUT); rc=$$?; \
	if [ -n "$(STRICT)" ] || [ $$rc -eq 1 ]; then exit $$rc; fi

# Everything, as CI runs it (.ci/run), in two workers (pytest-xdist): about 9 minutes on 2 cores.
test: $(VENV)/.test
	@sh scripts/ensure-test-tools
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2

# The daily tier, under a minute: everything but the tests marked slow (end to end, reliability
# matrices, the browser, SDK interop, the wheel).
test-fast: $(VENV)/.test
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 -m "not slow"

lint: $(VENV)/.test
	$(BIN)/ruff check audit tests bench
	$(BIN)/ruff format --check audit tests bench
	$(BIN)/mypy

# The manual as a static site in site/ (`$(BIN)/mkdocs serve` to read it while writing).
docs: $(VENV)/.test
	$(BIN)/mkdocs build --strict -d site

# The report screenshots of README.md and docs/reports.md, from the demo's report (run `make audit` first).
screenshots: $(VENV)/.test
	@sh scripts/ensure-test-tools
	$(BIN)/python scripts/report-screenshots $(OUT)/report.html docs/img

bench: $(VENV)/.test
	@sh scripts/ensure-test-tools
	$(BIN)/python -m bench

bench-quick: $(VENV)/.test
	@sh scripts/ensure-test-tools
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) build dist site *.egg-info .pytest_cache .ruff_cache .hypothesis
	rm -rf examples/.vod-audit
	find $(OUT) -mindepth 1 ! -name .gitkeep -delete 2>/dev/null || true
