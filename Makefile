# Build the book, run the tests. (The book's kernels draw with matplotlib's inline backend: do
# not set MPLBACKEND for `make book`.) Every target creates .venv (with Python 3.11+) when it is missing.
#   make book       execute every chapter and build the HTML book in _build/html (fails on any error or warning)
#   make test       run hlmkit's unit tests and doctests
#   make notebooks  write .ipynb copies of the chapters and labs into notebooks/
#   make student    the student edition of the book (solutions hidden) in _build/student
#   make bench      run the speed benchmarks
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

.PHONY: book test notebooks student bench clean install assignments grade-assignments test-assignments

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

# --- graded assignments (otter-grader, the optional extra .[teach]) ---------------------------------
TEACH := $(VENV)/.teach-installed

$(TEACH): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,dev,teach]"
	touch $@

assignments: $(TEACH)
	$(BIN)/python tools/make_assignments.py --out _build/assignments

grade-assignments: assignments
	$(BIN)/python tools/grade_assignments.py _build/assignments

test-assignments: $(TEACH)
	HLMKIT_TEACH=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_grading.py
