# Two commands do all set-up on a fresh Debian machine with Python 3.11:
#   make run   -> venv + requirements + SQLite DB + demo users + sample books, then the Streamlit app
#   make test  -> venv + requirements (+ Chromium for the browser test), then pytest
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.txt | cut -c1-12)
PORT ?= 8501

.PHONY: install run test test-paddle system-test-deps lint bench bench-pipeline bench-recognition clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m workbench demo
	$(BIN)/streamlit run workbench/app.py --server.port $(PORT) --server.headless true

# Debian packages the tests use; the browser test skips (saying why) only if Chromium cannot be installed.
system-test-deps:
	@command -v chromium >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "warning: could not install chromium; the browser test will be skipped"; }

test: install system-test-deps
	$(BIN)/python -m pytest

test-paddle: install
	$(BIN)/python -m pip install --quiet -r requirements-paddle.txt
	$(BIN)/python -m pytest -m paddle tests/test_paddle.py

lint: install
	$(BIN)/ruff check .

bench-pipeline: install
	$(BIN)/python bench/pipeline.py --pages 24 --seed 9001

bench-recognition: install
	$(BIN)/python bench/recognition.py

bench: bench-pipeline bench-recognition

clean:
	rm -rf $(VENV) data test-artifacts
