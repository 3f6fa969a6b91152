"""Cross-checks this package against the reference safetensors and torch.

Usage: python3 torch_reference.py OUTDIR [GO_WRITTEN_FILE]

Writes OUTDIR/torch_reference.safetensors: F16, BF16 and F64 tensors, each beside the float32
values torch converts them to ("<name>.as_f32"); TestTorchReference checks Float32 against them.
Given GO_WRITTEN_FILE (go_written.safetensors, which TestWriteMatchesVerifiedFile regenerates when
EVA_WRITE_GO_REFERENCE=1), loads it with the reference implementation and checks its values,
metadata and header layout.
"""
import json
import struct
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

out = sys.argv[1]
g = torch.Generator().manual_seed(0)

every_f16 = torch.arange(65536, dtype=torch.int32).to(torch.int16).view(torch.float16)
bf16 = torch.randint(-32768, 32768, (4096,), dtype=torch.int16, generator=g).view(torch.bfloat16)
scales = torch.pow(10.0, torch.randint(-60, 60, (4096,), generator=g).double())
special = torch.tensor([1e300, -1e300, 1e-300, 3.4028235677973366e38, 3.4028235e38, float("inf"),
                        float("-inf"), float("nan"), 2.0**-149, 2.0**-150, 1 + 2.0**-24, 1 + 3 * 2.0**-24,
                        -0.0, 0.1], dtype=torch.float64)
f64 = torch.cat([special, torch.randn(4096, dtype=torch.float64, generator=g) * scales])

tensors = {}
for name, t in {"f16": every_f16, "bf16": bf16, "f64": f64}.items():
    tensors[name] = t.contiguous()
    tensors[name + ".as_f32"] = t.float().contiguous()
save_file(tensors, f"{out}/torch_reference.safetensors", metadata={"generator": "torch_reference.py"})
print("wrote torch_reference.safetensors", {k: tuple(v.shape) for k, v in tensors.items()})

if len(sys.argv) > 2:
    path = sys.argv[2]
    got = load_file(path)
    want = {
        "w.f32": torch.tensor([[1, 2, 3], [4, 5, -0.5]], dtype=torch.float32),
        "w.f16": torch.tensor([0x3C00, 0x0001, 0x7C00, 0xC000], dtype=torch.int32).to(torch.int16).view(torch.float16),
        "w.bf16": torch.tensor([0x3F80, 0x4049], dtype=torch.int16).view(torch.bfloat16),
        "w.f64": torch.tensor([0.1, -2.5], dtype=torch.float64),
        "w.i64": torch.tensor([1, -2, 3], dtype=torch.int64),
        "w.u8": torch.tensor([7], dtype=torch.uint8),
        "w.empty": torch.zeros((0, 4), dtype=torch.float32),
        "w.scalar": torch.tensor(7, dtype=torch.float32),
    }
    assert set(got) == set(want), (sorted(got), sorted(want))
    for k, v in want.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape and torch.equal(got[k], v), (k, got[k], v)
    with safe_open(path, "pt") as f:
        assert f.metadata() == {"format": "pt", "note": "<written by eva>"}, f.metadata()
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = raw[8:8 + n].decode()
    keys = list(json.loads(header))
    assert n % 8 == 0 and keys == sorted(keys), (n, keys)
    print("go_written.safetensors: reference implementation reads it correctly; header", header)
