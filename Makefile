# Build the book, run the tests. (The book's kernels draw with matplotlib's inline backend: do
# not set MPLBACKEND for `make book`.) Every target creates .venv (with Python 3.11+) when it is missing.
#   make book       execute every chapter and build the HTML book in _build/html (fails on any error or warning)
#   make test       run hlmkit's unit tests and doctests
#   make notebooks  write .ipynb copies of the chapters and labs into notebooks/
#   make student    the student edition of the book (solutions hidden) in _build/student
#   make bench      run the speed benchmarks
#   make browser-test  every page of the built book in headless Chromium (after make book; see below)
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

.PHONY: book test notebooks student bench clean install

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,dev]"
	touch $@

test: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -q -p no:cacheprovider

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

# --- browser tests (issue 11) -----------------------------------------------------------------
# The built book (_build/html; run `make book` first) in Debian's headless chromium, offline:
# console errors, images, plotly 3D views, MathJax, raw TeX/MyST, overflow at 400 px, axe-core,
# figure alt text and resolution, search, the theme toggle; and fixtures proving each check can
# fail. Installs selenium (PyPI) and axe-core (npm) into .venv; without chromium and
# chromium-driver (apt, as root) it says so and tests nothing. Extra pytest arguments: ARGS="-k lab1".
.PHONY: browser-test
browser-test: $(STAMP)
	VENV=$(VENV) browser_tests/run $(ARGS)
