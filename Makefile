# Two commands set everything up on a fresh machine:
#   make demo   # create/repair/reuse .venv, then the demo: pre-training -> transfer -> results table
#   make test   # create/repair/reuse .venv, then the test suite
# Works from the repository root, through `make -C DIR` or `make -f DIR/Makefile`; VENV may be
# relative (to where make runs) or absolute; MIM_PLUGINS_CACHE moves the mmcv wheel cache.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
VENV ?= $(ROOT)/.venv
VENV_ABS := $(abspath $(VENV))
PY := $(VENV_ABS)/bin/python

.PHONY: env demo test test-fast clean

env:
	bash $(ROOT)/tools/install_env.sh $(VENV_ABS)

demo: env
	cd $(ROOT) && PATH=$(VENV_ABS)/bin:$$PATH $(PY) tools/reproduce.py

test: env
	cd $(ROOT) && PATH=$(VENV_ABS)/bin:$$PATH $(PY) -m pytest

# the edit-test loop (about 1.5 min on 2 cores): losses, masks, models,
# configs against the papers' protocols, error messages, docs; no training
# runs, no demo, no packaging (`make test` runs everything, as CI does)
FAST_TESTS := test_losses test_mask_generators test_algorithm \
	test_backbones_resnet_vit test_backbones_convnext_swin_resnet200 \
	test_simmim test_maskdistill test_step_ema test_safe_load \
	test_error_messages test_configs test_paper_protocol test_paper_preset \
	test_paper_docs test_official_schedules test_factor_cosine_scheduler \
	test_tiny test_docs
test-fast: env
	cd $(ROOT) && PATH=$(VENV_ABS)/bin:$$PATH $(PY) -m pytest $(FAST_TESTS:%=tests/%.py)

clean:
	rm -rf $(ROOT)/work_dirs $(ROOT)/data/demo
