# The two commands of the README. Both install what they need first (scripts/setup.sh).
GO ?= go
BIN := bin/eva

.PHONY: demo test build bench fuzz

# demo is the README's first command: eva demo on its defaults — the house model (a small Llama
# that eva pretrained on public-domain text, assets/house-llama) fine-tuned on the spam/ham task
# (SpamAssassin, fetched from npm by the set-up) from EVA's, PEFT's default and PiSSA's
# initialisation with identical seeds and budget, compared in a table, a plot and an HTML report.
demo: build
	./scripts/setup.sh --data
	$(BIN) demo

test:
	./scripts/setup.sh --test-data
	$(GO) vet ./...
	$(GO) test ./...

build:
	./scripts/setup.sh
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/eva

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./backend/cpu/ ./linalg/ ./models/... ./train/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzOpen -fuzztime 2m ./hf/safetensors/
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime 2m ./hf/tokenizer/
