#!/usr/bin/env python3
"""Make EVA reference fixtures with Hugging Face PEFT for eva's Go tests.

Usage:
    python3 scripts/make_eva_reference.py OUTPUT_DIR [--model testdata/models/llama] [--only default-exact]

Runs PEFT's get_eva_state_dict and initialize_lora_eva_weights on the tiny Llama checkpoint for every
scenario in SCENARIOS, once with an exact SVD (IncrementalPCA forced to lowrank=False) and once with
PEFT's stock randomized SVD, and writes the A matrices, the convergence / redistribution schedule, the
adapter files PEFT writes, and for default-exact every single incremental-PCA step.
Everything runs on the CPU with one thread and fixed seeds. testdata/eva/README.md describes every file.

The script checks the invariants it can verify independently (budget, orthonormality, sign convention,
prefixes inside equal-input groups, an independent replay of the rank redistribution and of the PCA)
and records each result under "checks"; it exits with status 1 if any check failed, after writing
everything it could.
"""

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
import warnings

import torch

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
PREFIX = "base_model.model."
# (r, lora_alpha, EvaConfig keyword arguments)
SCENARIOS = {
    "default": (8, 16, dict(rho=2.0, tau=0.99)),
    "rho1": (8, 16, dict(rho=1.0, tau=0.99)),
    "tau0": (8, 16, dict(rho=2.0, tau=0.0)),
    "nolabelmask": (8, 16, dict(rho=2.0, tau=0.99, use_label_mask=False)),
    "noadjust": (8, 16, dict(rho=2.0, tau=0.99, adjust_scaling_factors=False)),
    "whiten": (8, 16, dict(rho=2.0, tau=0.99, whiten=True)),
    "rhohalf": (3, 6, dict(rho=1.5, tau=0.99)),
}
MODES = ("exact", "randomized")
TRACE_CASE = ("default", "exact")

N_BATCHES, BATCH_ROWS, SEQ_LEN = 16, 4, 32
BOS_ID, PAD_ID, FIRST_ID = 0, 2, 3
DATA_SEED = 20240
ZIPF_EXPONENT = 1.1
LENGTH_RANGE = (16, 32)  # inclusive
PROMPT_RANGE = (2, 8)  # inclusive, BOS included
IGNORE = -100
FORWARD_CAP = 200
ORTHO_TOL = 1e-6


def strip(name):
    return name[len(PREFIX):] if name.startswith(PREFIX) else name


def log(msg):
    print(msg, flush=True)
    if LOG_FILE is not None:
        LOG_FILE.write(msg + "\n")
        LOG_FILE.flush()


LOG_FILE = None


# ---------------------------------------------------------------------------------------------- data

def make_batches(vocab):
    """16 batches of 4x32: Zipf-like ids, BOS first, right padding, prompt and padding labelled -100."""
    g = torch.Generator().manual_seed(DATA_SEED)
    n_ids = vocab - FIRST_ID
    weights = 1.0 / torch.arange(1, n_ids + 1, dtype=torch.float64) ** ZIPF_EXPONENT
    pos = torch.arange(SEQ_LEN)[None, :]
    input_ids, attention_mask, labels = [], [], []
    for _ in range(N_BATCHES):
        draw = torch.multinomial(weights, BATCH_ROWS * SEQ_LEN, replacement=True, generator=g)
        ids = (FIRST_ID + draw).view(BATCH_ROWS, SEQ_LEN)
        ids[:, 0] = BOS_ID
        length = torch.randint(LENGTH_RANGE[0], LENGTH_RANGE[1] + 1, (BATCH_ROWS,), generator=g)
        prompt = torch.randint(PROMPT_RANGE[0], PROMPT_RANGE[1] + 1, (BATCH_ROWS,), generator=g)
        real = pos < length[:, None]
        ids = ids.masked_fill(~real, PAD_ID)
        lab = ids.masked_fill(~real | (pos < prompt[:, None]), IGNORE)
        input_ids.append(ids)
        attention_mask.append(real.long())
        labels.append(lab)
    stacked = {
        "input_ids": torch.stack(input_ids).long().contiguous(),
        "attention_mask": torch.stack(attention_mask).long().contiguous(),
        "labels": torch.stack(labels).long().contiguous(),
    }
    batches = [{k: v[b].clone() for k, v in stacked.items()} for b in range(N_BATCHES)]
    return stacked, batches


def token_mask(batch, use_label_mask):
    mask = batch["attention_mask"].bool()
    if use_label_mask:
        mask = mask & (batch["labels"] != IGNORE)
    return mask


def fixed_prepare_model_inputs(model_input, peft_config):
    """PEFT >= 0.20 semantics: attention mask AND (labels != label_mask_value), as (batch, pos) pairs."""
    mask = model_input["attention_mask"].bool()
    ec = peft_config.eva_config
    if ec.use_label_mask and "labels" in model_input:
        mask = mask & (model_input["labels"] != ec.label_mask_value)
    return mask.nonzero()


# --------------------------------------------------------------------------------- instrumentation

REC = None  # the Recorder of the run in progress; the patched hook reports to it


def find_peft_loop_locals():
    """Locals of PEFT's _get_eva_state_dict (the caller of forward_fn), or None."""
    fr = sys._getframe(2)
    for _ in range(8):
        if fr is None:
            return None
        if "rank_budget" in fr.f_locals and "max_components" in fr.f_locals:
            return fr.f_locals
        fr = fr.f_back
    return None


class Recorder:
    """Counts forwards, reads PEFT's loop state before each forward and snapshots every IPCA step."""

    def __init__(self, batches, trace):
        self.batches = batches
        self.trace = trace
        self.forwards = []
        self.current = None
        self.fits = {}  # hook layer -> list of step records
        self.last_components = {}
        self.last_singular_values = {}
        self.trace_tensors = {}
        self.trace_index = []
        self.trace_inputs = {}  # layer -> list of (forward, X float32)
        self.trace_states = {}  # layer -> list of state dicts (float64 + native)
        self.loop = None  # PEFT's equal_inputs_map etc., read at the first SVD forward

    def identify_batch(self, inputs):
        ids = inputs["input_ids"]
        for b, bt in enumerate(self.batches):
            if ids is bt["input_ids"]:
                return b
        for b, bt in enumerate(self.batches):
            if torch.equal(ids.cpu(), bt["input_ids"]):
                return b
        return None

    def forward_fn(self, model, inputs):
        f = len(self.forwards)
        if f >= FORWARD_CAP:
            raise RuntimeError(f"EVA did not finish within {FORWARD_CAP} forward passes")
        loc = find_peft_loop_locals()
        entry = {"forward": f, "batch": self.identify_batch(inputs), "kind": "hash" if f == 0 else "svd",
                 "active": None, "fitted": [], "rank_dist": None}
        if f > 0 and loc is not None:
            conv = loc.get("convergence_dict")
            if conv is not None:
                entry["active"] = [strip(k) for k, v in conv.items() if not v]
            rd = loc.get("rank_dist")
            if f >= 2 and rd is not None:
                self.forwards[f - 1]["rank_dist"] = {strip(k): int(v) for k, v in rd.items()}
            if f == 1:
                self.loop = {
                    "equal_inputs_map": {strip(k): strip(v) for k, v in loc.get("equal_inputs_map", {}).items()},
                    "layer_hook_map_order": [strip(k) for k in loc.get("layer_hook_map", {})],
                    "hook_layers": [strip(k) for k in loc.get("hooks", {})],
                    "max_components": {strip(k): int(v) for k, v in loc["max_components"].items()},
                    "rank_budget": int(loc["rank_budget"]),
                }
        self.forwards.append(entry)
        self.current = f
        return model(**inputs)

    def on_hook_call(self, hook, fitted):
        layer = strip(hook.name)
        entry = self.forwards[self.current]
        if not fitted:
            entry.setdefault("skipped", []).append(layer)
            return
        entry["fitted"].append(layer)
        ipca = hook.svd
        fits = self.fits.setdefault(layer, [])
        step = len(fits)
        native = {a: str(getattr(ipca, a).dtype).replace("torch.", "")
                  for a in ("components_", "singular_values_", "explained_variance_ratio_", "mean_", "var_")}
        state = {
            "mean": ipca.mean_.detach().cpu().to(torch.float64).clone(),
            "var": ipca.var_.detach().cpu().to(torch.float64).clone(),
            "n_samples_seen": ipca.n_samples_seen_.detach().cpu().reshape(1).to(torch.int64).clone(),
            "components": ipca.components_.detach().cpu().to(torch.float64).clone(),
            "singular_values": ipca.singular_values_.detach().cpu().to(torch.float64).clone(),
            "explained_variance_ratio": ipca.explained_variance_ratio_.detach().cpu().to(torch.float64).clone(),
            "converged": hook.converged.detach().cpu().reshape(-1).to(torch.uint8).clone(),
        }
        X = ipca._eva_ref_last_X
        fits.append({"forward": self.current, "step": step, "rows": int(X.shape[0]),
                     "evr": state["explained_variance_ratio"], "sv": state["singular_values"],
                     "converged": state["converged"], "n_samples_seen": int(state["n_samples_seen"][0]),
                     "native": native})
        self.last_components[layer] = state["components"]
        self.last_singular_values[layer] = state["singular_values"]
        if self.trace:
            base = f"step.{self.current}.{layer}."
            for k, v in state.items():
                self.trace_tensors[base + k] = v.contiguous()
            self.trace_index.append({"forward": self.current, "layer": layer, "step": step,
                                     "batch": self.forwards[self.current]["batch"],
                                     "rows": int(X.shape[0]), "native_dtypes": native})
            self.trace_inputs.setdefault(layer, []).append((self.current, X.to(torch.float32)))
            self.trace_states.setdefault(layer, []).append(state)


@contextlib.contextmanager
def instrumented(eva_mod, exact, rec):
    """Swap in a recording IncrementalPCA (lowrank forced off when exact) and a reporting SVDHook.__call__."""
    global REC
    base_ipca = eva_mod.IncrementalPCA
    orig_call = eva_mod.SVDHook.__call__

    class RecordingIPCA(base_ipca):
        def __init__(self, *args, **kwargs):
            if exact:
                kwargs["lowrank"] = False
            super().__init__(*args, **kwargs)

        def partial_fit(self, X, check_input=True):
            self._eva_ref_last_X = X.detach().to("cpu", copy=True)
            return super().partial_fit(X, check_input=check_input)

    def reporting_call(self, module, inputs, output):
        ipca = self.svd
        seen = int(ipca.n_samples_seen_.reshape(-1)[0]) if hasattr(ipca, "components_") else 0
        result = orig_call(self, module, inputs, output)
        now = int(ipca.n_samples_seen_.reshape(-1)[0]) if hasattr(ipca, "components_") else 0
        if REC is not None:
            REC.on_hook_call(self, now != seen)
        return result

    eva_mod.IncrementalPCA = RecordingIPCA
    eva_mod.SVDHook.__call__ = reporting_call
    REC = rec
    try:
        yield
    finally:
        eva_mod.IncrementalPCA = base_ipca
        eva_mod.SVDHook.__call__ = orig_call
        REC = None


# ------------------------------------------------------------------------------ independent checks

def max_components_for(r, rho):
    return round(r * rho)  # Python's round: half to even, like PEFT


def replay_rank_distribution(order, dup_map, evr, max_components, budget):
    """PEFT's redistribution with a stable descending sort (ties keep the concatenation order)."""
    vals, owners = [], []
    for layer in order:
        hook = dup_map.get(layer, layer)
        for v in evr[hook][: max_components[hook]].tolist():
            vals.append(v)
            owners.append(layer)
    idx = sorted(range(len(vals)), key=lambda i: -vals[i])
    counts = {layer: 0 for layer in order}
    for i in idx[:budget]:
        counts[owners[i]] += 1
    for dup, hook in dup_map.items():
        if counts[hook] < counts[dup]:
            counts[hook], counts[dup] = counts[dup], counts[hook]
    return counts


def groups_of(dup_map, hook_layers):
    groups = {h: [h] for h in hook_layers}
    for dup, hook in dup_map.items():
        groups[hook].append(dup)
    return [g for g in groups.values() if len(g) > 1]


def compare_rank_dicts(got, want, groups):
    """True if equal; a tie note if they differ only by a permutation inside groups; else a failure text."""
    if got == want:
        return True
    grouped = {m for g in groups for m in g}
    for m in set(got) | set(want):
        if m not in grouped and got.get(m) != want.get(m):
            return f"FAIL {m}: peft {got.get(m)} replay {want.get(m)}"
    for g in groups:
        if sorted(got[m] for m in g) != sorted(want[m] for m in g):
            return f"FAIL group {g}: peft {[got[m] for m in g]} replay {[want[m] for m in g]}"
    diff = {m: (got[m], want[m]) for m in got if got[m] != want[m]}
    return f"TIE permutation inside a group (peft, stable replay): {diff}"


def svd_flip_sign_ok(A):
    if A.shape[0] == 0:
        return True
    idx = A.abs().argmax(dim=1)
    return bool((A[torch.arange(A.shape[0]), idx] > 0).all())


def ortho_error(A):
    if A.shape[0] == 0:
        return 0.0
    G = A.to(torch.float64) @ A.to(torch.float64).T
    return float((G - torch.eye(A.shape[0], dtype=torch.float64)).abs().max())


def independent_ipca_replay(inputs, states, k, tau):
    """Plain float64 incremental PCA fed PEFT's X sequence; largest differences to PEFT's states."""
    mean = var = comps = sv = None
    n = 0
    worst = {"components_by_index": [0.0] * k, "singular_values_rel": 0.0, "explained_variance_ratio": 0.0,
             "mean_rel": 0.0, "var_rel": 0.0, "converged_mismatches": 0, "sign_mismatches": 0}
    for (f, X32), st in zip(inputs, states):
        X = X32.to(torch.float64)
        m = X.shape[0]
        N = n + m
        bmean = X.mean(dim=0)
        centred = X - bmean
        unnorm = (centred ** 2).sum(dim=0)
        if n == 0:
            new_mean, new_var = bmean, unnorm / N
            M = centred
        else:
            new_mean = (mean * n + X.sum(dim=0)) / N
            new_var = (var * n + unnorm + (n * m / N) * (mean - bmean) ** 2) / N
            M = torch.cat([sv[:, None] * comps, centred, math.sqrt(n * m / N) * (mean - bmean)[None, :]])
        _, S, Vt = torch.linalg.svd(M, full_matrices=False)
        pick = Vt.abs().argmax(dim=1)
        signs = torch.sign(Vt[torch.arange(Vt.shape[0]), pick])
        Vt = Vt * signs[:, None]
        new_comps, new_sv = Vt[:k], S[:k]
        evr = new_sv ** 2 / (new_var * N).sum()
        if comps is not None:
            cos = torch.nn.functional.cosine_similarity(new_comps, comps)
            conv = (cos >= tau).to(torch.uint8)
            worst["converged_mismatches"] += int((conv != st["converged"]).sum())
        dots = (new_comps * st["components"]).sum(dim=1)
        worst["sign_mismatches"] += int((dots < 0).sum())
        per_index = (new_comps - st["components"]).abs().max(dim=1).values.tolist()
        worst["components_by_index"] = [max(a, b) for a, b in zip(worst["components_by_index"], per_index)]
        sv_rel = (new_sv - st["singular_values"]).abs() / st["singular_values"]
        worst["singular_values_rel"] = max(worst["singular_values_rel"], float(sv_rel.max()))
        worst["explained_variance_ratio"] = max(worst["explained_variance_ratio"],
                                                float((evr - st["explained_variance_ratio"]).abs().max()))
        mean_rel = (new_mean - st["mean"]).abs() / st["mean"].abs().clamp_min(1e-30)
        worst["mean_rel"] = max(worst["mean_rel"], float(mean_rel.max()))
        worst["var_rel"] = max(worst["var_rel"], float(((new_var - st["var"]).abs() / st["var"]).max()))
        mean, var, comps, sv, n = new_mean, new_var, new_comps, new_sv, N
    return worst


def capture_layer_inputs(model, batches, modules):
    """Full input of every target Linear for every batch, through plain forward hooks on the bare model."""
    captured = {}
    handles = []
    current = {}

    def make_hook(name):
        def hook(module, inputs, output):
            captured[(current["b"], name)] = inputs[0].detach().clone()
        return hook

    for name in modules:
        handles.append(model.get_submodule(name).register_forward_hook(make_hook(name)))
    try:
        with torch.no_grad():
            for b, batch in enumerate(batches):
                current["b"] = b
                model(**batch)
    finally:
        for h in handles:
            h.remove()
    return captured


# ------------------------------------------------------------------------------------------ the run

class Context:
    def __init__(self, args):
        import peft
        import peft.tuners.lora.eva as eva_mod
        import safetensors
        import transformers
        from safetensors.torch import load_file, save_file

        self.args = args
        self.peft = peft
        self.eva_mod = eva_mod
        self.load_file = load_file
        self.save_file = save_file
        self.versions = {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "peft": peft.__version__,
            "safetensors": getattr(safetensors, "__version__", "?"),
            "machine": platform.machine(),
        }
        self.base = self.load_model()
        self.vocab = self.base.config.vocab_size
        self.modules = [strip(n) for n, m in self.base.named_modules()
                        if isinstance(m, torch.nn.Linear) and n.rsplit(".", 1)[-1] in TARGETS]
        self.in_features = {m: self.base.get_submodule(m).in_features for m in self.modules}
        self.out_features = {m: self.base.get_submodule(m).out_features for m in self.modules}
        self.stacked, self.batches = make_batches(self.vocab)
        self.inputs = capture_layer_inputs(self.base, self.batches, self.modules)
        self.results = {}

    def load_model(self):
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained(self.args.model, dtype=torch.float32,
                                                     attn_implementation="eager")
        return model.eval()

    def lora_config(self, r, alpha, ekw):
        from peft import EvaConfig, LoraConfig
        return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0, target_modules=list(TARGETS),
                          init_lora_weights="eva", eva_config=EvaConfig(**ekw), task_type="CAUSAL_LM")

    def compute_state_dict(self, model, exact, rec, peft_config=None):
        with instrumented(self.eva_mod, exact, rec):
            sd = self.peft.get_eva_state_dict(model, self.batches, peft_config=peft_config,
                                              forward_fn=rec.forward_fn,
                                              prepare_model_inputs_fn=fixed_prepare_model_inputs,
                                              show_progress_bar=False)
        dtypes = {strip(k): str(v.dtype).replace("torch.", "") for k, v in sd.items()}
        # clone() copies the final contents and breaks the aliasing between group members
        return {strip(k): v.detach().cpu().clone() for k, v in sd.items()}, dtypes


def check(checks, name, ok, detail=None):
    if ok is True and detail is None:
        checks[name] = True
    else:
        checks[name] = {"ok": bool(ok), "detail": detail if detail is not None else ""}


def architecture_duplicates(modules):
    """{duplicate: hook layer} as the Llama block shares inputs: k, v read q's input; up reads gate's."""
    dups = {}
    for m in modules:
        blk, leaf = m.rsplit(".", 1)
        if leaf in ("k_proj", "v_proj"):
            dups[m] = blk + ".q_proj"
        if leaf == "up_proj":
            dups[m] = blk + ".gate_proj"
    return dups


class Case:
    """One scenario in one SVD mode: PEFT's results, what the script derived, and the checks."""

    def __init__(self, ctx, scenario, mode):
        self.ctx, self.scenario, self.mode = ctx, scenario, mode
        self.tag = f"{scenario}-{mode}"
        self.r, self.alpha, self.ekw = SCENARIOS[scenario]
        self.exact = mode == "exact"
        self.trace = (scenario, mode) == TRACE_CASE
        self.ec = dict(rho=2.0, tau=0.99, use_label_mask=True, label_mask_value=IGNORE, whiten=False,
                       adjust_scaling_factors=True)
        self.ec.update(self.ekw)
        self.modules = ctx.modules
        self.checks, self.notes, self.tensors = {}, [], {}
        self.rec = Recorder(ctx.batches, self.trace)
        self.expected_dups = architecture_duplicates(self.modules)

    def check(self, name, ok, detail=None):
        check(self.checks, name, ok, detail)

    def compute(self):
        """get_eva_state_dict on a fresh PeftModel, then initialize_lora_eva_weights with the result."""
        ctx, t0 = self.ctx, time.time()
        torch.manual_seed(0)
        self.pm = ctx.peft.get_peft_model(ctx.load_model(), ctx.lora_config(self.r, self.alpha, self.ekw))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.sd, self.sd_dtypes = ctx.compute_state_dict(self.pm, self.exact, self.rec)
            self.seconds = time.time() - t0
            # initialize_lora_eva_weights pops from the dict it is given: hand it prefixed clones
            ctx.peft.initialize_lora_eva_weights(
                self.pm, eva_state_dict={PREFIX + k: v.clone() for k, v in self.sd.items()})
        for w in caught:
            msg = f"{w.category.__name__}: {str(w.message)[:300]}"
            if msg not in self.notes:
                self.notes.append(msg)
        self.final = {m: int(self.sd[m].shape[0]) for m in self.modules if m in self.sd}
        self.fw = self.rec.forwards
        if self.fw and self.final:
            self.fw[-1]["rank_dist"] = dict(self.final)
        self.check("state_dict_keys", set(self.sd) == set(self.modules),
                   None if set(self.sd) == set(self.modules) else f"keys {sorted(self.sd)}")

    def resolve_loop_state(self):
        """PEFT's groups, hook order, max_components and budget as read from its frame (or a fallback)."""
        loop = self.rec.loop
        if loop is None:
            hooks = [m for m in self.modules if m not in self.expected_dups]
            loop = {"equal_inputs_map": dict(self.expected_dups), "hook_layers": hooks,
                    "layer_hook_map_order": hooks + list(self.expected_dups),
                    "max_components": {m: max_components_for(self.r, self.ec["rho"]) for m in self.modules},
                    "rank_budget": self.r * len(self.modules)}
            self.notes.append("PEFT's loop variables could not be read from its frame: equal_inputs_map, hook "
                              "order, max_components and rank_budget are the architecture's, not PEFT's; "
                              "per-forward rank_dist and active sets are missing")
            self.check("peft_loop_state_read", False, "fallback used")
        self.dup_map = loop.get("equal_inputs_map", {})
        self.hook_layers = loop.get("hook_layers", [])
        self.order = loop.get("layer_hook_map_order", [])
        self.max_comp = loop.get("max_components", {})
        self.budget = loop.get("rank_budget")
        self.groups = groups_of(self.dup_map, self.hook_layers)

    def check_groups_and_budget(self):
        ctx, dups = self.ctx, self.expected_dups
        self.check("equal_input_groups_match_architecture", self.dup_map == dups,
                   None if self.dup_map == dups else f"peft {self.dup_map}")
        same = all(torch.equal(ctx.inputs[(b, d)], ctx.inputs[(b, h)]) for d, h in dups.items()
                   for b in range(N_BATCHES))
        self.check("group_inputs_bitwise_equal", same)
        want_max = max_components_for(self.r, self.ec["rho"])
        self.want_budget = self.r * len(self.modules)
        self.check("rank_budget", self.budget == self.want_budget,
                   None if self.budget == self.want_budget else f"peft {self.budget}")
        max_ok = all(v == want_max for v in self.max_comp.values())
        self.check("max_components", max_ok and len(self.max_comp) == len(self.modules),
                   None if max_ok else f"peft {self.max_comp}, want {want_max}")
        total = sum(self.final.values())
        self.check("budget_conserved", total == self.want_budget,
                   None if total == self.want_budget else f"sum {total}")
        self.check("ranks_within_bounds", all(0 <= v <= want_max for v in self.final.values()))
        if self.ec["rho"] == 1.0:
            self.check("rho1_all_r", all(v == self.r for v in self.final.values()))

    def check_schedule(self):
        """Batch order, active == fitted, and PEFT's rank_dist after every forward vs a stable replay."""
        fw = self.fw
        self.check("batch_order", fw[0]["batch"] == 0
                   and all(e["batch"] == (e["forward"] - 1) % N_BATCHES for e in fw[1:]))
        self.check("active_equals_fitted", all(e["active"] is not None and sorted(e["active"]) == sorted(e["fitted"])
                                               for e in fw[1:]))
        fits_by_forward = {}
        for layer, fits in self.rec.fits.items():
            for st in fits:
                fits_by_forward.setdefault(st["forward"], []).append((layer, st["evr"]))
        latest, bad, ties = {}, [], []
        for e in fw[1:]:
            for layer, evr in fits_by_forward.get(e["forward"], []):
                latest[layer] = evr
            if len(latest) < len(self.hook_layers) or e["rank_dist"] is None:
                continue
            got = replay_rank_distribution(self.order, self.dup_map, latest, self.max_comp, self.want_budget)
            e["rank_dist"] = {m: e["rank_dist"][m] for m in self.modules}
            e["rank_dist_stable_sort"] = {m: got[m] for m in self.modules}
            res = compare_rank_dicts(e["rank_dist"], got, self.groups)
            if res is not True:
                (ties if res.startswith("TIE") else bad).append(f"forward {e['forward']}: {res}")
        if bad:
            self.check("redistribution_replay", False, "; ".join(bad))
        else:
            self.check("redistribution_replay", True, "; ".join(ties) if ties else None)

    def check_state_dict(self):
        """A: orthonormal rows, svd_flip signs, prefixes within groups, float64; collect the A tensors."""
        sd, final = self.sd, self.final
        if not self.ec["whiten"]:
            errs = [ortho_error(A) for A in sd.values() if A.shape[0] > 0]
            worst = max(errs) if errs else 0.0
            self.check("A_rows_orthonormal", worst <= ORTHO_TOL, f"max |AA^T - I| = {worst:.3e}")
        self.check("A_largest_entry_positive", all(svd_flip_sign_ok(A) for A in sd.values()))
        bad = []
        for g in self.groups:
            h = g[0]
            for d in g[1:]:
                rd, rh = final[d], final[h]
                if not (rh >= rd and rh - rd <= 1 and torch.equal(sd[d], sd[h][:rd])):
                    bad.append(f"{d} ({rd}) vs {h} ({rh})")
        self.check("group_prefix_hook_max_diff_le_1", not bad, "; ".join(bad) if bad else None)
        all_f64 = all(v == "float64" for v in self.sd_dtypes.values())
        self.check("A_dtype_float64", all_f64, None if all_f64 else f"{self.sd_dtypes}")
        for m in self.modules:
            if m in sd and sd[m].shape[0] > 0:
                self.tensors["A." + m] = sd[m].contiguous()

    def whiten_outputs(self):
        """The intended per-layer whitening, and PEFT's result rebuilt from it by the aliasing rule."""
        rec, final = self.rec, self.final
        ortho_w = 0.0
        for m in self.modules:
            h, k = self.dup_map.get(m, m), final[m]
            sv = rec.last_singular_values[h][:k].sqrt().reshape(-1, 1)
            intended = rec.last_components[h][:k] / sv
            if k > 0:
                self.tensors["A_whiten_once." + m] = intended.contiguous()
                ortho_w = max(ortho_w, ortho_error(intended * sv))
        detail = []
        for h in self.hook_layers:
            members = [x for x in self.order if self.dup_map.get(x, x) == h]  # PEFT's order over rank_dist
            store = rec.last_components[h].clone()
            sv = rec.last_singular_values[h]
            for x in members:
                store[: final[x]] /= sv[: final[x]].sqrt().reshape(-1, 1)
            for x in members:
                want = store[: final[x]]
                if not torch.equal(self.sd[x], want):
                    diff = float((self.sd[x] - want).abs().max()) if self.sd[x].shape == want.shape else "shape"
                    detail.append(f"{x}: max diff {diff}")
        self.check("whiten_aliasing", not detail,
                   "PEFT A = components divided in place once per group member whose rank exceeds the row index"
                   + ("; " + "; ".join(detail) if detail else ""))
        self.check("A_whiten_once_rows_orthonormal_after_unscaling", ortho_w <= ORTHO_TOL, f"{ortho_w:.3e}")

    def adapter_outputs(self, out):
        """save_pretrained: copy adapter_config.json verbatim, list the tensors, check them and the logits."""
        ctx, pm = self.ctx, self.pm
        with tempfile.TemporaryDirectory() as tmp:
            pm.eval()
            b0 = ctx.batches[0]
            with torch.no_grad():
                self.check("peft_logits_equal_base", torch.equal(pm(**b0).logits, ctx.base(**b0).logits))
            pm.save_pretrained(tmp)
            cfg_name = f"{self.tag}.adapter_config.json"
            shutil.copyfile(os.path.join(tmp, "adapter_config.json"), os.path.join(out, cfg_name))
            with open(os.path.join(tmp, "adapter_config.json")) as fh:
                cfg = json.load(fh)
            weights = ctx.load_file(os.path.join(tmp, "adapter_model.safetensors"))
        self.adapter = {"config_file": cfg_name, "config": cfg,
                        "tensors": {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)}
                                    for k, v in sorted(weights.items())}}
        self.check_adapter_tensors(weights)
        self.check_adapter_config(cfg)

    def check_adapter_tensors(self, weights):
        want = {}
        for m in self.modules:
            k = self.final.get(m, 0)
            if k > 0:
                want[f"{PREFIX}{m}.lora_A.weight"] = [k, self.ctx.in_features[m]]
                want[f"{PREFIX}{m}.lora_B.weight"] = [self.ctx.out_features[m], k]
        got = {k: v["shape"] for k, v in self.adapter["tensors"].items()}
        self.check("adapter_tensor_names_shapes", got == want, None if got == want else f"got {got}")
        a_ok = all(torch.equal(weights[f"{PREFIX}{m}.lora_A.weight"], self.sd[m].to(torch.float32))
                   for m in self.modules if f"{PREFIX}{m}.lora_A.weight" in weights)
        b_ok = all(not bool(weights[n].any()) for n in weights if n.endswith("lora_B.weight"))
        f32 = all(v.dtype == torch.float32 for v in weights.values())
        self.check("adapter_lora_A_is_A_f32_lora_B_zero", a_ok and b_ok and f32)

    def check_adapter_config(self, cfg):
        r, alpha, final = self.r, self.alpha, self.final
        want_rank = {m: k for m, k in final.items() if k not in (0, r)}
        want_alpha = {m: alpha * (k / r) for m, k in want_rank.items()} if self.ec["adjust_scaling_factors"] else {}
        ok = (cfg.get("r") == r and cfg.get("lora_alpha") == alpha and cfg.get("init_lora_weights") == "eva"
              and cfg.get("rank_pattern") == want_rank and cfg.get("alpha_pattern") == want_alpha
              and sorted(cfg.get("target_modules") or []) == sorted(m for m, k in final.items() if k > 0))
        self.check("adapter_config_patterns", ok, None if ok else
                   f"rank_pattern {cfg.get('rank_pattern')} alpha_pattern {cfg.get('alpha_pattern')} "
                   f"target_modules {cfg.get('target_modules')}")
        if self.ec["adjust_scaling_factors"] and ok:
            scales = [cfg["alpha_pattern"].get(m, alpha) / k for m, k in final.items() if k > 0]
            self.check("scaling_constant_alpha_over_r", all(abs(s - alpha / r) <= 1e-12 for s in scales))

    def check_row_selection(self):
        """PEFT's stock prepare function selects the script's rows; every step saw its batch's row count."""
        ctx, cfg = self.ctx, self.pm.peft_config["default"]
        stock_ok = all(torch.equal(ctx.eva_mod.prepare_model_inputs_fn_language_modeling(b, cfg),
                                   fixed_prepare_model_inputs(b, cfg)) for b in ctx.batches)
        self.check("stock_prepare_model_inputs_matches_fixed_mask", stock_ok, None if stock_ok else
                   "this PEFT's prepare_model_inputs_fn_language_modeling differs (label-mask guard)")
        self.rows_per_batch = [int(token_mask(b, self.ec["use_label_mask"]).sum()) for b in ctx.batches]
        self.check("rows_per_batch", all(st["rows"] == self.rows_per_batch[self.fw[st["forward"]]["batch"]]
                                         for fits in self.rec.fits.values() for st in fits))

    def layer_summaries(self):
        layers = {}
        for h in self.hook_layers:
            fits = self.rec.fits.get(h, [])
            last = fits[-1] if fits else None
            layers[h] = {
                "fitted_steps": len(fits),
                "fitted_forwards": [st["forward"] for st in fits],
                "n_samples_seen": last["n_samples_seen"] if last else 0,
                "explained_variance_ratio": last["evr"].tolist() if last else [],
                "singular_values": last["sv"].tolist() if last else [],
                "converged": [bool(x) for x in last["converged"].tolist()] if last else [],
                "native_dtypes_last_step": last["native"] if last else {},
            }
        return layers

    def trace_outputs(self):
        """X once per (batch, layer), checked against the independent capture; the float64 IPCA replay."""
        ctx, rec, fw = self.ctx, self.rec, self.fw
        masks = [token_mask(b, self.ec["use_label_mask"]) for b in ctx.batches]
        max_dev, step_X, repeat_ok = 0.0, {}, True
        for layer, items in rec.trace_inputs.items():
            for f, X in items:
                b = fw[f]["batch"]
                want = ctx.inputs[(b, layer)][masks[b]].to(torch.float32)
                max_dev = float("inf") if want.shape != X.shape else max(max_dev, float((want - X).abs().max()))
                # X repeats bitwise whenever its batch comes round again
                if (b, layer) in step_X:
                    repeat_ok = repeat_ok and torch.equal(step_X[(b, layer)], X)
                else:
                    step_X[(b, layer)] = X
        self.check("trace_X_equals_independently_captured_layer_inputs", max_dev == 0.0,
                   None if max_dev == 0.0 else f"max |diff| {max_dev}")
        self.check("trace_X_repeats_bitwise_per_batch", repeat_ok)
        # stored once per (batch, layer) from what PEFT fed; batches a layer never fitted from the capture
        for layer in self.hook_layers:
            for b in range(N_BATCHES):
                X = step_X.get((b, layer))
                if X is None:
                    X = ctx.inputs[(b, layer)][masks[b]].to(torch.float32)
                rec.trace_tensors[f"X.{b}.{layer}"] = X.contiguous()
        replay = [independent_ipca_replay(rec.trace_inputs[layer], rec.trace_states[layer],
                                          self.max_comp[layer], self.ec["tau"]) for layer in rec.trace_inputs]
        worst = {k: max(v[k] for v in replay) for k in replay[0] if k != "components_by_index"}
        worst["components_by_index"] = [max(v["components_by_index"][i] for v in replay)
                                        for i in range(len(replay[0]["components_by_index"]))]
        self.check("independent_ipca_replay",
                   worst["sign_mismatches"] == 0 and worst["converged_mismatches"] == 0, json.dumps(worst))

    def document(self):
        ctx, fw = self.ctx, self.fw
        doc = {
            "scenario": self.scenario,
            "mode": self.mode,
            "svd": ("torch.linalg.svd(X, full_matrices=False) (IncrementalPCA forced to lowrank=False)"
                    if self.exact else
                    "torch.svd_lowrank(X, q=2k, niter=4), seed 42 inside a forked RNG (PEFT's default)"),
            "lora": {"r": self.r, "lora_alpha": self.alpha, "target_modules": list(TARGETS), "lora_dropout": 0.0,
                     "task_type": "CAUSAL_LM"},
            "eva_config": self.ec,
            "versions": ctx.versions,
            "model": ctx.args.model,
            "batches": "batches.safetensors",
            "modules": self.modules,
            "in_features": ctx.in_features,
            "equal_input_groups": self.groups,
            "equal_inputs_map": self.dup_map,
            "hook_layers": self.hook_layers,
            "layer_hook_map_order": self.order,
            "max_components": self.max_comp,
            "rank_budget": self.budget,
            "rows_per_batch": self.rows_per_batch,
            "forward_passes": {"total": len(fw), "svd": len(fw) - 1, "hash_pass": {"forward": 0, "batch": 0},
                               "cap": FORWARD_CAP},
            "forwards": fw,
            "layers": self.layer_summaries(),
            "final_ranks": self.final,
            "final_ranks_stable_sort": fw[-1].get("rank_dist_stable_sort") if fw else None,
            "A": {m: {"shape": list(self.sd[m].shape), "dtype": self.sd_dtypes[m]} for m in self.modules
                  if m in self.sd},
            "adapter": self.adapter,
            "checks": self.checks,
            "notes": self.notes,
            "seconds": round(self.seconds, 2),
        }
        if self.trace:
            doc["trace"] = self.rec.trace_index
        return doc


def run_case(ctx, scenario, mode, out):
    case = Case(ctx, scenario, mode)
    case.compute()
    case.resolve_loop_state()
    case.check_groups_and_budget()
    case.check_schedule()
    case.check_state_dict()
    if case.ec["whiten"]:
        case.whiten_outputs()
    case.adapter_outputs(out)
    case.check_row_selection()
    if case.trace:
        case.trace_outputs()
    doc = case.document()
    meta = {"scenario": scenario, "mode": mode, "generator": "scripts/make_eva_reference.py",
            **{k: str(v) for k, v in ctx.versions.items()}}
    ctx.save_file(case.tensors, os.path.join(out, f"{case.tag}.safetensors"), metadata=meta)
    if case.trace:
        ctx.save_file(case.rec.trace_tensors, os.path.join(out, f"{case.tag}-trace.safetensors"), metadata=meta)
    ctx.results[case.tag] = {"doc": doc, "sd": case.sd}
    return doc


def bare_model_crosscheck(ctx, mode):
    """default on the bare model (no PeftModel): A and forward count must equal the PeftModel run."""
    r, alpha, ekw = SCENARIOS["default"]
    torch.manual_seed(0)
    model = ctx.load_model()
    rec = Recorder(ctx.batches, False)
    sd, _ = ctx.compute_state_dict(model, mode == "exact", rec, peft_config=ctx.lora_config(r, alpha, ekw))
    ref = ctx.results[f"default-{mode}"]
    same = set(sd) == set(ref["sd"]) and all(torch.equal(sd[k], ref["sd"][k]) for k in sd)
    nfw = len(rec.forwards) == ref["doc"]["forward_passes"]["total"]
    want = ref["doc"]["forward_passes"]["total"]
    return same and nfw, f"A bit-identical: {same}, forwards {len(rec.forwards)} vs {want}"


def write_json(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    os.replace(tmp, path)


def main():
    global LOG_FILE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output directory (testdata/eva)")
    ap.add_argument("--model", default="testdata/models/llama")
    ap.add_argument("--only", action="append", default=[], help="run only SCENARIO-MODE (repeatable)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    LOG_FILE = open(os.path.join(args.out, "make_eva_reference.log"), "w")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True, warn_only=True)

    ctx = Context(args)
    log(f"versions: {json.dumps(ctx.versions)}")
    log(f"modules: {ctx.modules}")
    ctx.save_file(ctx.stacked, os.path.join(args.out, "batches.safetensors"),
                  metadata={"generator": "scripts/make_eva_reference.py", "seed": str(DATA_SEED)})
    rows = [int(token_mask(b, True).sum()) for b in ctx.batches]
    log(f"label-masked rows per batch: {rows}")

    failed = []
    cases = [(s, m) for s in SCENARIOS for m in MODES]
    if args.only:
        cases = [c for c in cases if f"{c[0]}-{c[1]}" in args.only]
    for scenario, mode in cases:
        tag = f"{scenario}-{mode}"
        try:
            doc = run_case(ctx, scenario, mode, args.out)
        except Exception:
            failed.append(tag)
            log(f"{tag}: ERROR\n{traceback.format_exc()}")
            continue
        bad = [k for k, v in doc["checks"].items() if v is not True and not (isinstance(v, dict) and v["ok"])]
        if bad:
            failed.append(tag)
        ranks = " ".join(str(doc["final_ranks"][m]) for m in ctx.modules)
        steps = " ".join(str(v["fitted_steps"]) for v in doc["layers"].values())
        log(f"{tag}: forwards {doc['forward_passes']['total']} ranks [{ranks}] steps [{steps}] "
            f"{doc['seconds']}s failed checks: {bad or 'none'}")
        for k, v in doc["checks"].items():
            if v is not True:
                log(f"  {k}: {v}")

    # cross-run comparisons, stored in the randomized / derived documents
    for scenario in SCENARIOS:
        ex, rn = ctx.results.get(f"{scenario}-exact"), ctx.results.get(f"{scenario}-randomized")
        if ex and rn:
            cos = []
            for m, A in ex["sd"].items():
                B = rn["sd"].get(m)
                k = min(A.shape[0], B.shape[0]) if B is not None else 0
                if k:
                    an = A[:k] / A[:k].norm(dim=1, keepdim=True)
                    bn = B[:k] / B[:k].norm(dim=1, keepdim=True)
                    cos.append(float((an * bn).sum(dim=1).abs().min()))
            cmp = {"final_ranks_equal": ex["doc"]["final_ranks"] == rn["doc"]["final_ranks"],
                   "forwards_exact": ex["doc"]["forward_passes"]["total"],
                   "forwards_randomized": rn["doc"]["forward_passes"]["total"],
                   "min_abs_row_cosine": min(cos) if cos else None}
            rn["doc"]["compare_with_exact"] = cmp
            log(f"{scenario}: exact vs randomized {cmp}")
    for mode in MODES:
        d, dep = ctx.results.get(f"default-{mode}"), {}
        if not d:
            continue
        for scen, what in (("whiten", "final_ranks"), ("noadjust", "A")):
            o = ctx.results.get(f"{scen}-{mode}")
            if not o:
                continue
            if what == "A":
                ok = set(o["sd"]) == set(d["sd"]) and all(torch.equal(o["sd"][k], d["sd"][k]) for k in o["sd"])
            else:
                ok = o["doc"]["final_ranks"] == d["doc"]["final_ranks"]
            check(o["doc"]["checks"], f"{what}_equal_default_{mode}", ok)
            if not ok:
                failed.append(f"{scen}-{mode}")
            log(f"{scen}-{mode}: {what} equal to default-{mode}: {ok}")
        try:
            ok, detail = bare_model_crosscheck(ctx, mode)
        except Exception:
            ok, detail = False, traceback.format_exc()
        check(d["doc"]["checks"], "bare_model_same_result", ok, detail)
        if not ok:
            failed.append(f"default-{mode} (bare model)")
        log(f"default-{mode} on the bare model: {detail}")

    for tag, res in ctx.results.items():
        write_json(os.path.join(args.out, f"{tag}.json"), res["doc"])
    total = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    log(f"wrote {len(os.listdir(args.out))} files, {total / 1e6:.2f} MB")
    log(f"FAILED: {sorted(set(failed))}" if failed else "all checks passed")
    LOG_FILE.close()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
