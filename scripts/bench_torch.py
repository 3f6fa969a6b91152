#!/usr/bin/env python3
"""Time training steps of a ~20M-parameter Llama in PyTorch on the CPU (full or LoRA).

Usage (pin the cores the same way as the Go binary under comparison):
    taskset -c 0,1 python3 scripts/bench_torch.py --threads 2
    taskset -c 0,1 python3 scripts/bench_torch.py --threads 2 --lora 16

Default (--lora 0): one step is forward (with HF's shifted cross-entropy loss) plus
backward to every parameter, float32, random token ids. Gradients are zeroed in place
between steps, outside the timed region.

--lora R: PEFT LoRA (r R, alpha --lora-alpha or 2R, target_modules "all-linear", which
leaves lm_head out, dropout 0) on the frozen model, torch.optim.AdamW over the adapter
parameters; one timed step is forward + loss + backward + optimizer.step + zero_grad.

Prints one JSON object: sizes, per-step seconds, the median, tokens per second
(batch*seq / median step) and the peak resident set size.

--profile: after the timed steps, profile two more with torch.profiler and print the operators
with the most self CPU time to stderr (the JSON on stdout is unchanged).

--gemm: instead of training, time torch.mm on the shapes of eva's BenchmarkGemm (backend/cpu,
named MxKxN_op(a)op(b)) and print their best-of-5 GFLOP/s as one JSON object, in float32 and in
bfloat16 (on CPUs with AMX, oneDNN's bf16 kernels: what reduced-precision products would buy).
"""

import argparse
import json
import os
import platform
import resource
import statistics
import time

import torch
import transformers
from transformers import LlamaConfig, LlamaForCausalLM


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    p.add_argument("--steps", type=int, default=5, help="timed steps (median reported)")
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--intermediate", type=int, default=1408)
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, default=8)
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lora", type=int, default=0, metavar="R",
                   help="LoRA rank; 0 (default) times full-gradient steps instead")
    p.add_argument("--lora-alpha", type=float, default=None, help="LoRA alpha (default 2R)")
    p.add_argument("--lr", type=float, default=1e-4, help="AdamW learning rate (LoRA mode)")
    p.add_argument("--profile", action="store_true", help="print the top operators of two more steps")
    p.add_argument("--gemm", action="store_true", help="time torch.mm on eva's GEMM benchmark shapes")
    args = p.parse_args()
    if min(args.threads, args.batch, args.seq, args.steps) < 1 or args.warmup < 0 or args.lora < 0:
        p.error("threads, batch, seq and steps must be >= 1; warmup and lora >= 0")
    if args.lora_alpha is None:
        args.lora_alpha = 2.0 * args.lora
    return args


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def build(args):
    config = LlamaConfig(
        vocab_size=args.vocab,
        hidden_size=args.hidden,
        intermediate_size=args.intermediate,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads,
        max_position_embeddings=max(2048, args.seq),
        tie_word_embeddings=False,
        use_cache=False,
    )
    try:
        model = LlamaForCausalLM._from_config(config, attn_implementation=args.attn)
    except TypeError:
        config._attn_implementation = args.attn
        model = LlamaForCausalLM(config)
    return model.float().train()


GEMM_SHAPES = [  # (m, k, n, op(a) transposed, op(b) transposed), as eva's BenchmarkGemm
    (1024, 1024, 1024, False, False), (2048, 512, 512, False, True), (2048, 512, 1408, False, True),
    (2048, 1408, 512, False, True), (2048, 512, 32000, False, True), (2048, 1408, 512, False, False),
    (1408, 2048, 512, True, False), (2048, 32000, 512, False, False), (256, 64, 256, False, True),
]


def time_gemm(dtype=torch.float32):
    rates = {}
    for m, k, n, ta, tb in GEMM_SHAPES:
        a = (torch.randn(k, m).t() if ta else torch.randn(m, k)).to(dtype)
        b = (torch.randn(n, k).t() if tb else torch.randn(k, n)).to(dtype)
        c = torch.empty(m, n, dtype=dtype)
        torch.mm(a, b, out=c)
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            torch.mm(a, b, out=c)
            best = min(best, time.perf_counter() - t0)
        name = f"{m}x{k}x{n}_{'T' if ta else 'N'}{'T' if tb else 'N'}"
        rates[name] = round(2 * m * n * k / best / 1e9, 1)
    return rates


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(args.seed)
    if args.gemm:
        print(json.dumps({"framework": "pytorch", "torch": torch.__version__, "cpu": cpu_model(),
                          "threads": torch.get_num_threads(), "mm_gflops": time_gemm(),
                          "bf16_mm_gflops": time_gemm(torch.bfloat16)}, indent=1))
        return

    model = build(args)
    total = sum(p.numel() for p in model.parameters())
    embedding = model.get_input_embeddings().weight.numel() + model.get_output_embeddings().weight.numel()
    ids = torch.randint(0, args.vocab, (args.batch, args.seq), generator=torch.Generator().manual_seed(args.seed))

    extra = {}
    if args.lora:
        import peft
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(
            r=args.lora, lora_alpha=args.lora_alpha, target_modules="all-linear",
            lora_dropout=0.0, bias="none", task_type="CAUSAL_LM"))
        model.train()
        trainable = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(trainable, lr=args.lr)
        extra = {
            "mode": "lora",
            "peft": peft.__version__,
            "lora_r": args.lora,
            "lora_alpha": args.lora_alpha,
            "lora_targets": sorted({n.split(".")[-1] for n, m in model.named_modules() if hasattr(m, "lora_A")}),
            "params_trainable": sum(p.numel() for p in trainable),
            "optimizer": f"AdamW(lr={args.lr})",
            "step": "forward+loss+backward+optimizer.step+zero_grad",
        }

        def step():
            t0 = time.perf_counter()
            out = model(input_ids=ids, labels=ids, use_cache=False)
            out.loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            return time.perf_counter() - t0, out.loss.item()
    else:
        def step():
            model.zero_grad(set_to_none=False)
            t0 = time.perf_counter()
            out = model(input_ids=ids, labels=ids, use_cache=False)
            out.loss.backward()
            return time.perf_counter() - t0, out.loss.item()

    for _ in range(args.warmup):
        step()
    times, losses = [], []
    for _ in range(args.steps):
        dt, loss = step()
        times.append(dt)
        losses.append(loss)
    median = statistics.median(times)
    tokens = args.batch * args.seq
    result = {
        "framework": "pytorch",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cpu": cpu_model(),
        "affinity": sorted(os.sched_getaffinity(0)),
        "threads": torch.get_num_threads(),
        "attn_implementation": getattr(model.config, "_attn_implementation", args.attn),
        "dtype": "float32",
        "batch": args.batch,
        "seq": args.seq,
        "hidden": args.hidden,
        "intermediate": args.intermediate,
        "layers": args.layers,
        "heads": args.heads,
        "kv_heads": args.kv_heads,
        "vocab": args.vocab,
        "params_total": total,
        "params_embedding_and_head": embedding,
        "params_non_embedding": total - embedding,
        "warmup_steps": args.warmup,
        "step_seconds": [round(t, 4) for t in times],
        "step_seconds_median": round(median, 4),
        "tokens_per_second": round(tokens / median, 1),
        "loss_first_last": [round(losses[0], 4), round(losses[-1], 4)],
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    result.update(extra)
    print(json.dumps(result, indent=1))
    if args.profile:
        import sys
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            step()
            step()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15), file=sys.stderr)


if __name__ == "__main__":
    main()
