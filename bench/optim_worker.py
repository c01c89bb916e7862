"""One side of the optimizer benchmark, in a fresh interpreter: train a small model a few steps.

    python bench/optim_worker.py torch|paddle WORKDIR NAME [NAME ...]
    python bench/optim_worker.py list

Reads WORKDIR/init.npz (initial weights in torch's layout, the data x and y), builds
Linear(8, 16) → LayerNorm(16) → Linear(16, 4) with those weights, and for each timm optimizer
name runs ``timm.optim.create_optimizer_v2(model, opt=NAME, lr=LR, weight_decay=WD)`` and STEPS
steps of zero_grad / MSE loss / backward / step. The torch side imports timm itself; the paddle
side imports the converted timm with torch blocked. Each optimizer appends one JSON line to
WORKDIR/<side>.jsonl and its final parameters, in torch's layout, to WORKDIR/<side>/<name>.npz,
so a crash loses only the optimizer that crashed.
"""

from __future__ import annotations

import json
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

LR = 1e-2
WD = 1e-2
STEPS = 5
PER_OPTIMIZER_S = 60
# paddle.nn.Linear keeps its weight as [in, out], torch's as [out, in]
LINEARS = ("0.weight", "2.weight")


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout(f"no result within {PER_OPTIMIZER_S} s")


def _where(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/timm/" in f.filename]
    if not frames:
        return ""
    f = frames[-1]
    return f"{f.filename.split('/timm/', 1)[1]}:{f.lineno}: {(f.line or '').strip()}"[:200]


def _error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


class _Torch:
    def __init__(self) -> None:
        from paddleport.kernel.example_worker import import_torchvision

        import_torchvision()  # timm imports torchvision, whose CUDA-linked ops do not load here
        import torch

        torch.set_num_threads(1)
        self.torch = torch

    def model(self, init: dict[str, Any]) -> Any:
        nn = self.torch.nn
        m = nn.Sequential(nn.Linear(8, 16), nn.LayerNorm(16), nn.Linear(16, 4))
        m.load_state_dict({k: self.torch.tensor(init[k]) for k in m.state_dict()})
        return m

    def tensor(self, a: Any) -> Any:
        return self.torch.tensor(a)

    def backward(self, loss: Any, second_order: bool) -> None:
        loss.backward(create_graph=second_order)

    def params(self, m: Any) -> dict[str, Any]:
        return {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}


class _Paddle:
    def __init__(self) -> None:
        from paddleport.kernel.runner import _BlockTorch

        sys.meta_path.insert(0, _BlockTorch())
        import paddle

        self.paddle = paddle

    def model(self, init: dict[str, Any]) -> Any:
        nn = self.paddle.nn
        m = nn.Sequential(nn.Linear(8, 16), nn.LayerNorm(16), nn.Linear(16, 4))
        m.set_state_dict({k: self.paddle.to_tensor(init[k].T if k in LINEARS else init[k])
                          for k in m.state_dict()})  # fmt: skip
        return m

    def tensor(self, a: Any) -> Any:
        return self.paddle.to_tensor(a)

    def backward(self, loss: Any, second_order: bool) -> None:
        loss.backward()  # Paddle's backward has no create_graph: what a converted loop calls

    def params(self, m: Any) -> dict[str, Any]:
        return {k: (v.numpy().T if k in LINEARS else v.numpy()).copy() for k, v in m.state_dict().items()}


def list_names() -> int:
    """The optimizer names timm's factory registers, without those that need CUDA (apex, bitsandbytes)."""
    _Torch()
    import timm.optim

    names = timm.optim.list_optimizers(exclude_filters=["fused*", "bnb*"])
    print(json.dumps(names))
    return 0


def main() -> int:
    if sys.argv[1] == "list":
        return list_names()
    side, work, names = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
    fw = _Torch() if side == "torch" else _Paddle()
    import numpy as np

    init = dict(np.load(work / "init.npz"))
    out_dir = work / side
    out_dir.mkdir(exist_ok=True)
    signal.signal(signal.SIGALRM, _alarm)
    with (work / f"{side}.jsonl").open("a", encoding="utf-8") as log:
        started = time.perf_counter()
        try:
            import timm.optim
            from timm.optim._optim_factory import default_registry

            import_error = None
        except BaseException as exc:
            import_error = exc
        import_s = round(time.perf_counter() - started, 2)
        for name in names:
            row: dict[str, Any] = {"opt": name, "import": import_error is None, "import_s": import_s}
            if import_error is not None:
                row.update(stage="import", error=_error(import_error), where=_where(import_error))
                log.write(json.dumps(row) + "\n")
                log.flush()
                continue
            stage = "create"
            signal.alarm(PER_OPTIMIZER_S)
            losses: list[float] = []
            try:
                second_order = default_registry.get_optimizer_info(name).second_order
                model = fw.model(init)
                x, y = fw.tensor(init["x"]), fw.tensor(init["y"])
                opt = timm.optim.create_optimizer_v2(model, opt=name, lr=LR, weight_decay=WD)
                row["create"] = True
                row["class"] = f"{type(opt).__module__.rsplit('.', 1)[-1]}.{type(opt).__name__}"
                stage = "step"
                for _ in range(STEPS):
                    opt.zero_grad()
                    loss = ((model(x) - y) ** 2).mean()
                    fw.backward(loss, second_order)
                    opt.step()
                    losses.append(float(loss))
                row["steps"] = len(losses)
                np.savez(out_dir / f"{name}.npz", **fw.params(model))
            except BaseException as exc:
                row.update(stage=stage, error=_error(exc), where=_where(exc), steps=len(losses))
            finally:
                signal.alarm(0)
            row["losses"] = losses
            log.write(json.dumps(row) + "\n")
            log.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
