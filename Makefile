# The course's commands. The README's two: `make book` (build the book) and `make test`;
# `make test-fast` is the developer's loop.
# Each creates the virtual environment .venv on first use and installs what it needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Optional, for the independent autograd cross-check and the PyTorch benchmark: the CPU build
# of PyTorch. Where it cannot be installed, those tests skip with a reason.
TORCH  ?= torch==2.13.0+cpu

.PHONY: help book test test-fast demo lab notebooks assignments student-repo autograde feedback export grade bench system-deps clean

help:
	@echo "make book         build the HTML book into _build/html (the main job)"
	@echo "make test         run every test: rnnlib, notebooks (nbval), book, grading"
	@echo "make test-fast    the developer's loop: rnnlib's and the grader's unit tests (under 2 minutes)"
	@echo "make demo         a short demo of the cells in the terminal"
	@echo "make notebooks    re-execute the chapters and solutions in place (authors)"
	@echo "make lab          open JupyterLab on the assignments"
	@echo "make assignments  regenerate assignments/ from solutions/ (instructors)"
	@echo "make student-repo DEST=<dir>  write the repository students clone (a new dir, or a clone to update)"
	@echo "make autograde    grade every submission in submitted/ (instructors; ASSIGNMENT=name for one)"
	@echo "make feedback     write feedback/<student>/<assignment>/*.html from the gradebook"
	@echo "make export       export the gradebook to grades.csv (and each part's points to grades_by_part.csv)"
	@echo "make grade        autograde, feedback and export in one go"
	@echo "make bench        run the benchmarks and write benchmarks/reports/"

# The virtual environment.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[course]'
	$(BIN)/pip install --quiet '$(TORCH)' || echo "note: $(TORCH) not installable here; the PyTorch cross-check will be skipped"
	touch $@

# The students' install kept as wheels, which only the tests need (the test of the students'
# path without make installs it from there, offline).
WHEELS := $(VENV)/student-wheels/.downloaded
$(WHEELS): $(STAMP)
	$(BIN)/python tools/student_repo.py --download-wheels $(VENV)/student-wheels
	touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "Open _build/html/index.html in a browser."

test: $(STAMP) $(WHEELS) system-deps
	$(BIN)/python -m pytest

# The tests not marked slow: no notebooks (nbval), no book build, no browser, no grading round
# trip through nbgrader and the sandbox, no siege, no students' repository.
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not slow"

demo: $(STAMP)
	$(BIN)/python -m rnnlib.demo

system-deps:
	@$(BIN)/python tools/system_deps.py

lab: $(STAMP)
	$(BIN)/jupyter lab assignments/ $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# nbgrader runs `alembic` from PATH, so the virtual environment's bin/ goes first.
assignments: $(STAMP)
	for a in $$(ls solutions); do PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader generate_assignment $$a --force || exit 1; done

# The repository students clone: the book, assignments/ and rnnlib, without solutions/ or the
# grader (README, Instructors). DEST is a new directory, or a clone of the students' repository.
student-repo: $(STAMP)
	@[ -n "$(DEST)" ] || { echo "usage: make student-repo DEST=<dir>"; exit 2; }
	$(BIN)/python tools/student_repo.py $(DEST)

# The grader runs each submission in a bubblewrap sandbox and refuses to run without one unless
# NO_SANDBOX=1 (see README, Grading security). ASSIGNMENT=<name> limits it to one assignment.
GRADE_FLAGS = $(if $(NO_SANDBOX),--no-sandbox) $(GRADE_OPTS)

autograde: $(STAMP) system-deps
	$(BIN)/python -m rnngrade autograde $(ASSIGNMENT) $(GRADE_FLAGS) --report grading_logs/report.json

feedback: $(STAMP)
	$(BIN)/python -m rnngrade feedback $(ASSIGNMENT)

export: $(STAMP)
	$(BIN)/python -m rnngrade export --to grades.csv

# One process for the three steps, so that feedback and export always run: broken submissions are
# recorded (exit 0); a failure on the grader's side exits 1, after feedback and export.
grade: $(STAMP) system-deps
	$(BIN)/python -m rnngrade all $(ASSIGNMENT) $(GRADE_FLAGS) --report grading_logs/report.json --to grades.csv

notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py

bench: $(STAMP) system-deps
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/bench_grading.py
	$(BIN)/python benchmarks/charlm_torch.py
	$(BIN)/python benchmarks/seq2seq_torch.py
	$(BIN)/python benchmarks/scan_bench.py

clean:
	rm -rf _build .pytest_cache
