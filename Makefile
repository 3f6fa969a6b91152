# The two commands of the README. Both install what they need first (scripts/setup.sh).
GO ?= go
BIN := bin/eva

.PHONY: demo test build bench fuzz

# demo runs the most useful end-to-end job eva has today (the full fine-tuning demo comes later):
# EVA calibration of a Hugging Face checkpoint — here the tiny random Llama fixture made with
# transformers, with its tokenizer.json — written as a PEFT adapter, then an evaluation of the same
# checkpoint on the same JSONL text.
DEMO_OUT ?= out/demo-adapter
demo: build
	@echo "== eva demo: EVA calibration of testdata/models/llama (a tiny random Llama fixture), rank 4"
	$(BIN) calibrate --model testdata/models/llama --data testdata/models/llama/eval.jsonl --out $(DEMO_OUT) --r 4 --batch-size 2
	@echo "== evaluation of the base model on the same data"
	$(BIN) eval --model testdata/models/llama --data testdata/models/llama/eval.jsonl
	@echo "== next: bin/eva calibrate --model YOUR_HF_CHECKPOINT --data YOUR.jsonl --out DIR  (bin/eva help)"

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
