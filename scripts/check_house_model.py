#!/usr/bin/env python3
"""Check a model eva pretrained against transformers (docs/HOUSE_MODEL.md).

Usage:
    python3 scripts/check_house_model.py MODEL_DIR TEXTS.jsonl EVA_LOGITS.safetensors OUT.safetensors

MODEL_DIR is a checkpoint written by `eva pretrain`; TEXTS.jsonl holds {"text": ...} lines and
EVA_LOGITS.safetensors is `eva eval --model MODEL_DIR --data TEXTS.jsonl --batch-size 1 --dump-logits`.
transformers' AutoTokenizer must give eva's input ids and AutoModelForCausalLM (float32) eva's
logits; the script prints the differences, asserts them, and writes transformers' input_ids and
logits to OUT.safetensors (the fixture of models/TestHouseModelMatchesTransformers).
"""

import json
import sys

import safetensors.torch
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer


def main() -> None:
    model_dir, texts_path, eva_path, out = sys.argv[1:5]
    torch.set_num_threads(4)
    texts = [json.loads(l)["text"] for l in open(texts_path) if l.strip()]
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    eva = safetensors.torch.load_file(eva_path)
    eva_ids, eva_logits = eva["input_ids"], eva["logits"]
    ids_rows, logit_rows = [], []
    worst = 0.0
    for i, text in enumerate(texts):
        ids = tok(text, return_tensors="pt")["input_ids"]
        n = ids.shape[1]
        assert torch.equal(ids[0], eva_ids[i, :n].to(ids.dtype)), f"text {i}: ids {ids[0].tolist()} vs eva {eva_ids[i, :n].tolist()}"
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0].float()
        rel = float((logits - eva_logits[i, :n]).abs().max() / logits.abs().max())
        worst = max(worst, rel)
        print(f"text {i}: {n} tokens, logits max relative difference {rel:.2e}")
        ids_rows.append(ids[0])
        logit_rows.append(logits)
    assert worst < 1e-4, worst
    width = max(r.shape[0] for r in ids_rows)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    ids_t = torch.full((len(texts), width), pad, dtype=torch.int64)
    logits_t = torch.zeros((len(texts), width, logit_rows[0].shape[1]))
    for i, (r, l) in enumerate(zip(ids_rows, logit_rows)):
        ids_t[i, : r.shape[0]] = r
        logits_t[i, : r.shape[0]] = l
    safetensors.torch.save_file({"input_ids": ids_t, "logits": logits_t}, out,
                                metadata={"transformers": transformers.__version__, "torch": torch.__version__})
    print(f"transformers {transformers.__version__}: ids equal, worst logits difference {worst:.2e}; wrote {out}")


if __name__ == "__main__":
    main()
