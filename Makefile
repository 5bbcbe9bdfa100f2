# Two commands do all set-up on a fresh Debian machine with Python 3.11:
#   make run   -> venv + requirements + SQLite DB + demo users + sample books, then the Streamlit app
#   make test  -> venv + requirements, ruff + mypy (make lint), Chromium for the browser test, then pytest
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.txt | cut -c1-12)
PORT ?= 8501

PADDLE_VENV := .venv-paddle
# Service-layer suites that also run on PostgreSQL (make test-pg; .ci/run starts the server).
PG_SUITES := tests/test_review.py tests/test_scope.py tests/test_supervision.py tests/test_contractor.py \
	tests/test_segmentation_editor.py tests/test_report.py tests/test_exports.py tests/test_crosscheck.py \
	tests/test_book_type_mismatch.py tests/test_drafts.py tests/test_queue_ranking.py tests/test_deliverables.py \
	tests/test_my_progress.py tests/test_approval_checks.py tests/test_book_order.py

.PHONY: install install-extras run test test-pg test-paddle system-test-deps lint bench bench-pipeline \
	bench-recognition clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m workbench demo
	$(BIN)/streamlit run streamlit_app.py --server.port $(PORT) --server.headless true

# Debian packages the tests use; the browser test skips (saying why) only if Chromium cannot be installed.
system-test-deps:
	@command -v chromium >/dev/null 2>&1 || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "warning: could not install chromium; the browser test will be skipped"; }

# Lint first: CI runs the README's test command, so this is where ruff and mypy gate a change.
test: lint system-test-deps
	$(BIN)/python -m pytest

# Optional engines and training deps in the main venv (CPU torch from the pinned local wheel,
# Tesseract vie from Debian): their tests skip, saying why, when these are absent.
install-extras: install
	$(BIN)/python -m pip install --quiet -r requirements-train.txt -r requirements-ocr-extra.txt
	@test -f /usr/share/tesseract-ocr/5/tessdata/vie.traineddata || \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr \
	    tesseract-ocr-vie >/dev/null) || echo "warning: could not install tesseract-ocr-vie"; }

# The same service suites on the PostgreSQL server named by WORKBENCH_TEST_PG.
test-pg: install
	@test -n "$$WORKBENCH_TEST_PG" || { echo "set WORKBENCH_TEST_PG (e.g. \$$(bash .ci/postgres.sh))"; exit 2; }
	WORKBENCH_SERVICES_ON_PG=1 $(BIN)/python -m pytest $(PG_SUITES)

# PaddleOCR brings its own OpenCV build, so it gets its own venv.
# paddlex pins PyYAML 6.0.2, so ours is left out there; --only-binary avoids an sdist that cannot build.
test-paddle:
	test -x $(PADDLE_VENV)/bin/python || $(PYTHON) -m venv $(PADDLE_VENV)
	$(PADDLE_VENV)/bin/python -m pip install --quiet --only-binary=:all: -r requirements-paddle.txt
	grep -vi '^pyyaml' requirements.txt > $(PADDLE_VENV)/requirements-no-yaml.txt
	$(PADDLE_VENV)/bin/python -m pip install --quiet --only-binary=:all: -r $(PADDLE_VENV)/requirements-no-yaml.txt
	$(PADDLE_VENV)/bin/python -m pytest -m paddle tests/test_paddle.py

# ruff on the whole repository; mypy on the app's packages with [tool.mypy] in pyproject.toml
# (it also follows what they import, e.g. samples/). The layering contracts are tests/test_layering.py.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy ocr models workbench app_pages streamlit_app.py

bench-pipeline: install
	$(BIN)/python bench/pipeline.py --pages 24 --seed 9001

bench-recognition: install
	$(BIN)/python -m bench.recognition --pages 4 --seed 2027

bench: bench-pipeline bench-recognition

clean:
	rm -rf $(VENV) $(PADDLE_VENV) data test-artifacts
