#!/usr/bin/env python3
"""Make tiny Hugging Face reference checkpoints for eva's Go tests.

Usage:
    python3 scripts/make_model_fixtures.py OUTPUT_DIR [--only NAME...]

Writes, under OUTPUT_DIR, one directory per model (llama, llama-sharded, qwen2,
gpt2, mistral; --only makes just the named ones and leaves the others alone). Each holds a checkpoint written by save_pretrained (safetensors), the
byte-level BPE tokenizer trained here (tokenizer.json) and, except for
llama-sharded (same weights as llama), reference.safetensors with inputs,
logits, loss, activations and the gradient of the loss for every parameter.
Everything runs on the CPU in float32 with one thread and fixed seeds.
See testdata/models/README.md for what each file holds.
"""

import argparse
import copy
import inspect
import json
import math
import os
import platform
import shutil
import sys
import tempfile

import safetensors
import tokenizers
import torch
import torch.nn.functional as F
import transformers
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

VOCAB = 320
SPECIAL_TOKENS = ["<s>", "</s>", "<pad>"]
TARGET_LENGTHS = (24, 17, 9)
SEED = 1234
# Weights are drawn with std 0.1 (about 1/sqrt(hidden)) rather than HF's 0.02 so that
# attention is far from uniform and RoPE, masking and bias terms move the logits by O(0.1).
WEIGHT_STD = 0.1
BIAS_STD = 0.1
NORM_STD = 0.1
MAX_DIR_BYTES = 1_600_000

# Public-domain prose (Austen 1813, Dickens 1859, Lincoln 1863, Melville 1851, Carroll 1865)
# plus a few sentences of our own with accents and digits, for training the tokenizer.
CORPUS = """It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.

However little known the feelings or views of such a man may be on his first entering a neighbourhood, this truth is so well fixed in the minds of the surrounding families, that he is considered the rightful property of some one or other of their daughters.

"My dear Mr. Bennet," said his lady to him one day, "have you heard that Netherfield Park is let at last?"

Mr. Bennet replied that he had not.

"But it is," returned she; "for Mrs. Long has just been here, and she told me all about it."

Mr. Bennet made no answer.

"Do you not want to know who has taken it?" cried his wife impatiently.

"You want to tell me, and I have no objection to hearing it."

This was invitation enough.

It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had everything before us, we had nothing before us, we were all going direct to Heaven, we were all going direct the other way\u2014in short, the period was so far like the present period, that some of its noisiest authorities insisted on its being received, for good or for evil, in the superlative degree of comparison only.

Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived in Liberty, and dedicated to the proposition that all men are created equal.

Now we are engaged in a great civil war, testing whether that nation, or any nation so conceived and so dedicated, can long endure. We are met on a great battle-field of that war. We have come to dedicate a portion of that field, as a final resting place for those who here gave their lives that that nation might live. It is altogether fitting and proper that we should do this.

Call me Ishmael. Some years ago\u2014never mind how long precisely\u2014having little or no money in my purse, and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world. It is a way I have of driving off the spleen and regulating the circulation.

Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing to do: once or twice she had peeped into the book her sister was reading, but it had no pictures or conversations in it, "and what is the use of a book," thought Alice "without pictures or conversations?"

So she was considering in her own mind (as well as she could, for the hot day made her feel very sleepy and stupid), whether the pleasure of making a daisy-chain would be worth the trouble of getting up and picking the daisies, when suddenly a White Rabbit with pink eyes ran close by her.

The caf\u00e9 on the corner served cr\u00eapes to a na\u00efve fianc\u00e9 in 1865; he ordered 3 of them, then 12 more, and said it was d\u00e9j\u00e0 vu.

In 1851, 1859, 1863 and 1865 the printers set 250, 500 and 1000 copies; the numbers 0 1 2 3 4 5 6 7 8 9 appear on every page.
"""

# Sources of the three reference rows; each row is the longest word prefix whose
# encoding (with <s>) fits its target length.
SAMPLE_SOURCES = (
    "Call me Ishmael. Some years ago\u2014never mind how long precisely\u2014having little or no money in my purse.",
    "\u201cD\u00e9j\u00e0 vu,\u201d sighed the na\u00efve fianc\u00e9 at caf\u00e9 No. 42, twice over.",
    "Four score and seven years ago our fathers brought forth a nation.",
)

# Extra strings whose ids are recorded for tokenizer tests (unicode, whitespace runs,
# contractions, digits, characters never seen in training).
TOKENIZER_CASES = (
    "",
    " ",
    "a",
    "hello",
    " hello",
    "Hello, world!",
    "  two  spaces   three",
    "tab\tand\nnewline\n\nend",
    "don't you'll we've I'M they'd",
    "numbers 12345 and 3.14159",
    "na\u00efve caf\u00e9 \u2014 \u201cquoted\u201d d\u00e9j\u00e0 vu",
    "emoji \U0001F642 and \u4e2d\u6587",
    "trailing space ",
    "ALL CAPS SHOUT",
    "It is a truth universally acknowledged",
    "<s> literal special tokens </s> <pad>",
)


def versions():
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "safetensors": safetensors.__version__,
    }


def train_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS.split("\n\n"), trainer=trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B:1", special_tokens=[("<s>", bos)]
    )
    if tok.get_vocab_size() != VOCAB:
        sys.exit(f"tokenizer: vocab size {tok.get_vocab_size()}, want {VOCAB}")
    ids = [tok.token_to_id(t) for t in SPECIAL_TOKENS]
    if ids != [0, 1, 2]:
        sys.exit(f"tokenizer: special token ids {ids}, want [0, 1, 2]")
    return tok


def fit_prefix(tok, text, limit):
    words = text.split(" ")
    for k in range(len(words), 0, -1):
        prefix = " ".join(words[:k])
        ids = tok.encode(prefix).ids
        if len(ids) <= limit:
            return prefix, ids
    sys.exit(f"no prefix of {text!r} fits {limit} tokens")


def make_batch(tok):
    texts, rows = [], []
    for source, limit in zip(SAMPLE_SOURCES, TARGET_LENGTHS):
        text, ids = fit_prefix(tok, source, limit)
        if tok.decode(ids, skip_special_tokens=True) != text:
            sys.exit(f"tokenizer does not round-trip {text!r}")
        texts.append(text)
        rows.append(ids)
    seq = max(len(r) for r in rows)
    pad = tok.token_to_id("<pad>")
    input_ids = torch.full((len(rows), seq), pad, dtype=torch.int64)
    mask = torch.zeros((len(rows), seq), dtype=torch.int64)
    for i, r in enumerate(rows):
        input_ids[i, : len(r)] = torch.tensor(r, dtype=torch.int64)
        mask[i, : len(r)] = 1
    labels = input_ids.masked_fill(mask == 0, -100)
    print(f"batch: lengths {[len(r) for r in rows]}, S={seq}, pad id {pad}")
    for t, r in zip(texts, rows):
        print(f"  {len(r):2d} tokens: {t!r}")
    return {"texts": texts, "rows": rows, "input_ids": input_ids, "attention_mask": mask, "labels": labels}


def tokenizer_cases(tok):
    cases = []
    for text in TOKENIZER_CASES:
        with_special = tok.encode(text)
        plain = tok.encode(text, add_special_tokens=False)
        cases.append({"text": text, "ids": with_special.ids, "ids_no_special": plain.ids, "tokens": plain.tokens})
    return cases


def check_transformers_tokenizer(tok, path, batch):
    try:
        fast = transformers.PreTrainedTokenizerFast(tokenizer_file=path)
        for text, row in zip(batch["texts"], batch["rows"]):
            got = fast(text)["input_ids"]
            if list(got) != list(row):
                sys.exit(f"transformers tokenizer gives {got} for {text!r}, tokenizers gives {row}")
        print("tokenizer: transformers.PreTrainedTokenizerFast agrees on the 3 texts")
    except Exception as err:  # a cross-check only; report and go on
        print(f"tokenizer: transformers cross-check skipped: {type(err).__name__}: {err}")


def config_fields(cls):
    try:
        return set(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        return set()


def rope_kwargs(cfg_cls, theta, scaling=None):
    """Config kwargs for RoPE in either the v5 (rope_parameters) or v4 (rope_scaling) layout."""
    if "rope_parameters" in config_fields(cfg_cls):
        params = {"rope_type": "default"} if scaling is None else dict(scaling)
        params["rope_theta"] = float(theta)
        return {"rope_parameters": params}
    return {"rope_theta": float(theta), "rope_scaling": scaling}


def build(cls, config, attn):
    config = copy.deepcopy(config)
    try:
        model = cls._from_config(config, attn_implementation=attn)
    except TypeError:
        config._attn_implementation = attn
        model = cls(config)
    got = getattr(model.config, "_attn_implementation", None)
    if got != attn:
        sys.exit(f"{cls.__name__}: asked for attention {attn!r}, got {got!r}")
    return model.float().eval()


def randomize(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if name.endswith("bias"):
                p.copy_(BIAS_STD * noise)
            elif "norm" in name or ".ln_" in name:
                p.copy_(1.0 + NORM_STD * noise)
            else:
                p.copy_(WEIGHT_STD * noise)


def copy_params(src, dst):
    """Copies every parameter by name; both models must have the same parameter names."""
    source = dict(src.named_parameters())
    names = [n for n, _ in dst.named_parameters()]
    if sorted(names) != sorted(source):
        sys.exit(f"parameter names differ: {sorted(set(names) ^ set(source))}")
    with torch.no_grad():
        for name, p in dst.named_parameters():
            p.copy_(source[name])


def capture_hooks(model, names, store):
    hooks = []
    for name in names:
        try:
            module = model.get_submodule(name)
        except AttributeError:
            print(f"  activation capture: no module {name}, skipped")
            continue

        def hook(_module, _inputs, output, name=name):
            out = output[0] if isinstance(output, (tuple, list)) else output
            store[name] = out.detach().clone()

        hooks.append(module.register_forward_hook(hook))
    return hooks


def positions(batch):
    b, s = batch["input_ids"].shape
    return torch.arange(s, dtype=torch.int64).unsqueeze(0).expand(b, s).contiguous()


def logits_of(model, batch):
    """The batch's logits without gradients, with explicit position ids (as the references use)."""
    with torch.no_grad():
        return model(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            position_ids=positions(batch),
            use_cache=False,
        ).logits


def forward_backward(model, batch, capture=()):
    model.zero_grad(set_to_none=True)
    acts = {}
    hooks = capture_hooks(model, capture, acts)
    out = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        position_ids=positions(batch),
        labels=batch["labels"],
        use_cache=False,
    )
    for h in hooks:
        h.remove()
    out.loss.backward()
    grads = {}
    for name, p in model.named_parameters():
        if p.grad is None:
            sys.exit(f"parameter {name} got no gradient")
        grads[name] = p.grad.detach().clone()
    return out.logits.detach().clone(), out.loss.detach().clone(), grads, acts


def max_abs(a, b):
    return (a.double() - b.double()).abs().max().item()


def max_rel(a, b):
    return max_abs(a, b) / max(b.double().abs().max().item(), 1e-30)


def shifted_cross_entropy(logits, labels):
    v = logits.shape[-1]
    return F.cross_entropy(
        logits[:, :-1].reshape(-1, v).double(), labels[:, 1:].reshape(-1), ignore_index=-100
    )


def compare_models(tag, ref, other):
    logits, loss, grads = ref[0], ref[1], ref[2]
    o_logits, o_loss, o_grads = other[0], other[1], other[2]
    worst = max(max_rel(o_grads[n], grads[n]) for n in grads)
    print(
        f"  {tag}: max|dlogits| {max_abs(o_logits, logits):.3e}, |dloss| {abs(o_loss.item() - loss.item()):.3e}, "
        f"worst grad rel diff {worst:.3e}"
    )


def save_kwargs(model, **extra):
    params = inspect.signature(model.save_pretrained).parameters
    if "safe_serialization" in params:
        extra["safe_serialization"] = True
    return extra


def from_pretrained(cls, path):
    major = int(transformers.__version__.split(".")[0])
    dtype_key = "dtype" if major >= 5 else "torch_dtype"
    kwargs = {"attn_implementation": "eager", dtype_key: torch.float32}
    return cls.from_pretrained(path, **kwargs).eval()


def write_tokenizer(tok, path):
    tok.save(os.path.join(path, "tokenizer.json"), pretty=True)
    cfg = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "pad_token": "<pad>",
        "model_max_length": 128,
    }
    with open(os.path.join(path, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


def dir_bytes(path):
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))


def make_model(name, cls, config, outdir, tok, batch, capture, seed, extra=None):
    """Builds, randomises, checks, saves one model and its reference; returns (model, reference)."""
    print(f"\n== {name}: {cls.__name__}")
    torch.manual_seed(seed)
    model = build(cls, config, "eager")
    randomize(model, seed)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"  parameters: {n_params} ({len(list(model.named_parameters()))} tensors)")

    ref = forward_backward(model, batch, capture)
    logits, loss, grads, acts = ref
    manual = shifted_cross_entropy(logits, batch["labels"]).item()
    print(f"  loss {loss.item():.7f}; manual shifted CE (float64) {manual:.7f}, diff {abs(manual - loss.item()):.2e}")
    if abs(manual - loss.item()) > 1e-5:
        sys.exit(f"{name}: HF loss differs from shifted cross-entropy")
    counted = int((batch["labels"][:, 1:] != -100).sum())
    print(f"  loss averages over {counted} label positions")
    largest = max(g.abs().max().item() for g in grads.values())
    for n, g in grads.items():
        if g.abs().max().item() < 1e-4 * largest:
            print(f"  note: grad.{n} is ~0 (max {g.abs().max().item():.2e} vs largest {largest:.2e})")

    with torch.no_grad():
        default_pos = model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False
        ).logits
    print(f"  logits without explicit position_ids: max|diff| {max_abs(default_pos, logits):.3e}")

    sdpa = build(cls, config, "sdpa")
    copy_params(model, sdpa)
    compare_models("sdpa vs eager", ref, forward_backward(sdpa, batch))
    real = batch["attention_mask"].bool()
    s_logits = logits_of(sdpa, batch)
    print(f"  sdpa vs eager on real (non-pad) positions only: {max_abs(s_logits[real], logits[real]):.3e}")

    m64 = copy.deepcopy(model).double()
    compare_models("float32 vs float64 (ref=f32; tolerance guide)", ref, forward_backward(m64, batch))

    path = os.path.join(outdir, name)
    os.makedirs(path)
    model.save_pretrained(path, **save_kwargs(model))
    write_tokenizer(tok, path)
    saved = load_file(os.path.join(path, "model.safetensors"))
    missing = [n for n in grads if n not in saved]
    if missing:
        sys.exit(f"{name}: parameters not in model.safetensors: {missing}")
    print(f"  model.safetensors: {len(saved)} tensors, all dtypes {sorted({str(t.dtype) for t in saved.values()})}")

    reloaded = from_pretrained(cls, path)
    r_logits = logits_of(reloaded, batch)
    print(f"  reloaded from {name}/: max|dlogits| {max_abs(r_logits, logits):.3e}")

    tensors = {
        "input_ids": batch["input_ids"],
        "attention_mask": batch["attention_mask"],
        "labels": batch["labels"],
        "logits": logits,
        "loss": loss.reshape(()),
    }
    tensors.update({f"grad.{n}": g for n, g in grads.items()})
    tensors.update({f"act.{n}": a for n, a in acts.items()})
    tensors.update(extra or {})
    meta = dict(versions())
    meta.update({"model": name, "class": cls.__name__, "seed": str(seed), "attn_implementation": "eager"})
    save_file({k: v.detach().contiguous() for k, v in tensors.items()}, os.path.join(path, "reference.safetensors"), metadata=meta)
    size = dir_bytes(path)
    print(f"  {name}/: {size} bytes")
    if size > MAX_DIR_BYTES:
        sys.exit(f"{name}: directory is {size} bytes, over {MAX_DIR_BYTES}")
    return model, ref


def llama3_inv_freq(inv_freq, scaling):
    """The llama3 frequency rule, written out here to cross-check transformers."""
    factor = scaling["factor"]
    old = scaling["original_max_position_embeddings"]
    low_wavelen = old / scaling["low_freq_factor"]
    high_wavelen = old / scaling["high_freq_factor"]
    out = []
    for f in inv_freq.tolist():
        wavelen = 2 * math.pi / f
        if wavelen < high_wavelen:
            out.append(f)
        elif wavelen > low_wavelen:
            out.append(f / factor)
        else:
            smooth = (old / wavelen - scaling["low_freq_factor"]) / (scaling["high_freq_factor"] - scaling["low_freq_factor"])
            out.append((1 - smooth) * f / factor + smooth * f)
    return torch.tensor(out, dtype=torch.float64)


def model_inv_freq(model):
    for name, buf in model.named_buffers():
        if name.endswith("inv_freq") and "original" not in name:
            return name, buf.detach().clone()
    sys.exit("llama: no inv_freq buffer found")


# Sizes shared by the Llama-family fixtures (each adds its intermediate size, heads, norm and ties).
DECODER = dict(
    vocab_size=VOCAB,
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    max_position_embeddings=128,
    bos_token_id=0,
    eos_token_id=1,
    pad_token_id=2,
)


def make_llama(outdir, tok, batch):
    scaling = {
        "rope_type": "llama3",
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 32,
    }
    common = dict(
        **DECODER,
        intermediate_size=176,
        num_key_value_heads=2,
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
    )
    config = LlamaConfig(**common, **rope_kwargs(LlamaConfig, 10000.0, scaling))
    plain_config = LlamaConfig(**common, **rope_kwargs(LlamaConfig, 10000.0))
    print("\nllama rope config:", getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None))

    probe = build(LlamaForCausalLM, config, "eager")
    buf_name, inv_freq = model_inv_freq(probe)
    head_dim = 64 // 4
    default = 1.0 / (10000.0 ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    expected = llama3_inv_freq(default.double(), scaling)
    print(f"  {buf_name}:")
    for i, (d, g, e) in enumerate(zip(default.tolist(), inv_freq.tolist(), expected.tolist())):
        print(f"    i={i} default {d:.8e} llama3 {g:.8e} (ratio {g / d:.6f}; our rule {e:.8e})")
    if max_abs(inv_freq, expected) > 1e-6 * float(default.max()):
        sys.exit("llama: transformers' llama3 inv_freq differs from the rule written here")
    changed = int((inv_freq - default).abs().gt(1e-12).sum())
    print(f"  llama3 scaling changes {changed} of {len(default)} frequencies")
    if changed == 0:
        sys.exit("llama: llama3 scaling changed nothing")

    extra = {"rope.inv_freq": inv_freq.float(), "rope.inv_freq_default": default.float()}
    for i, row in enumerate(batch["rows"]):
        extra[f"text_ids.{i}"] = torch.tensor(row, dtype=torch.int64)
    capture = ["model.embed_tokens", "model.layers.0", "model.layers.1", "model.norm"]
    model, ref = make_model("llama", LlamaForCausalLM, config, outdir, tok, batch, capture, SEED, extra)

    plain = build(LlamaForCausalLM, plain_config, "eager")
    copy_params(model, plain)
    p_logits = logits_of(plain, batch)
    print(f"  same weights with default RoPE instead of llama3: max|dlogits| {max_abs(p_logits, ref[0]):.3e}")

    path = os.path.join(outdir, "llama")
    with open(os.path.join(path, "texts.json"), "w", encoding="utf-8") as f:
        json.dump({"texts": batch["texts"], "ids": batch["rows"]}, f, ensure_ascii=False, indent=2)
        f.write("\n")
    with open(os.path.join(path, "tokenizer_cases.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_cases(tok), f, ensure_ascii=False, indent=1)
        f.write("\n")
    check_transformers_tokenizer(tok, os.path.join(path, "tokenizer.json"), batch)

    make_sharded(model, outdir, tok, batch, ref[0])


def make_sharded(model, outdir, tok, batch, logits):
    print("\n== llama-sharded")
    path = os.path.join(outdir, "llama-sharded")
    os.makedirs(path)
    model.save_pretrained(path, **save_kwargs(model, max_shard_size="200KB"))
    write_tokenizer(tok, path)
    index = os.path.join(path, "model.safetensors.index.json")
    if not os.path.exists(index):
        sys.exit("llama-sharded: no model.safetensors.index.json written")
    with open(index) as f:
        shards = sorted(set(json.load(f)["weight_map"].values()))
    print(f"  {len(shards)} shards: {shards}")
    if len(shards) < 2:
        sys.exit("llama-sharded: fewer than 2 shards")
    reloaded = from_pretrained(LlamaForCausalLM, path)
    r_logits = logits_of(reloaded, batch)
    print(f"  reloaded sharded: max|dlogits| vs llama reference {max_abs(r_logits, logits):.3e}")
    print(f"  llama-sharded/: {dir_bytes(path)} bytes")


def make_qwen2(outdir, tok, batch):
    config = Qwen2Config(
        **DECODER,
        intermediate_size=160,
        num_key_value_heads=2,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        **rope_kwargs(Qwen2Config, 10000.0),
    )
    capture = ["model.embed_tokens", "model.layers.0", "model.layers.1", "model.norm"]
    model, _ = make_model("qwen2", Qwen2ForCausalLM, config, outdir, tok, batch, capture, SEED + 1)
    tied = model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    print(f"  lm_head tied to embed_tokens: {tied}")
    if not tied:
        sys.exit("qwen2: lm_head is not tied")


def make_gpt2(outdir, tok, batch):
    config = GPT2Config(
        vocab_size=VOCAB,
        n_positions=64,
        n_embd=64,
        n_layer=2,
        n_head=4,
        activation_function="gelu_new",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        layer_norm_epsilon=1e-5,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=2,
    )
    capture = ["transformer.drop", "transformer.h.0", "transformer.h.1", "transformer.ln_f"]
    model, _ = make_model("gpt2", GPT2LMHeadModel, config, outdir, tok, batch, capture, SEED + 2)
    w = model.transformer.h[0].attn.c_attn.weight
    print(f"  Conv1D c_attn.weight shape {tuple(w.shape)} ([in, out])")


def make_mistral(outdir, tok, batch):
    # A sliding window shorter than the batch's longest text (24 tokens), so that the window masks
    # real positions and a model that ignores it gives other logits.
    config = MistralConfig(
        **DECODER,
        intermediate_size=144,
        num_key_value_heads=1,
        rms_norm_eps=1e-5,
        sliding_window=6,
        tie_word_embeddings=False,
        **rope_kwargs(MistralConfig, 10000.0),
    )
    capture = ["model.embed_tokens", "model.layers.0", "model.layers.1", "model.norm"]
    model, ref = make_model("mistral", MistralForCausalLM, config, outdir, tok, batch, capture, SEED + 3)
    wide = copy.deepcopy(config)
    wide.sliding_window = None
    full = build(MistralForCausalLM, wide, "eager")
    copy_params(model, full)
    f_logits = logits_of(full, batch)
    d = max_abs(f_logits, ref[0])
    print(f"  same weights without the sliding window: max|dlogits| {d:.3e}")
    if d < 1e-3:
        sys.exit("mistral: the sliding window changed nothing")


BUILDERS = {"llama": make_llama, "qwen2": make_qwen2, "gpt2": make_gpt2, "mistral": make_mistral}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", help="directory that receives llama/, llama-sharded/, qwen2/, gpt2/, mistral/")
    parser.add_argument("--only", nargs="+", choices=sorted(BUILDERS), help="make only these fixtures (the others are left alone)")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    print("versions:", json.dumps(versions()))

    tok = train_tokenizer()
    batch = make_batch(tok)

    os.makedirs(args.outdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".fixtures-", dir=args.outdir)
    try:
        for name, make in BUILDERS.items():
            if not args.only or name in args.only:
                make(work, tok, batch)
        for name in sorted(os.listdir(work)):
            final = os.path.join(args.outdir, name)
            if os.path.exists(final):
                shutil.rmtree(final)
            os.rename(os.path.join(work, name), final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nwrote {sorted(os.listdir(args.outdir))} under {args.outdir}")


if __name__ == "__main__":
    main()
