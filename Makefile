# The course's commands. The README's two: `make book` (build the book) and `make test`.
# Each creates the virtual environment .venv on first use and installs what it needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Optional, for the independent autograd cross-check and the PyTorch benchmark: the CPU build
# of PyTorch. Where it cannot be installed, those tests skip with a reason.
TORCH  ?= torch==2.13.0+cpu

.PHONY: help book test demo lab notebooks assignments bench system-deps clean

help:
	@echo "make book         build the HTML book into _build/html (the main job)"
	@echo "make test         run every test: rnnlib, notebooks (nbval), book, grading"
	@echo "make demo         a short demo of the cells in the terminal"
	@echo "make notebooks    re-execute the chapters and solutions in place (authors)"
	@echo "make lab          open JupyterLab on the assignments (students)"
	@echo "make assignments  regenerate assignments/ from solutions/ (instructors)"
	@echo "make bench        run the benchmarks and write benchmarks/reports/"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[course]'
	$(BIN)/pip install --quiet '$(TORCH)' || echo "note: $(TORCH) not installable here; the PyTorch cross-check will be skipped"
	touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "Open _build/html/index.html in a browser."

test: $(STAMP) system-deps
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/python -m rnnlib.demo

system-deps:
	@$(BIN)/python tools/system_deps.py

lab: $(STAMP)
	$(BIN)/jupyter lab assignments/ $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# nbgrader runs `alembic` from PATH, so the virtual environment's bin/ goes first.
assignments: $(STAMP)
	for a in $$(ls solutions); do PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader generate_assignment $$a --force || exit 1; done

notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf _build .pytest_cache
