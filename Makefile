# mintext: `make demo` and `make test` work on a fresh machine (they create .venv).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip -q --disable-pip-version-check
DEMO_CORPUS := corpora/xiyouji.txt.gz

.PHONY: demo demo-parse test bench lint clean install install-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel

# the package and its runtime dependencies
$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(PIP) install -e .
	touch $@

# test dependencies and the `bert`, `hf` and `cluster` extras; bert4keras and tf-keras go in with
# --no-deps (bert4keras pins an old keras), tf-keras matching TensorFlow's version
$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -e '.[dev,bert,hf,cluster]'
	$(PIP) install --no-deps 'bert4keras==0.11.5' \
	  "tf-keras~=$$($(BIN)/python -c 'import importlib.metadata as m; print(".".join(m.version("tensorflow-cpu").split(".")[:2]))').0"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	@echo "== mintext discover $(DEMO_CORPUS) -o demo-lexicon.tsv --segment demo-segmented.txt"
	@$(BIN)/mintext discover $(DEMO_CORPUS) -o demo-lexicon.tsv --segment demo-segmented.txt
	@echo "== the 30 most frequent words of two or more characters (word, freq, length, pmi, left/right entropy)"
	@awk -F'\t' 'NR > 2 && $$3 >= 2' demo-lexicon.tsv | head -n 30
	@echo "== the first lines of the novel, segmented with that lexicon"
	@sed -n '3,6p' demo-segmented.txt

# the whole chain with nothing downloaded: pretrain a tiny BERT on the demo corpus (a few minutes on a laptop),
# then segment and parse some of its sentences with it
DEMO_TIME ?= 4m
demo-parse: $(VENV)/.installed-dev
	@echo "== mintext pretrain $(DEMO_CORPUS) -o demo-model --time $(DEMO_TIME) (a tiny 2 x 128 BERT)"
	@$(BIN)/mintext pretrain $(DEMO_CORPUS) -o demo-model --time $(DEMO_TIME) --seq-len 64 --save-every 200 --overwrite
	@echo "== the training curve (held-out loss and accuracy at each checkpoint)"
	@column -t demo-model/training.tsv
	@$(BIN)/python -c "import gzip, re; text = gzip.open('$(DEMO_CORPUS)', 'rt', encoding='utf-8').read(); \
	  print('\n'.join([s.strip() + '。' for s in re.split('。', text) if 8 <= len(s.strip()) <= 30 and '\n' not in s.strip()][:4]))" > demo-sentences.txt
	@echo "== mintext parse --bert demo-model --window 62 demo-sentences.txt (words)"
	@$(BIN)/mintext parse --bert demo-model --window 62 -q demo-sentences.txt
	@echo "== mintext parse --bert demo-model --window 62 --task dep --output-format pretty (the first two)"
	@head -n 2 demo-sentences.txt | $(BIN)/mintext parse --bert demo-model --window 62 -q --task dep --output-format pretty -

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

$(VENV)/.installed-bench: $(VENV)/.installed-dev
	$(PIP) install -e '.[dev,bert,hf,cluster,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check mintext cli tests bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache demo-lexicon.tsv demo-segmented.txt demo-model demo-sentences.txt
