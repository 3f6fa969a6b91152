"""Writes config.json files with transformers and the normalised values they must load to.

Usage: python3 transformers_configs.py OUTDIR

For each supported model type it builds a tiny config, saves it as OUTDIR/transformers-<type>.json,
instantiates the model to observe which projections carry biases and whether the embeddings are
tied, and writes what it observed as OUTDIR/transformers-<type>.expected.json, keyed by Config
field names. TestTransformersConfigs loads each file and compares. It also loads the hand-written
configs of this folder with AutoConfig and prints the same summary for review.
"""
import glob
import json
import os
import sys
import tempfile

import torch
import transformers
from transformers import (AutoConfig, AutoModelForCausalLM, GPT2Config, LlamaConfig, MistralConfig,
                          Qwen2Config)

out = sys.argv[1]
small = dict(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
configs = {
    "llama": LlamaConfig(**small, attention_bias=True, tie_word_embeddings=True, rope_theta=500000.0,
                         rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                       "high_freq_factor": 4.0, "original_max_position_embeddings": 128}),
    "mistral": MistralConfig(**small),
    "qwen2": Qwen2Config(**small, use_sliding_window=True, sliding_window=64, max_window_layers=1),
    "gpt2": GPT2Config(vocab_size=1000, n_embd=64, n_layer=2, n_head=4, n_positions=128),
}


def rope(c):
    params = getattr(c, "rope_parameters", None) or {}
    theta = getattr(c, "rope_theta", None) or params.get("rope_theta")
    scaling = getattr(c, "rope_scaling", None) or params
    kind = scaling.get("rope_type", scaling.get("type")) if scaling else None
    if kind in (None, "default"):
        return theta, None
    return theta, {"Type": kind, "Factor": scaling["factor"], "LowFreqFactor": scaling["low_freq_factor"],
                   "HighFreqFactor": scaling["high_freq_factor"],
                   "OriginalMaxPositions": scaling["original_max_position_embeddings"]}


def summary(c, model=None):
    if c.model_type == "gpt2":
        s = dict(HiddenSize=c.n_embd, IntermediateSize=c.n_inner or 4 * c.n_embd, NumLayers=c.n_layer,
                 NumHeads=c.n_head, NumKVHeads=c.n_head, HeadDim=c.n_embd // c.n_head, MaxPositions=c.n_positions,
                 NormEps=c.layer_norm_epsilon, RopeTheta=0, RopeScaling=None, Activation=c.activation_function)
    else:
        theta, scaling = rope(c)
        s = dict(HiddenSize=c.hidden_size, IntermediateSize=c.intermediate_size, NumLayers=c.num_hidden_layers,
                 NumHeads=c.num_attention_heads, NumKVHeads=c.num_key_value_heads,
                 HeadDim=getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads,
                 MaxPositions=c.max_position_embeddings, NormEps=c.rms_norm_eps, RopeTheta=theta,
                 RopeScaling=scaling, Activation=c.hidden_act)
    s.update(ModelType=c.model_type, VocabSize=c.vocab_size, TieWordEmbeddings=c.tie_word_embeddings)
    window = getattr(c, "sliding_window", None) if c.model_type != "qwen2" or c.use_sliding_window else None
    s["SlidingWindow"] = window or 0
    s["FirstSlidingLayer"] = c.max_window_layers if c.model_type == "qwen2" and window else 0
    layer_types = getattr(c, "layer_types", None)
    if layer_types:
        s["_layer_types"] = layer_types
    if model is not None:
        if c.model_type == "gpt2":
            block = model.transformer.h[0]
            s.update(QKVBias=block.attn.c_attn.bias is not None, OBias=block.attn.c_proj.bias is not None,
                     MLPBias=block.mlp.c_fc.bias is not None,
                     TieWordEmbeddings=model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr())
        else:
            layer = model.model.layers[0]
            s.update(QKVBias=layer.self_attn.q_proj.bias is not None, OBias=layer.self_attn.o_proj.bias is not None,
                     MLPBias=layer.mlp.gate_proj.bias is not None,
                     TieWordEmbeddings=model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr())
    return s


print("transformers", transformers.__version__, "torch", torch.__version__)
for name, config in configs.items():
    with tempfile.TemporaryDirectory() as d:
        config.save_pretrained(d)
        raw = open(os.path.join(d, "config.json")).read()
        reloaded = AutoConfig.from_pretrained(d)
    model = AutoModelForCausalLM.from_config(reloaded)
    with open(f"{out}/transformers-{name}.json", "w") as f:
        f.write(raw)
    with open(f"{out}/transformers-{name}.expected.json", "w") as f:
        json.dump(summary(reloaded, model), f, indent=1, sort_keys=True)
    print(name, json.dumps(summary(reloaded, model), sort_keys=True))

for cls in (LlamaConfig, MistralConfig, Qwen2Config, GPT2Config):
    c = cls()
    print("defaults", cls.__name__, {k: getattr(c, k, None) for k in (
        "rms_norm_eps", "rope_theta", "rope_parameters", "tie_word_embeddings", "hidden_act", "sliding_window",
        "use_sliding_window", "max_window_layers", "attention_bias", "mlp_bias", "n_inner", "layer_norm_epsilon",
        "activation_function")})

for path in sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "*.json"))):
    if os.path.basename(path).startswith("transformers-"):
        continue
    with tempfile.TemporaryDirectory() as d:
        with open(path) as src, open(os.path.join(d, "config.json"), "w") as dst:
            dst.write(src.read())
        print("hand-written", os.path.basename(path), json.dumps(summary(AutoConfig.from_pretrained(d)), sort_keys=True))
