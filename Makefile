# The two commands of the README. Both install what they need first (scripts/setup.sh).
GO ?= go
BIN := bin/eva

.PHONY: demo test build bench fuzz

# demo runs the most useful end-to-end job eva has today (the demo on a house-pretrained model comes
# with the next milestone): on the tiny random Llama fixture made with transformers (with its
# tokenizer.json), EVA calibration written as a PEFT adapter, then LoRA fine-tuning from EVA's
# initialisation and from PEFT's default (kaiming) with the same seed and budget, evaluation of the
# trained adapter and a merge into a Hugging Face checkpoint.
DEMO_OUT ?= out/demo
DEMO_DATA := testdata/models/llama/eval.jsonl
DEMO_TRAIN := --model testdata/models/llama --data $(DEMO_DATA) --r 4 --max-length 32 --batch-size 2 \
	--steps 30 --lr 1e-2 --val-fraction 0.34 --eval-every 10 --save-every 10
demo: build
	rm -rf $(DEMO_OUT)
	@echo "== EVA calibration of testdata/models/llama (a tiny random Llama fixture), rank 4"
	$(BIN) calibrate --model testdata/models/llama --data $(DEMO_DATA) --out $(DEMO_OUT)/calibrated --r 4 --batch-size 2
	@echo "== fine-tuning from EVA's initialisation"
	$(BIN) train $(DEMO_TRAIN) --init eva --out $(DEMO_OUT)/eva
	@echo "== fine-tuning from PEFT's default initialisation (same seed and budget)"
	$(BIN) train $(DEMO_TRAIN) --init kaiming --out $(DEMO_OUT)/kaiming
	@echo "== the base model, then with the EVA-initialised adapter"
	$(BIN) eval --model testdata/models/llama --data $(DEMO_DATA)
	$(BIN) eval --model testdata/models/llama --data $(DEMO_DATA) --adapter $(DEMO_OUT)/eva
	$(BIN) merge --model testdata/models/llama --adapter $(DEMO_OUT)/eva --out $(DEMO_OUT)/merged
	@echo "== next: bin/eva train --model YOUR_HF_CHECKPOINT --data YOUR.jsonl --out DIR --init eva  (bin/eva help)"

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
