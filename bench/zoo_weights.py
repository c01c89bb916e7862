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

# Both frameworks' sides run in one process each for every architecture (imports paid once);
# each writes a JSON line per architecture as soon as it is done, so a crash costs one model.
TORCH = """
import sys, json, traceback, numpy as np, torch
from paddleport.kernel.example_worker import import_torchvision
import_torchvision()  # the only torchvision wheel here has ops that do not load next to CPU torch
import timm
tmp, log = sys.argv[1], open(sys.argv[2], "a")
for name in sys.argv[3:]:
    try:
        torch.manual_seed(0)
        m = timm.create_model(name, pretrained=False).eval()
        size = tuple((getattr(m, "pretrained_cfg", None) or {}).get("input_size", (3, 224, 224)))
        x = np.random.default_rng(0).standard_normal((1, *size)).astype("float32")
        with torch.no_grad():
            y = m(torch.from_numpy(x)).numpy()
        torch.save(m.state_dict(), f"{tmp}/{name}.pt")
        np.savez(f"{tmp}/{name}.npz", x=x, y=y)
        row = {"model": name}
    except Exception as exc:
        row = {"model": name, "error": f"{type(exc).__name__}: {exc}"[:300]}
    log.write(json.dumps(row) + "\\n")
    log.flush()
"""

PADDLE = """
import sys, json, numpy as np
from paddleport.kernel.example_worker import block_torch, quiet_paddle
quiet_paddle(); block_torch()
import paddle, timm
tmp, log = sys.argv[1], open(sys.argv[2], "a")
for name in sys.argv[3:]:
    try:
        m = timm.create_model(name, pretrained=False)
        missing, unexpected = m.set_state_dict(paddle.load(f"{tmp}/{name}.pdparams"))
        m.eval()
        data = np.load(f"{tmp}/{name}.npz")
        with paddle.no_grad():
            y = m(paddle.to_tensor(data["x"])).numpy()
        err = float(np.max(np.abs(y - data["y"]))) if y.shape == data["y"].shape else None
        ok = err is not None and bool(np.allclose(y, data["y"], rtol=1e-4, atol=1e-4))
        row = {"model": name, "missing": list(missing), "unexpected": list(unexpected), "max_abs_err": err,
               "output_scale": float(np.max(np.abs(data["y"]))), "match": ok}
    except Exception as exc:
        row = {"model": name, "error": f"{type(exc).__name__}: {exc}"[:300]}
    log.write(json.dumps(row) + "\\n")
    log.flush()
"""


def _batch(script: str, names: list[str], tmp: Path, side: str,
           env: dict[str, str]) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Run ``script`` over ``names`` until each has a row; a model whose process dies gets that as its row."""
    log = tmp / f"{side}.jsonl"
    rows: dict[str, dict[str, Any]] = {}
    while todo := [n for n in names if n not in rows]:
        proc = subprocess.run([sys.executable, "-c", script, str(tmp), str(log), *todo],
                              capture_output=True, text=True, env=env, timeout=3600)  # fmt: skip
        if log.exists():
            lines = log.read_text(encoding="utf-8").splitlines()
            rows.update((r["model"], r) for r in map(json.loads, lines))
        after = [n for n in todo if n not in rows]
        if after:  # the process died on this one
            rows[after[0]] = {"model": after[0], "error": f"the {side} process died: {_last(proc.stderr)}"}
    return rows


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


def _weights(name: str, tmp: Path, converted: Path) -> dict[str, Any]:
    """``paddleport weights`` on the torch checkpoint, against the converted model, as a user runs it."""
    command = [sys.executable, "-m", "paddleport", "weights", str(tmp / f"{name}.pt"), "-o",
               str(tmp / f"{name}.pdparams"), "--force", "--json",
               "--model", f"timm.create_model({name!r}, pretrained=False)"]  # fmt: skip
    env = python_env(converted.parent)
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode:
        return {"stage": "weights", "error": _last(proc.stderr)}
    report = json.loads(proc.stdout)
    return {"tensors": report["tensors"], "renamed": len(report["renamed"]),
            "reshaped": len(report["reshaped"]), "dropped": len(report["dropped"]),
            "weights_s": report["seconds"]}  # fmt: skip


def run(names: list[str], converted: Path = ROOT / "build" / "zoo" / "timm") -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {n: {"model": n} for n in names}
    with tempfile.TemporaryDirectory(prefix="paddleport-zoo-weights-") as tmp_name:
        tmp = Path(tmp_name)
        torch_env = python_env(pip_download("timm==1.0.31"))
        for name, row in _batch(TORCH, names, tmp, "torch", torch_env).items():
            if row.get("error"):
                rows[name].update(stage="torch", error=row["error"])
        for name in [n for n in names if "stage" not in rows[n]]:
            rows[name].update(_weights(name, tmp, converted))
        ready = [n for n in names if "stage" not in rows[n]]
        for name, row in _batch(PADDLE, ready, tmp, "paddle", python_env(converted.parent)).items():
            if row.get("error"):
                rows[name].update(stage="paddle", error=row["error"])
                continue
            rows[name].update(row)
            if not row["match"]:
                layer = _first_diverging_layer(name, tmp, converted)
                error = f"max abs error {row['max_abs_err']:.3g} (largest output {row['output_scale']:.3g})"
                rows[name].update(stage="compare", error=error,
                                  first_diverging_layer=layer)  # fmt: skip
    for row in rows.values():
        status = "match" if row.get("match") else f"[{row.get('stage')}] {row.get('error', '')}"
        if row.get("first_diverging_layer"):
            status += f"; first diverging layer: {row['first_diverging_layer']}"
        print(f"  {row['model']}: {status}", flush=True)
    matched = sum(bool(r.get("match")) for r in rows.values())
    share = matched / len(rows) if rows else 0.0
    print(f"{len(rows)} architectures: weights converted and outputs match {matched} = {share:.0%}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "zoo_weights.json").write_text(json.dumps(list(rows.values()), indent=1), encoding="utf-8")
    return list(rows.values())


if __name__ == "__main__":
    from zoo_bench import MODELS

    run(sys.argv[1:] or list(MODELS))
