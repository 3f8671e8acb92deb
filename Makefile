# Two commands set everything up on a fresh machine:
#   make demo   # create/reuse .venv, run the embedded A2MIM pre-training demo
#   make test   # create/reuse .venv, run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: env demo test clean

env:
	bash tools/install_env.sh $(VENV)

demo: env
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) tools/reproduce.py

test: env
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) -m pytest tests -q -ra --durations=15

clean:
	rm -rf work_dirs data/demo
