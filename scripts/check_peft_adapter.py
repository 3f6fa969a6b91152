#!/usr/bin/env python3
"""Load the adapters eva wrote (testdata/peft/eva-init, eva-random-b) with PEFT and record PEFT's logits.

Usage: python3 scripts/check_peft_adapter.py OUT.safetensors

For batch 0 of testdata/eva/batches.safetensors and the tiny Llama of testdata/models/llama it
stores logits.base (no adapter), logits.eva-init and logits.eva-random-b (PeftModel.from_pretrained
of each directory), checks that the EVA adapter (B = 0) leaves the logits exactly unchanged and that
PEFT loaded lora_A/lora_B bit for bit, and prints each layer's rank and scaling.
"""
import json
import sys

import peft
import safetensors.torch
import torch
import transformers
from peft import PeftModel
from transformers import AutoModelForCausalLM


def main(out):
    torch.set_num_threads(1)
    batches = safetensors.torch.load_file("testdata/eva/batches.safetensors")
    ids, mask = batches["input_ids"][0], batches["attention_mask"][0]
    base = AutoModelForCausalLM.from_pretrained("testdata/models/llama", attn_implementation="eager").eval()
    result = {}
    with torch.no_grad():
        result["logits.base"] = base(input_ids=ids, attention_mask=mask).logits.float().contiguous()
    for name in ["eva-init", "eva-random-b"]:
        path = f"testdata/peft/{name}"
        model = AutoModelForCausalLM.from_pretrained("testdata/models/llama", attn_implementation="eager").eval()
        model = PeftModel.from_pretrained(model, path).eval()
        stored = safetensors.torch.load_file(f"{path}/adapter_model.safetensors")
        layers = {}
        for mod_name, mod in model.named_modules():
            if hasattr(mod, "lora_A") and "default" in mod.lora_A:
                key = mod_name + ".lora_A.weight"
                assert torch.equal(mod.lora_A["default"].weight, stored[key]), key
                assert torch.equal(mod.lora_B["default"].weight, stored[key.replace("lora_A", "lora_B")]), key
                layers[mod_name] = {"r": mod.r["default"], "scaling": mod.scaling["default"]}
        assert len(layers) == len([k for k in stored if k.endswith("lora_A.weight")]), "PEFT skipped layers"
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits.float().contiguous()
        result[f"logits.{name}"] = logits
        diff = (logits - result["logits.base"]).abs().max().item()
        print(name, "max |logits - base| =", diff, "layers:", json.dumps(layers))
        if name == "eva-init":
            assert diff == 0.0, "the EVA adapter (B = 0) changed the outputs"
        else:
            assert diff > 1e-3, "random B did not change the outputs"
    meta = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}
    safetensors.torch.save_file(result, out, metadata=meta)
    print("versions", meta)


if __name__ == "__main__":
    main(sys.argv[1])
