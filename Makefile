# Two commands set everything up on a fresh machine:
#   make demo   # create/repair/reuse .venv, then the demo: pre-training -> transfer -> results table
#   make test   # create/repair/reuse .venv, then the test suite
# Works from the repository root, through `make -C DIR` or `make -f DIR/Makefile`; VENV may be
# relative (to where make runs) or absolute; MIM_PLUGINS_CACHE moves the mmcv wheel cache.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
VENV ?= $(ROOT)/.venv
VENV_ABS := $(abspath $(VENV))
PY := $(VENV_ABS)/bin/python

.PHONY: env demo test clean

env:
	bash $(ROOT)/tools/install_env.sh $(VENV_ABS)

demo: env
	cd $(ROOT) && PATH=$(VENV_ABS)/bin:$$PATH $(PY) tools/reproduce.py

test: env
	cd $(ROOT) && PATH=$(VENV_ABS)/bin:$$PATH $(PY) -m pytest

clean:
	rm -rf $(ROOT)/work_dirs $(ROOT)/data/demo
