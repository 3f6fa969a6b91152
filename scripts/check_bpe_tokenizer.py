#!/usr/bin/env python3
"""Check tokenizers written by eva's BPE trainer (hf/tokenizer/bpetrain) against Hugging Face.

Fixture check (testdata/bpetrain, see fixture_test.go there):
  * loads tokenizer/ with tokenizers.Tokenizer.from_file and transformers.AutoTokenizer.from_pretrained;
  * encodes every text of texts.json with both and asserts the ids equal eva's (eva_ids.json) and that
    decoding gives the text back;
  * trains Hugging Face's own BpeTrainer on corpus.jsonl with the same settings (vocab 400, min_frequency
    2, special tokens <|endoftext|> and <|pad|>, ByteLevel pre-tokenizer and alphabet) and compares its
    vocabulary and merges with eva's;
  * with --write-reference, writes hf_reference.json (ids, AutoTokenizer ids, decodes, trained vocab
    and merges), which the Go test TestFixtureMatchesHuggingFace compares with eva.

Larger comparison (--compare DIR CORPUS.jsonl MIN_FREQUENCY, repeatable): DIR holds a tokenizer.json
that `eva tokenizer train --data CORPUS.jsonl --min-frequency MIN_FREQUENCY` wrote; Hugging Face trains
on the same texts to the same vocabulary size, and the merges, the vocabulary and the ids of the first
texts are compared. Agreement is reported (common prefix of the merge lists, shared merges).

Usage (where tokenizers and transformers are installed):
  python3 scripts/check_bpe_tokenizer.py [--fixture testdata/bpetrain] [--write-reference]
      [--compare DIR CORPUS.jsonl 2] [--report OUT.json]
Exits 1 when anything differs.
"""
import argparse
import json
import os
import sys
import time

import tokenizers
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer


def read_jsonl_texts(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def hf_train(texts, vocab_size, min_frequency, specials):
    """Hugging Face's BpeTrainer with the settings eva's trainer reproduces."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    return tok, model["vocab"], merges


def eva_model(path):
    with open(path, encoding="utf-8") as f:
        tj = json.load(f)
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in tj["model"]["merges"]]
    specials = [t["content"] for t in sorted(tj["added_tokens"], key=lambda t: t["id"]) if t["special"]]
    return tj["model"]["vocab"], merges, specials


def compare_training(name, eva_vocab, eva_merges, hf_vocab, hf_merges, problems):
    prefix = 0
    while prefix < min(len(eva_merges), len(hf_merges)) and eva_merges[prefix] == hf_merges[prefix]:
        prefix += 1
    shared = len(set(eva_merges) & set(hf_merges))
    same_vocab = eva_vocab == hf_vocab
    result = {"eva_merges": len(eva_merges), "hf_merges": len(hf_merges), "common_prefix": prefix,
              "shared_merges": shared, "identical_merges": eva_merges == hf_merges, "identical_vocab": same_vocab}
    if prefix < max(len(eva_merges), len(hf_merges)):
        result["first_difference"] = {"index": prefix,
                                      "eva": eva_merges[prefix] if prefix < len(eva_merges) else None,
                                      "hf": hf_merges[prefix] if prefix < len(hf_merges) else None}
    if not (result["identical_merges"] and same_vocab):
        problems.append(f"{name}: trained merges/vocab differ: {result}")
    print(f"{name}: merges eva {len(eva_merges)} hf {len(hf_merges)}, common prefix {prefix}, shared {shared}, "
          f"identical merges {result['identical_merges']}, identical vocab {same_vocab}")
    return result


def check_fixture(fixture, write_reference, problems):
    tok_dir = os.path.join(fixture, "tokenizer")
    with open(os.path.join(fixture, "texts.json"), encoding="utf-8") as f:
        texts = json.load(f)
    with open(os.path.join(fixture, "eva_ids.json")) as f:
        eva_ids = json.load(f)
    fast = Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))
    auto = AutoTokenizer.from_pretrained(tok_dir)
    print(f"AutoTokenizer class {type(auto).__name__}; bos {auto.bos_token_id} eos {auto.eos_token_id} pad {auto.pad_token_id}")
    if (auto.bos_token_id, auto.eos_token_id, auto.pad_token_id) != (0, 0, 1):
        problems.append(f"fixture: bos/eos/pad ids {(auto.bos_token_id, auto.eos_token_id, auto.pad_token_id)}, want (0, 0, 1)")
    ids, auto_ids, decoded = [], [], []
    for i, text in enumerate(texts):
        a = fast.encode(text).ids
        b = auto(text)["input_ids"]
        d = fast.decode(a, skip_special_tokens=False)
        d2 = auto.decode(b, skip_special_tokens=False)
        ids.append(a)
        auto_ids.append(b)
        decoded.append(d)
        if a != eva_ids[i]:
            problems.append(f"fixture text {i} {text!r}: tokenizers {a}, eva {eva_ids[i]}")
        if b != eva_ids[i]:
            problems.append(f"fixture text {i} {text!r}: AutoTokenizer {b}, eva {eva_ids[i]}")
        if d != text or d2 != text:
            problems.append(f"fixture text {i} {text!r}: decoded {d!r} / {d2!r}")
    print(f"fixture: {len(texts)} texts encoded by tokenizers and AutoTokenizer, "
          f"{sum(1 for i in range(len(texts)) if ids[i] == eva_ids[i] and auto_ids[i] == eva_ids[i])} equal to eva's ids")
    eva_vocab, eva_merges, specials = eva_model(os.path.join(tok_dir, "tokenizer.json"))
    corpus = read_jsonl_texts(os.path.join(fixture, "corpus.jsonl"))
    _, hf_vocab, hf_merges = hf_train(corpus, len(eva_vocab), 2, specials)
    training = compare_training("fixture", eva_vocab, eva_merges, hf_vocab, hf_merges, problems)
    if write_reference:
        ref = {"tokenizers_version": tokenizers.__version__, "transformers_version": transformers.__version__,
               "ids": ids, "auto_ids": auto_ids, "decoded": decoded, "trained_vocab": hf_vocab,
               "trained_merges": [list(m) for m in hf_merges]}
        with open(os.path.join(fixture, "hf_reference.json"), "w", encoding="utf-8") as f:
            json.dump(ref, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
    return {"texts": len(texts), "training": training}


def check_large(tok_dir, corpus_path, min_frequency, problems):
    eva_vocab, eva_merges, specials = eva_model(os.path.join(tok_dir, "tokenizer.json"))
    texts = read_jsonl_texts(corpus_path)
    start = time.time()
    hf_tok, hf_vocab, hf_merges = hf_train(texts, len(eva_vocab), min_frequency, specials)
    seconds = time.time() - start
    name = os.path.basename(os.path.normpath(tok_dir))
    print(f"{name}: {len(texts)} texts, {sum(len(t) for t in texts)} characters; Hugging Face trained in {seconds:.1f} s")
    result = compare_training(name, eva_vocab, eva_merges, hf_vocab, hf_merges, problems)
    result["hf_seconds"] = seconds
    eva_tok = Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))
    sample = texts[:2000]
    same = sum(1 for t in sample if eva_tok.encode(t).ids == hf_tok.encode(t).ids)
    chars = sum(len(t) for t in texts)
    tokens = sum(len(e.ids) for e in eva_tok.encode_batch(texts))
    result.update({"sample_texts": len(sample), "sample_same_ids": same, "chars_per_token_hf_encoding": chars / max(tokens, 1)})
    print(f"{name}: {same}/{len(sample)} texts encode identically with eva's and Hugging Face's trained tokenizers; "
          f"eva's file in tokenizers: {chars / max(tokens, 1):.3f} characters per token")
    if same != len(sample):
        problems.append(f"{name}: {len(sample) - same} texts encode differently")
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixture", default="testdata/bpetrain")
    ap.add_argument("--write-reference", action="store_true")
    ap.add_argument("--compare", nargs=3, action="append", default=[], metavar=("DIR", "CORPUS", "MIN_FREQUENCY"))
    ap.add_argument("--report", help="write a JSON report here")
    args = ap.parse_args()
    print(f"tokenizers {tokenizers.__version__}, transformers {transformers.__version__}")
    problems = []
    report = {"tokenizers_version": tokenizers.__version__, "transformers_version": transformers.__version__,
              "fixture": check_fixture(args.fixture, args.write_reference, problems), "compare": {}}
    for tok_dir, corpus, min_frequency in args.compare:
        report["compare"][tok_dir] = check_large(tok_dir, corpus, int(min_frequency), problems)
    report["problems"] = problems
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=1)
    for p in problems:
        print("DIFFERENCE:", p)
    print("OK" if not problems else f"{len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
