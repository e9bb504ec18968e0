# Build the book, run the tests. (The book's kernels draw with matplotlib's inline backend: do
# not set MPLBACKEND for `make book`.) Every target creates .venv (with Python 3.11+) when it is missing.
#   make book       execute every chapter and build the HTML book in _build/html (fails on any error or warning)
#   make test       run hlmkit's unit tests and doctests
#   make visible    run every page with its hidden cells removed: the code a page shows must run on its own
#   make notebooks  write .ipynb copies of the chapters and labs into notebooks/
#   make student    the student edition of the book (solutions hidden) in _build/student
#   make bench      run the speed benchmarks
#   make clean      remove built files (keeps .venv)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PYTHONHASHSEED := 0
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

SOURCES := $(wildcard chapters/*.md) $(wildcard labs/*.md)

.PHONY: book test visible notebooks student bench clean install

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,dev]"
	touch $@

test: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -q -p no:cacheprovider

VISIBLE_JOBS ?= 2
visible: $(STAMP)
	$(BIN)/python tools/check_visible_code.py --jobs $(VISIBLE_JOBS)

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going

notebooks: $(STAMP)
	mkdir -p notebooks
	for f in $(SOURCES); do \
	  $(BIN)/jupytext --quiet --to ipynb --output notebooks/$$(basename $${f%.md}).ipynb $$f || exit 1; \
	done
	@echo "notebooks/ holds $$(ls notebooks/*.ipynb | wc -l) notebooks"

student: $(STAMP)
	$(BIN)/python tools/student_config.py _build/_config_student.yml
	$(BIN)/jupyter-book build . --path-output _build/student --config _build/_config_student.yml -W -n --keep-going

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf _build notebooks .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
