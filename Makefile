# edgeai.fleet: `make demo` runs the site playbook on the local lab, `make test` runs every test.
# Both install what they need on a fresh Debian 12 machine (as root).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# PYTHON=3.12 selects pyenv's 3.12 (ansible-core 2.21); the default is the machine's 3.11 (core 2.19).
PYTHON ?= 3.11
PYBIN := $(shell command -v python$(PYTHON) 2>/dev/null || ls -1d $$HOME/.pyenv/versions/$(PYTHON)*/bin/python3 2>/dev/null | tail -n1)
# pyenv's shims refuse versions that are not selected, so name the interpreter's own directory.
PY39 := $(firstword $(wildcard $(HOME)/.pyenv/versions/3.9*/bin/python3.9) $(shell command -v python3.9))
VENV ?= $(CURDIR)/.venv$(if $(filter 3.11,$(PYTHON)),,-$(PYTHON))
BIN := $(VENV)/bin
TFLITE_VENV := $(CURDIR)/.venv-tflite
BUILD := $(CURDIR)/.build
# The collection as Ansible finds it: a symlink for playbooks and molecule, a copy for ansible-test.
COLLECTIONS := $(BUILD)/collections
# Outside the checkout: inside it, ansible-test would see the tree as git-ignored and skip every target.
SANITY_ROOT := /var/tmp/edgeai-fleet/sanity-$(shell printf %s '$(CURDIR)' | cksum | cut -d' ' -f1)
SANITY_TREE := $(SANITY_ROOT)/ansible_collections/edgeai/fleet
LAB := tests/lab/lab.sh

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export EDGEAI_LAB_CACHE ?= /var/tmp/edgeai-lab
export CONTAINERS_CONF ?= $(EDGEAI_LAB_CACHE)/containers.conf
# pytest-ansible and pytest-testinfra both claim --ansible-inventory; kmock ships a plugin needing asyncio.
export PYTEST_ADDOPTS ?= -p no:pytest-ansible
export ANSIBLE_CONFIG ?= $(CURDIR)/ansible.cfg

.PHONY: help deps venv collection test demo units ansible-units sanity lint ansible-integration molecule integration \
        lab lab-down ee build package clean

help:
	@echo "make demo   - build the lab and run playbooks/site.yml against it"
	@echo "make test   - run every test (unit, sanity, lint, molecule, integration)"
	@echo "daily:      units ansible-units sanity lint ansible-integration molecule integration lab lab-down ee build package clean"
	@echo "PYTHON=3.12 selects pyenv's Python 3.12 with ansible-core 2.21"

# ---- set-up -------------------------------------------------------------------------------
deps:
	@tests/setup/apt.sh tests/apt-packages.txt

venv: $(VENV)/.installed $(TFLITE_VENV)/.installed

$(VENV)/.installed: test-requirements.txt requirements.txt
	@test -n "$(PYBIN)" || { echo "Python $(PYTHON) not found (install it or use PYTHON=3.11)"; exit 1; }
	$(PYBIN) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r test-requirements.txt -r requirements.txt
	@touch $@

# onnx2tf (model_compile targets tflite, edgetpu) pins protobuf 4 and TensorFlow 2.19: a venv of its own.
$(TFLITE_VENV)/.installed: tests/setup/tflite-requirements.txt
	@test -n "$(PYBIN)" || { echo "Python $(PYTHON) not found (install it or use PYTHON=3.11)"; exit 1; }
	$(PYBIN) -m venv $(TFLITE_VENV)
	$(TFLITE_VENV)/bin/pip install -q -r tests/setup/tflite-requirements.txt
	@touch $@

collection:
	@mkdir -p $(COLLECTIONS)/ansible_collections/edgeai
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/edgeai/fleet

# ansible-test needs a real ansible_collections/edgeai/fleet tree: copy what git would ship.
$(SANITY_TREE): FORCE
	@rm -rf $(SANITY_ROOT) && mkdir -p $@
	@git ls-files -co --exclude-standard -z | rsync -a --from0 --files-from=- ./ $@/

FORCE:

# ---- the two entry commands ---------------------------------------------------------------
test: deps venv collection
	@tests/run-stages.sh units ansible-units sanity lint ansible-integration package molecule integration

demo: deps venv collection
	@$(LAB) up
	$(BIN)/ansible-playbook -i inventories/lab/hosts.yml playbooks/site.yml

# ---- stages ---------------------------------------------------------------------------------
units: venv collection
	PYTHONPATH=$(COLLECTIONS) tests/run-pytest.sh $(BIN)/python tests/unit -q -n 2 --import-mode=importlib

ansible-units: venv $(SANITY_TREE)
	@tests/setup/get-pip-shim.sh $(BIN)/python
	cd $(SANITY_TREE) && $(BIN)/ansible-test units --venv --python $(PYTHON) --requirements

sanity: venv $(SANITY_TREE)
	@tests/setup/get-pip-shim.sh $(BIN)/python
	cd $(SANITY_TREE) && $(BIN)/ansible-test sanity --venv --python $(PYTHON)
	@# Device-side code must also compile and import on the oldest target Python the collection claims.
	cd $(SANITY_TREE) && PATH=$(dir $(PY39)):$$PATH $(BIN)/ansible-test sanity --venv --python 3.9 --test compile --test import

lint: venv collection
	$(BIN)/ansible-lint --profile production

# tests/integration/targets: filters, the callback and the modules that need no device, on this host.
ansible-integration: venv $(SANITY_TREE)
	@tests/setup/get-pip-shim.sh $(BIN)/python
	cd $(SANITY_TREE) && $(BIN)/ansible-test integration --venv --python $(PYTHON)

molecule: venv collection
	@$(LAB) build
	@tests/run-molecule.sh $(SCENARIO)

# The daemon and lab suites (pytest): tests/system, out of the path ansible-test reserves for its targets.
# The ansible_runner suite runs in a process of its own, as AWX runs each job: after the other suites in one long
# pytest process its ansible-playbook twice died before its first line (rc None, no events; not reproduced alone or
# after the interrupt suite), so it gets a fresh process until the cause is found (docs/testing.md).
RUNNER_SUITE := tests/system/test_site_runner.py
integration: venv collection
	@$(LAB) build
	PYTHONPATH=$(COLLECTIONS) tests/run-pytest.sh $(BIN)/python $(RUNNER_SUITE) -q
	PYTHONPATH=$(COLLECTIONS) tests/run-pytest.sh $(BIN)/python tests/system -q --ignore=$(RUNNER_SUITE)

# ---- lab and packaging ----------------------------------------------------------------------
lab: deps venv collection
	@$(LAB) up $(NODES)

lab-down:
	@$(LAB) down

build: venv
	@mkdir -p $(BUILD)
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD) .

ee: build
	$(BIN)/ansible-builder create --file execution-environment.yml --context $(BUILD)/ee-context

# The tarball installs into a clean path, every plugin documents itself, and the EE context builds.
package: ee
	@rm -rf $(BUILD)/install && mkdir -p $(BUILD)/install
	ANSIBLE_COLLECTIONS_PATH=$(BUILD)/install $(BIN)/ansible-galaxy collection install --offline -p $(BUILD)/install $(BUILD)/edgeai-fleet-*.tar.gz
	@plugins=$$(ANSIBLE_COLLECTIONS_PATH=$(BUILD)/install ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
	    $(BIN)/ansible-doc -l edgeai.fleet | awk '{print $$1}'); \
	  callbacks=$$(ANSIBLE_COLLECTIONS_PATH=$(BUILD)/install ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
	    $(BIN)/ansible-doc -t callback -l edgeai.fleet | awk '{print $$1}'); \
	  echo "installed collection documents: $$plugins $$callbacks"; \
	  for m in plugins/modules/*.py; do n=edgeai.fleet.$$(basename $$m .py); \
	    grep -qx "$$n" <<<"$$plugins" || { echo "ansible-doc does not list $$n" >&2; exit 1; }; done; \
	  grep -qx edgeai.fleet.fleet_report <<<"$$callbacks" || { echo "ansible-doc does not list the callback" >&2; exit 1; }
	# What a user gets: the tarball plus its declared dependencies only, every playbook syntax-checked and --check-run.
	tests/run-pytest.sh $(BIN)/python tests/package -q

clean: lab-down
	rm -rf $(BUILD) $(SANITY_ROOT) tests/output .pytest_cache context
