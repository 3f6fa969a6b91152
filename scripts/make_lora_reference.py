#!/usr/bin/env python3
"""Make PyTorch + PEFT reference fixtures for LoRA training parity (testdata/lora).

Usage:
    python3 scripts/make_lora_reference.py OUTPUT_DIR      # e.g. testdata/lora

For each variant (plain, rslora, dora) it attaches a PEFT LoRA adapter to the tiny random Llama of
testdata/models/llama (all-linear targets, r 4, alpha 16, dropout 0, with a rank_pattern and an
alpha_pattern), replaces lora_A and lora_B by seeded random non-zero values (and, for DoRA,
perturbs the magnitude vector), then writes

    OUTPUT_DIR/<variant>/adapter/                 model.save_pretrained (adapter_config.json,
                                                  adapter_model.safetensors, float32)
    OUTPUT_DIR/<variant>/reference.safetensors    the batch, loss, logits, the gradient of the loss for
                                                  every adapter tensor, and merged_logits

Everything runs on the CPU in float32 with one thread and fixed seeds. Before writing, it checks
that PEFT reloads the saved adapter (PeftModel.from_pretrained) to the same logits, that the loss
matches a hand-written shifted cross-entropy, that every gradient is finite and non-zero, and that
merge_and_unload gives (nearly) the same logits. See testdata/lora/README.md.
"""

import json
import math
import os
import platform
import sys

import peft
import safetensors
import safetensors.torch
import tokenizers
import torch
import torch.nn.functional as F
import transformers
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM

MODEL_DIR = "testdata/models/llama"
TEXTS = [
    "It was the best of times, it was the worst of times",
    "Mr. Bennet made no answer.",
    "Call me Ishmael.",
]
PROMPT_SEQ = 1  # the sequence whose first PROMPT_LEN labels are masked (a prompt mask)
PROMPT_LEN = 2
SEED = 4321
R, ALPHA = 4, 16
RANK_PATTERN = {"model.layers.1.self_attn.v_proj": 2, "model.layers.0.mlp.gate_proj": 6}
ALPHA_PATTERN = {"model.layers.0.mlp.down_proj": 3, "model.layers.1.self_attn.v_proj": 5}
# ||(alpha/r) * B @ A||_F = DELTA_RATIO * ||W||_F in every adapted layer. The nominal alpha/r is used
# for every variant, so all three share the same A and B and rsLoRA's scaling visibly differs.
DELTA_RATIO = 0.02
MAGNITUDE_NOISE = 0.1
VARIANTS = {
    "plain": {},
    "rslora": {"use_rslora": True},
    "dora": {"use_dora": True},
}
MAX_TOTAL_BYTES = 3_000_000


def load_base():
    model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, attn_implementation="eager")
    return model.float().eval()


def make_batch(pad_id):
    tok = tokenizers.Tokenizer.from_file(os.path.join(MODEL_DIR, "tokenizer.json"))
    seqs = [tok.encode(t).ids for t in TEXTS]  # the post-processor prepends <s>
    lengths = [len(s) for s in seqs]
    assert len(set(lengths)) == len(lengths), f"lengths must differ: {lengths}"
    width = max(lengths)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.int64)
    mask = torch.zeros((len(seqs), width), dtype=torch.int64)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    labels = ids.clone()
    labels[mask == 0] = -100
    labels[PROMPT_SEQ, :PROMPT_LEN] = -100
    return ids, mask, labels, lengths


def lora_config(extra):
    return LoraConfig(
        r=R,
        lora_alpha=ALPHA,
        target_modules="all-linear",
        lora_dropout=0.0,
        bias="none",
        rank_pattern=dict(RANK_PATTERN),
        alpha_pattern=dict(ALPHA_PATTERN),
        init_lora_weights=True,
        task_type="CAUSAL_LM",
        **extra,
    )


def lora_layers(model):
    """(module name, module) for every layer carrying the 'default' LoRA adapter, in model order."""
    return [(n, m) for n, m in model.named_modules() if hasattr(m, "lora_A") and "default" in m.lora_A]


def randomize(model, seed, use_dora):
    """Seeded non-zero A and B (B scaled so the weight moves by DELTA_RATIO), perturbed DoRA magnitude.

    The draws depend only on the seed and the layer shapes, so every variant gets the same A and B.
    """
    gen = torch.Generator().manual_seed(seed)
    gen_mag = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, mod in lora_layers(model):
            a = mod.lora_A["default"].weight
            b = mod.lora_B["default"].weight
            nominal = mod.lora_alpha["default"] / mod.r["default"]
            w = mod.get_base_layer().weight
            a.copy_(torch.randn(a.shape, generator=gen) / math.sqrt(a.shape[1]))
            braw = torch.randn(b.shape, generator=gen)
            delta = nominal * (braw @ a)
            b.copy_(braw * (DELTA_RATIO * w.norm() / delta.norm()))
            if use_dora:
                m = mod.lora_magnitude_vector["default"].weight
                m.mul_(1 + MAGNITUDE_NOISE * torch.randn(m.shape, generator=gen_mag))


def layer_summary(model):
    out = {}
    for name, mod in lora_layers(model):
        key = name.split("base_model.model.", 1)[-1]
        out[key] = {
            "r": mod.r["default"],
            "alpha": mod.lora_alpha["default"],
            "scaling": mod.scaling["default"],
            "in": mod.in_features,
            "out": mod.out_features,
        }
    return out


def check_patterns(summary, use_rslora):
    assert len(summary) == 14, f"expected 14 adapted linears (2 layers x 7), got {sorted(summary)}"
    assert not any("lm_head" in k for k in summary), "all-linear must exclude lm_head"
    for key, s in summary.items():
        r = RANK_PATTERN.get(key, R)
        alpha = ALPHA_PATTERN.get(key, ALPHA)
        scaling = alpha / math.sqrt(r) if use_rslora else alpha / r
        assert s["r"] == r and s["alpha"] == alpha, f"{key}: r {s['r']} alpha {s['alpha']}, want {r} {alpha}"
        assert abs(s["scaling"] - scaling) < 1e-12, f"{key}: scaling {s['scaling']}, want {scaling}"


def manual_loss(logits, labels):
    shift_logits = logits[:, :-1, :].reshape(-1, logits.shape[-1])
    shift_labels = labels[:, 1:].reshape(-1)
    return F.cross_entropy(shift_logits.double(), shift_labels, ignore_index=-100, reduction="mean")


def saved_name(param_name, saved):
    """Map a trainable parameter name to its key in adapter_model.safetensors."""
    cand = param_name.replace(".default", "")
    if cand in saved:
        return cand
    if cand.endswith(".weight") and cand[: -len(".weight")] in saved:
        return cand[: -len(".weight")]
    raise KeyError(f"no saved tensor for parameter {param_name} (tried {cand})")


def run_variant(out_dir, variant, extra, batch):
    ids, mask, labels = batch
    use_dora = bool(extra.get("use_dora"))
    use_rslora = bool(extra.get("use_rslora"))
    torch.manual_seed(SEED)
    model = get_peft_model(load_base(), lora_config(extra))
    summary = layer_summary(model)
    check_patterns(summary, use_rslora)
    randomize(model, SEED, use_dora)

    with torch.no_grad():
        base_logits = load_base()(input_ids=ids, attention_mask=mask).logits

    # Loss and gradients (train mode; dropout is 0 so it equals eval mode).
    model.train()
    model.zero_grad(set_to_none=True)
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    out.loss.backward()
    loss = out.loss.detach()
    ref_loss = manual_loss(out.logits.detach(), labels)
    assert abs(loss.double().item() - ref_loss.item()) < 1e-5, (loss.item(), ref_loss.item())

    model.eval()
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits.float().contiguous()
    train_eval = (logits - out.logits.detach()).abs().max().item()
    assert train_eval < 1e-5, f"train and eval logits differ by {train_eval}"
    change = (logits - base_logits).abs().max().item()
    rel = ((logits - base_logits).norm() / base_logits.norm()).item()

    adapter_dir = os.path.join(out_dir, variant, "adapter")
    model.save_pretrained(adapter_dir)
    card = os.path.join(adapter_dir, "README.md")  # PEFT's generated model card: not a fixture
    if os.path.exists(card):
        os.remove(card)
    saved = safetensors.torch.load_file(os.path.join(adapter_dir, "adapter_model.safetensors"))
    for k, v in saved.items():
        assert v.dtype == torch.float32, f"{k} saved as {v.dtype}"

    result = {
        "input_ids": ids.contiguous(),
        "attention_mask": mask.contiguous(),
        "labels": labels.contiguous(),
        "loss": loss.float().reshape(1).contiguous(),
        "logits": logits,
    }
    covered = set()
    for pname, p in model.named_parameters():
        if not p.requires_grad:
            continue
        key = saved_name(pname, saved)
        assert torch.equal(p.detach(), saved[key]), f"saved {key} differs from the model"
        g = p.grad
        assert g is not None and torch.isfinite(g).all(), f"bad gradient for {pname}"
        assert g.abs().max().item() > 0, f"zero gradient for {pname}"
        result["grad." + key] = g.float().contiguous()
        covered.add(key)
    assert covered == set(saved), f"saved but not trainable: {sorted(set(saved) - covered)}"

    # PEFT reloads the saved adapter to the same logits.
    reloaded = PeftModel.from_pretrained(load_base(), adapter_dir).eval()
    with torch.no_grad():
        rl = reloaded(input_ids=ids, attention_mask=mask).logits
    reload_diff = (rl - logits).abs().max().item()
    assert reload_diff <= 1e-6, f"{variant}: reloaded adapter changes logits by {reload_diff}"

    merged = model.merge_and_unload().eval()
    with torch.no_grad():
        merged_logits = merged(input_ids=ids, attention_mask=mask).logits.float().contiguous()
    merge_diff = (merged_logits - logits).abs().max().item()
    assert merge_diff < 1e-4, f"{variant}: merged logits differ by {merge_diff}"
    result["merged_logits"] = merged_logits

    meta = versions()
    meta.update(
        {
            "variant": variant,
            "layers": json.dumps(summary, sort_keys=True),
            "prompt_mask": f"labels[{PROMPT_SEQ}, :{PROMPT_LEN}] = -100",
        }
    )
    ref_path = os.path.join(out_dir, variant, "reference.safetensors")
    safetensors.torch.save_file(result, ref_path, metadata=meta)

    print(f"== {variant}: {json.dumps(extra)}")
    print(f"  loss {loss.item():.8f} (hand-written {ref_loss.item():.8f})")
    print(f"  max |logits - base| {change:.5f}, relative L2 change {rel:.5f}")
    print(f"  reload max diff {reload_diff:.3g}, merge max diff {merge_diff:.3g}, train/eval {train_eval:.3g}")
    for key, s in summary.items():
        print(f"  {key}: r {s['r']} alpha {s['alpha']} scaling {s['scaling']:.6g} [{s['out']}x{s['in']}]")
    print("  saved tensors (adapter_model.safetensors):")
    for k in sorted(saved):
        g = result["grad." + k]
        print(f"    {k} {list(saved[k].shape)} |grad|max {g.abs().max().item():.3e}")
    with open(os.path.join(adapter_dir, "adapter_config.json")) as f:
        cfg = json.load(f)
    keep = ["r", "lora_alpha", "use_rslora", "use_dora", "rank_pattern", "alpha_pattern", "target_modules"]
    print("  adapter_config:", json.dumps({k: cfg.get(k) for k in keep}, sort_keys=True))


def versions():
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "safetensors": safetensors.__version__,
        "tokenizers": tokenizers.__version__,
    }


def main(out_dir):
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    print("versions:", json.dumps(versions()))
    with open(os.path.join(MODEL_DIR, "config.json")) as f:
        pad_id = json.load(f)["pad_token_id"]
    ids, mask, labels, lengths = make_batch(pad_id)
    print(f"batch: lengths {lengths}, S={ids.shape[1]}, pad id {pad_id}, "
          f"prompt mask labels[{PROMPT_SEQ}, :{PROMPT_LEN}], {int((labels[:, 1:] != -100).sum())} target tokens")
    for i, row in enumerate(ids.tolist()):
        print(f"  {i}: {row}")
    for variant, extra in VARIANTS.items():
        run_variant(out_dir, variant, extra, (ids, mask, labels))
    first = None
    for variant in VARIANTS:
        saved = safetensors.torch.load_file(os.path.join(out_dir, variant, "adapter", "adapter_model.safetensors"))
        ab = {k: v for k, v in saved.items() if ".lora_A." in k or ".lora_B." in k}
        if first is None:
            first = ab
        assert ab.keys() == first.keys() and all(torch.equal(ab[k], first[k]) for k in ab), \
            f"{variant}: lora_A/lora_B differ from the first variant's"
    print("lora_A and lora_B are identical in every variant")
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out_dir) for f in fs)
    print(f"total bytes under {out_dir}: {total}")
    assert total < MAX_TOTAL_BYTES, "fixtures too large"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
