"""The timm zoo with weights: torch state_dict → ``paddleport weights`` → the converted model's outputs.

    python bench/zoo_weights.py [NAME ...]      (or: python bench/zoo_bench.py --weights)

Per architecture, in separate processes: timm (original) under torch builds the model with a fixed
seed, saves its state_dict and its eval output on a seeded input; ``paddleport weights --model``
converts the checkpoint against the converted timm built under Paddle; the converted timm, torch
blocked, loads the .pdparams and its eval output is compared (rtol 1e-4, atol 1e-4).
Needs build/zoo/timm from ``bench/zoo_bench.py``. Results: bench/results/zoo_weights.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import RESULTS, ROOT, pip_download, python_env

TORCH = """
import sys, numpy as np, torch
from paddleport.kernel.example_worker import import_torchvision
import_torchvision()  # the only torchvision wheel here has ops that do not load next to CPU torch
import timm
torch.manual_seed(0)
m = timm.create_model(sys.argv[1], pretrained=False).eval()
size = tuple((getattr(m, "pretrained_cfg", None) or {}).get("input_size", (3, 224, 224)))
x = np.random.default_rng(0).standard_normal((1, *size)).astype("float32")
with torch.no_grad():
    y = m(torch.from_numpy(x)).numpy()
torch.save(m.state_dict(), sys.argv[2])
np.savez(sys.argv[3], x=x, y=y)
"""

PADDLE = """
import sys, json, numpy as np
from paddleport.kernel.example_worker import block_torch, quiet_paddle
quiet_paddle(); block_torch()
import paddle, timm
m = timm.create_model(sys.argv[1], pretrained=False)
missing, unexpected = m.set_state_dict(paddle.load(sys.argv[2]))
m.eval()
data = np.load(sys.argv[3])
with paddle.no_grad():
    y = m(paddle.to_tensor(data["x"])).numpy()
err = float(np.max(np.abs(y - data["y"]))) if y.shape == data["y"].shape else None
ok = err is not None and bool(np.allclose(y, data["y"], rtol=1e-4, atol=1e-4))
print(json.dumps({"missing": list(missing), "unexpected": list(unexpected), "max_abs_err": err, "match": ok}))
"""


# On a mismatch: both sides again with every sublayer's output recorded (the equivalence
# kernel's hooks), and the first layer, in torch's call order, whose outputs differ.
TORCH_LAYERS = """
import sys, pickle, numpy as np, torch
from paddleport.kernel.example_worker import import_torchvision
from paddleport.kernel.runner import _record_layers
import_torchvision()
import timm
torch.manual_seed(0)
m = timm.create_model(sys.argv[1], pretrained=False).eval()
records = []
_record_layers(m, "torch", records)
with torch.no_grad():
    m(torch.from_numpy(np.load(sys.argv[2])["x"]))
pickle.dump(records, open(sys.argv[3], "wb"))
"""

PADDLE_LAYERS = """
import sys, json, pickle, types, numpy as np
from paddleport.kernel.example_worker import block_torch, quiet_paddle
quiet_paddle(); block_torch()
import paddle, timm
from paddleport.kernel.runner import _record_layers, first_divergent_layer
m = timm.create_model(sys.argv[1], pretrained=False)
m.set_state_dict(paddle.load(sys.argv[2]))
m.eval()
records = []
_record_layers(m, "paddle", records)
with paddle.no_grad():
    m(paddle.to_tensor(np.load(sys.argv[3])["x"]))
theirs = types.SimpleNamespace(layers=pickle.load(open(sys.argv[4], "rb")))
print(json.dumps(first_divergent_layer(theirs, types.SimpleNamespace(layers=records), 1e-4, 1e-4)))
"""


def _first_diverging_layer(name: str, tmp: Path, converted: Path) -> str:
    """``layer (torch class / paddle class): what differs``, or why it could not be found."""
    io, out, recs = tmp / f"{name}.npz", tmp / f"{name}.pdparams", tmp / f"{name}.layers.pkl"
    proc = subprocess.run([sys.executable, "-c", TORCH_LAYERS, name, str(io), str(recs)], capture_output=True,
                          text=True, env=python_env(pip_download("timm==1.0.31")), timeout=900)  # fmt: skip
    if proc.returncode:
        return f"(torch hooks failed: {_last(proc.stderr)})"
    command = [sys.executable, "-c", PADDLE_LAYERS, name, str(out), str(io), str(recs)]
    env = python_env(converted.parent)
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    recs.unlink(missing_ok=True)
    if proc.returncode:
        return f"(paddle hooks failed: {_last(proc.stderr)})"
    layer = json.loads(proc.stdout.strip().splitlines()[-1])
    if layer is None:
        return "(every sublayer matches: the difference is in the model's own forward code)"
    return f"{layer['layer']} ({layer['torch_class']} / {layer['paddle_class']}): {layer['detail']}"


def _last(stderr: str) -> str:
    return (stderr.strip().splitlines() or ["?"])[-1][:300]


def one(name: str, tmp: Path, converted: Path) -> dict[str, Any]:
    row: dict[str, Any] = {"model": name}
    ck, io, out = tmp / f"{name}.pt", tmp / f"{name}.npz", tmp / f"{name}.pdparams"
    torch_env = python_env(pip_download("timm==1.0.31"))
    proc = subprocess.run([sys.executable, "-c", TORCH, name, str(ck), str(io)],
                          capture_output=True, text=True, env=torch_env, timeout=600)  # fmt: skip
    if proc.returncode:
        return {**row, "stage": "torch", "error": _last(proc.stderr)}
    command = [sys.executable, "-m", "paddleport", "weights", str(ck), "-o", str(out), "--force", "--json",
               "--model", f"timm.create_model({name!r}, pretrained=False)"]  # fmt: skip
    env = python_env(converted.parent)
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode:
        return {**row, "stage": "weights", "error": _last(proc.stderr)}
    report = json.loads(proc.stdout)
    row.update(tensors=report["tensors"], renamed=len(report["renamed"]),
               reshaped=len(report["reshaped"]), dropped=len(report["dropped"]),
               weights_s=report["seconds"])  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", PADDLE, name, str(out), str(io)],
                          capture_output=True, text=True, env=python_env(converted.parent),
                          timeout=900)  # fmt: skip
    if proc.returncode:
        return {**row, "stage": "paddle", "error": _last(proc.stderr)}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    row.update(result)
    if not result["match"]:
        row.update(stage="compare", error=f"max abs error {result['max_abs_err']}",
                   first_diverging_layer=_first_diverging_layer(name, tmp, converted))  # fmt: skip
    return row


def run(names: list[str]) -> list[dict[str, Any]]:
    converted = ROOT / "build" / "zoo" / "timm"
    rows = []
    with tempfile.TemporaryDirectory(prefix="paddleport-zoo-weights-") as tmp:
        for name in names:
            row = one(name, Path(tmp), converted)
            rows.append(row)
            status = "match" if row.get("match") else f"[{row.get('stage')}] {row.get('error', '')}"
            if row.get("first_diverging_layer"):
                status += f"; first diverging layer: {row['first_diverging_layer']}"
            print(f"  {name}: {status}", flush=True)
    matched = sum(bool(r.get("match")) for r in rows)
    print(
        f"{len(rows)} architectures: weights converted and outputs match {matched} "
        f"= {matched / len(rows):.0%}"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "zoo_weights.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return rows


if __name__ == "__main__":
    from zoo_bench import MODELS

    run(sys.argv[1:] or list(MODELS))
