#!/usr/bin/env python3
"""Logits of adapters TRAINED BY EVA, as PEFT computes them (testdata/lora/trained).

Usage:
    python3 scripts/check_trained_adapters.py OUTPUT_DIR     # e.g. $OUT on the device machine

For every adapter directory testdata/lora/trained/<name>/ (written by `eva train` on the tiny Llama
of testdata/models/llama; see testdata/lora/trained/README.md), PEFT's PeftModel.from_pretrained
attaches it to the base model and the script writes the logits of the padded batch of
testdata/lora/plain/reference.safetensors to OUTPUT_DIR/<name>/peft_logits.safetensors, and the
logits of merge_and_unload to the same file as "merged_logits". The Go test
peft/TestTrainedAdaptersMatchPEFT compares eva's logits with them.
"""

import os
import sys

import peft
import safetensors.torch
import torch
import transformers
from peft import PeftModel
from transformers import AutoModelForCausalLM

MODEL_DIR = "testdata/models/llama"
TRAINED = "testdata/lora/trained"
BATCH = "testdata/lora/plain/reference.safetensors"


def main() -> None:
    out = sys.argv[1]
    torch.manual_seed(0)
    torch.set_num_threads(1)
    batch = safetensors.torch.load_file(BATCH)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    meta = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}
    for name in sorted(os.listdir(TRAINED)):
        adapter = os.path.join(TRAINED, name)
        if not os.path.isdir(adapter):
            continue
        base = AutoModelForCausalLM.from_pretrained(MODEL_DIR, torch_dtype=torch.float32, attn_implementation="eager")
        model = PeftModel.from_pretrained(base, adapter).eval()
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
            merged = model.merge_and_unload()
            merged_logits = merged(input_ids=ids, attention_mask=mask).logits.float()
        os.makedirs(os.path.join(out, name), exist_ok=True)
        safetensors.torch.save_file({"logits": logits.contiguous(), "merged_logits": merged_logits.contiguous()},
                                    os.path.join(out, name, "peft_logits.safetensors"), metadata=meta)
        print(f"{name}: logits {tuple(logits.shape)}, |merged - unmerged| max {float((merged_logits - logits).abs().max()):.3g}")


if __name__ == "__main__":
    main()
