# The two commands of the README. Both install what they need first (scripts/setup.sh).
GO ?= go
BIN := bin/eva

.PHONY: demo test build bench fuzz

# demo runs the most useful end-to-end job eva has today: evaluating a Hugging Face checkpoint
# (the tiny Llama fixture and its tokenizer) on a JSONL file, printing loss and perplexity.
demo: build
	$(BIN) eval --model testdata/models/llama --data testdata/models/llama/eval.jsonl

test:
	./scripts/setup.sh --test-data
	$(GO) vet ./...
	$(GO) test ./...

build:
	./scripts/setup.sh
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/eva

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./backend/cpu/ ./linalg/ ./models/...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzOpen -fuzztime 2m ./hf/safetensors/
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime 2m ./hf/tokenizer/
