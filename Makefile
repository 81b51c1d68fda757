# kehoach-qa — two commands for a fresh machine (see README):
#   make run    venv + offline model + ingest + index, then serve UI and API on 127.0.0.1:8000
#   make test   venv + model + browser, then lint, unit/integration/browser tests and the eval gate
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INDEX_DIR ?= var/index
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test venv model ocr index serve browser lint unit eval eval-full fuzz gate bench-smoke clean help

help:
	@echo "make run   - set up everything and serve the UI + API on http://$(HOST):$(PORT)"
	@echo "make test  - set up everything and run lint, tests and the evaluation gate"

$(BIN)/kehoach: pyproject.toml
	@command -v $(PY) >/dev/null || { echo "need $(PY) (Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# torch first and pinned: the CPU wheel lies on this machine; anything else pulls a multi-GB CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/kehoach

venv: $(BIN)/kehoach

model: venv
	$(BIN)/kehoach model

$(INDEX_DIR)/manifest.json: $(BIN)/kehoach $(wildcard corpus/*)
	$(BIN)/kehoach ingest --index-dir $(INDEX_DIR) corpus/

index: model ocr $(INDEX_DIR)/manifest.json

# Debian's Tesseract with its Vietnamese model, for scanned PDFs and images (ingest/ocr.py); DejaVu draws the
# Vietnamese test pages of tests/test_pdf_docx.py
ocr:
	@{ command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx vie \
	   && test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf; } || { apt-get update -qq \
	   && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-vie fonts-dejavu-core >/dev/null; }

serve: index
	$(BIN)/kehoach serve --index-dir $(INDEX_DIR) --host $(HOST) --port $(PORT)

run: serve

# Debian's chromium for the browser tests (never a test tool's own browser download)
browser: venv
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	$(BIN)/pip install --quiet 'playwright==1.65.2'

lint: venv
	$(BIN)/ruff check .

unit: index ocr browser
	KEHOACH_TEST_INDEX_DIR=$(INDEX_DIR) $(BIN)/python -m pytest -q

# gold set + baselines + XQuAD-vi (read from ../shared), report, and the regression gate
eval: index
	$(BIN)/kehoach eval --index-dir $(INDEX_DIR) --suite all --baseline evals/baseline.json \
		--report var/eval/report.md --predictions var/eval/predictions.jsonl

# ALQAC 2024 in full: all 728 questions against all 2,249 statute articles (`make eval` runs its CI subset)
eval-full: index
	$(BIN)/kehoach eval --index-dir $(INDEX_DIR) --suite alqac --alqac-full \
		--report var/eval/alqac-full.md --predictions var/eval/alqac-full-predictions.jsonl

# schemathesis (every check, 30 examples per operation, ≤ 120 s) against `kehoach serve` on a free loopback port;
# report in var/fuzz/
fuzz: index
	BIN=$(BIN) scripts/fuzz.sh $(INDEX_DIR)

test: lint unit eval fuzz

clean:
	rm -rf var .pytest_cache .ruff_cache

bench-smoke: index
	$(BIN)/kehoach-bench --smoke
