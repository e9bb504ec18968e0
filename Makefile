# Build the book, run the tests. (The book's kernels draw with matplotlib's inline backend: do
# not set MPLBACKEND for `make book`.) Every target creates .venv (with Python 3.11+) when it is missing.
#   make book       execute every chapter and build the HTML book in _build/html (fails on any error or warning)
#   make test       run hlmkit's unit tests and doctests, the slow ones too (10M-row fits)
#   make lint       ruff check, ruff format --check and mypy (0 errors) on the code (see LINT_PATHS)
#   make visible    run every page with its hidden cells removed: the code a page shows must run on its own
#   make notebooks  the reader notebooks of the chapters and labs (figures inline, plain Markdown) in notebooks/
#   make student    the student edition (no solutions anywhere) in _build/student/html, then checks it
#   make dist       the sdist and wheel of hlmkit in dist/
#   make notebook-check  run notebooks in an empty folder against the wheel alone (what CI does)
#   make bench      run the speed benchmarks
#   make browser-test  every page of the built book in headless Chromium (after make book; see below)
#   make clean      remove built files (keeps .venv)
#   make assignments        graded assignments (otter-grader) from every lab and chapter with exercises,
#                           in _build/assignments/<page>/{student,autograder}; installs the teach extra
#   make grade-assignments  grade each assignment's solution (full marks) and student notebook (zero)
#   make test-assignments   the grading tests (one wrong answer loses exactly its question's points)

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

.PHONY: book test lint visible bench clean install assignments grade-assignments test-assignments

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# EXTRAS: the extras installed with hlmkit. CI installs them all at once (EXTRAS=book,dev,teach,browser),
# which also marks the teach extra as installed.
EXTRAS ?= book,dev
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	touch $@
	case ",$(EXTRAS)," in *,teach,*) touch $(VENV)/.teach-installed;; esac

test: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -q -p no:cacheprovider --slow

# ruff's rules and mypy's settings are in pyproject.toml; mypy checks the package only
LINT_PATHS ?= hlmkit _ext tools benchmarks browser_tests tests
lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

VISIBLE_JOBS ?= 2
# VISIBLE_PAGES: pages to run (default: every page of _toc.yml)
VISIBLE_PAGES ?=
visible: $(STAMP)
	$(BIN)/python tools/check_visible_code.py --jobs $(VISIBLE_JOBS) $(VISIBLE_PAGES)

# `make book` always builds (jupyter-book's cache skips what has not changed). The targets that need
# a built book depend on $(BOOK), which is rebuilt only when one of the book's inputs is newer.
BOOK := _build/.book-built
BOOK_INPUTS := $(SOURCES) intro.md references.md licence.md _config.yml _toc.yml references.bib \
	$(wildcard _ext/*.py) $(wildcard _static/*) $(wildcard hlmkit/*.py) $(wildcard data/*)

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	touch $(BOOK)

$(BOOK): $(STAMP) $(BOOK_INPUTS)
	$(BIN)/jupyter-book build . -W -n --keep-going
	touch $@

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf _build notebooks dist .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +

# --- notebooks, student edition, wheel (issue 10) ---------------------------------------------
# The HTML build writes the reader notebooks (_ext/notebook_export.py): _build/notebooks/full/ and,
# with `make student`, _build/notebooks/student/; their per-page contexts in _build/notebooks/context/.
.PHONY: notebooks student dist notebook-check
# a chapter whose hidden checks read tests/reference (so it ran only in a clone before), and both labs
NOTEBOOK_CHECK ?= chapters/06_hierarchical_model labs/lab1_example1 labs/lab1_example2

notebooks: $(BOOK)
	rm -rf notebooks && mkdir -p notebooks
	cp _build/notebooks/full/chapters/*.ipynb _build/notebooks/full/labs/*.ipynb notebooks/
	@echo "notebooks/ holds $$(ls notebooks/*.ipynb | wc -l) notebooks (the full edition)"

student: $(BOOK)
	$(BIN)/python tools/student_config.py _build/_config_student.yml
	if [ -d _build/student/html ]; then rm -rf _build/student/_build/html; mkdir -p _build/student/_build; \
	  mv _build/student/html _build/student/_build/html; fi
	$(BIN)/jupyter-book build . --path-output _build/student --config _build/_config_student.yml -W -n --keep-going
	mv _build/student/_build/html _build/student/html
	$(BIN)/python tools/check_student_site.py _build/html _build/student/html

dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	@ls -l dist

notebook-check: dist $(BOOK)
	$(BIN)/python tools/check_wheel_notebooks.py --wheel dist/hlmkit-*.whl \
	  $(addprefix _build/notebooks/full/,$(addsuffix .ipynb,$(NOTEBOOK_CHECK)))

# --- graded assignments (otter-grader, the optional extra .[teach]) ---------------------------------
TEACH := $(VENV)/.teach-installed

$(TEACH): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,dev,teach]"
	touch $@

# then: no solution text in what students get (their notebooks' cells, outputs and metadata)
assignments: $(TEACH) $(BOOK)
	$(BIN)/python tools/make_assignments.py --out _build/assignments
	$(BIN)/python tools/check_student_site.py _build/html --files _build/assignments/*/student/*.ipynb

# GRADE_FOLDERS: which assignments (default: all); GRADE_ARGS: e.g. --jobs 1 or --draw-figures
GRADE_FOLDERS ?= _build/assignments
grade-assignments: assignments
	$(BIN)/python tools/grade_assignments.py $(GRADE_FOLDERS) $(GRADE_ARGS)

test-assignments: $(TEACH)
	HLMKIT_TEACH=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_grading.py

# --- browser tests (issue 11) -----------------------------------------------------------------
# The built book (_build/html; run `make book` first) in Debian's headless chromium, offline:
# console errors, images, plotly 3D views, MathJax, raw TeX/MyST, overflow at 400 px, axe-core,
# figure alt text and resolution, search, the theme toggle; and fixtures proving each check can
# fail. Installs selenium (PyPI) and axe-core (npm) into .venv; without chromium and
# chromium-driver (apt, as root) it says so and tests nothing. Extra pytest arguments: ARGS="-k lab1".
.PHONY: browser-test
browser-test: $(STAMP)
	VENV=$(VENV) browser_tests/run $(ARGS)
