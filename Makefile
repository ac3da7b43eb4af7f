# The two quick-start targets (`make lab`, `make test`) each build .venv on first use.
# `make model` retrains the shipped model (3 seeds with a validation split, which chose the
# settings, then the same 3 seeds on all 60k images) and rewrites reports/ and its card.
# `make app` serves the Gradio web app (the Dockerfile runs the same command), `make voila`
# DigitPad as a web page.

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PORT   ?= 8888
VOILA_PORT ?= 8866
# the Gradio app reads its address from Gradio's own variables, as in the Docker image
export GRADIO_SERVER_PORT ?= 7860
export GRADIO_ANALYTICS_ENABLED = False
SEEDS  ?= 1 2 3
# MNIST: ../shared/mnist when it sits beside the checkout, else the package's own lookup
# (DIGITWIDGET_DATA, Keras's cache, or a download into ~/.cache/digitwidget).
SHARED_MNIST := $(wildcard ../shared/mnist)
ifneq ($(SHARED_MNIST),)
export DIGITWIDGET_DATA ?= $(abspath $(SHARED_MNIST))
endif
export NO_ALBUMENTATIONS_UPDATE = 1
export TF_CPP_MIN_LOG_LEVEL = 3
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test test-browser model bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,app]"
	touch $@

lab: $(VENV)/.installed  ## JupyterLab on 127.0.0.1 at the DigitPad demo notebook
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --port $(PORT) $(ROOT_FLAG) \
		--ServerApp.root_dir=notebooks --LabApp.default_url=/lab/tree/demo.ipynb

app: $(VENV)/.installed  ## the Gradio web app on http://127.0.0.1:7860 (GRADIO_SERVER_PORT)
	$(PY) -m digitwidget.app

voila: $(VENV)/.installed  ## DigitPad as a web page (Voilà) on http://127.0.0.1:8866
	$(VENV)/bin/voila notebooks/demo.ipynb --no-browser --port $(VOILA_PORT) \
		--Voila.ip=127.0.0.1 --Voila.port_retries=0

test: $(VENV)/.installed  ## every test, the notebooks (quick mode) and browser tests included
	DIGITWIDGET_QUICK=1 $(PY) -m pytest --nbval-lax -p no:cacheprovider tests notebooks

test-browser: $(VENV)/.installed  ## only the real-browser tests
	$(PY) -m pytest -m browser -p no:cacheprovider tests

model: $(VENV)/.installed  ## retrain the default config (3 seeds, held-out split, then refit)
	for s in $(SEEDS); do $(PY) -m digitwidget.train --config configs/default.toml \
		--seed $$s --out runs/default-seed$$s --verbose 2 || exit 1; done
	for s in $(SEEDS); do $(PY) -m digitwidget.train --config configs/default.toml --refit \
		--seed $$s --out runs/default-refit-seed$$s --verbose 2 || exit 1; done
	$(PY) -m digitwidget.evaluate --ship --runs $(foreach s,$(SEEDS),runs/default-refit-seed$(s)) \
		--validation-runs $(foreach s,$(SEEDS),runs/default-seed$(s))

bench: $(VENV)/.installed  ## every benchmark (about 15 min); figures to benchmarks/results/
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) runs .pytest_cache
