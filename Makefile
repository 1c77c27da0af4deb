# sogni-sync developer commands. `make demo` and `make test` are all a new machine needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-all lint docs bench conformance capture-vectors check-vectors-554 emulator clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,progress]'
	touch $(STAMP)

demo: install
	$(PY) examples/text_to_image.py

test: install
	$(PY) -m pytest -q

test-all: install
	$(PY) -m pytest -q -m "not live"

# mypy: the package and the examples --strict; the tests checked by [[tool.mypy.overrides]]
lint: install
	$(VENV)/bin/ruff check sogni_sync tests examples
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy examples
	$(VENV)/bin/mypy --explicit-package-bases tests

# the API reference from the docstrings, into docs/_build/html; any Sphinx warning fails it
docs: install
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html

# `make bench BENCH_ONLY=stream,raw` runs some steps only (knobs: tests/bench/run_bench.py)
bench: install
	$(PY) tests/bench/run_bench.py $(if $(BENCH_ONLY),--only $(BENCH_ONLY))

# `make conformance CONFORMANCE_ARGS="--client py --only login"` runs a part only
conformance: install
	$(PY) -m tests.conformance.run $(CONFORMANCE_ARGS)

# jobRequest vectors of the official JS client 5.54.0 (needs node/npm; installs the client outside
# the checkout): `make capture-vectors` rewrites tests/conformance/vectors_554.jsonl,
# CAPTURE_ARGS=--check compares instead, CAPTURE_ARGS="--client py" compares the official Python
# client 5.70.0 with them; `make check-vectors-554` scores our client on them
capture-vectors: install
	$(PY) -m tests.conformance.capture $(CAPTURE_ARGS)

check-vectors-554: install
	$(PY) -m tests.conformance.capture.check $(CHECK_ARGS)

emulator: install
	$(PY) -m sogni_sync.testing

clean:
	rm -rf $(VENV) .venv-* build dist *.egg-info out docs/_build
