"""Inside a fresh interpreter with torch blocked: import the converted timm, build and run models.

    python bench/zoo_worker.py OUT.jsonl NAME [NAME ...]

Appends one JSON line per architecture as soon as it is done, so a crash loses
only the model that crashed (the caller restarts the worker on the rest).
"""

from __future__ import annotations

import json
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

PER_MODEL_S = 90


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout(f"no result within {PER_MODEL_S} s")


def _where(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/timm/" in f.filename]
    if not frames:
        return ""
    f = frames[-1]
    return f"{f.filename.split('/timm/', 1)[1]}:{f.lineno}: {(f.line or '').strip()}"


def _error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def main() -> int:
    from paddleport.kernel.runner import _BlockTorch

    sys.meta_path.insert(0, _BlockTorch())
    out = Path(sys.argv[1])
    names = sys.argv[2:]
    signal.signal(signal.SIGALRM, _alarm)
    import numpy as np

    with out.open("a", encoding="utf-8") as log:
        started = time.perf_counter()
        try:
            import paddle
            import timm

            import_error = None
        except BaseException as exc:
            import_error = exc
        import_s = time.perf_counter() - started
        for name in names:
            row: dict[str, Any] = {"model": name, "import": import_error is None,
                                   "import_s": round(import_s, 2)}  # fmt: skip
            if import_error is not None:
                row.update(stage="import", error=_error(import_error), where=_where(import_error))
                log.write(json.dumps(row) + "\n")
                log.flush()
                continue
            stage = "build"
            t = time.perf_counter()
            signal.alarm(PER_MODEL_S)
            try:
                model = timm.create_model(name, pretrained=False)
                row["build"] = True
                row["params_m"] = round(sum(int(np.prod(p.shape)) for p in model.parameters()) / 1e6, 2)
                stage = "forward"
                cfg = getattr(model, "pretrained_cfg", None) or {}
                size = tuple(cfg.get("input_size", (3, 224, 224)))
                x = paddle.to_tensor(np.random.default_rng(0).standard_normal((1, *size)).astype("float32"))
                model.eval()
                with paddle.no_grad():
                    y = model(x)
                shape = list(y.shape)
                finite = bool(np.isfinite(y.numpy()).all())
                classes = int(getattr(model, "num_classes", 1000))
                # a model without a head (num_classes=0, eva02_tiny's default) returns pooled features
                expected = [1, classes or int(getattr(model, "num_features", 0))]
                row.update(forward=True, shape=shape, finite=finite, shape_ok=shape == expected)
                if not finite or shape != expected:
                    error = f"output shape {shape} (expected {expected}), finite={finite}"
                    row.update(stage="check", error=error)
            except BaseException as exc:
                row.update(stage=stage, error=_error(exc), where=_where(exc))
            finally:
                signal.alarm(0)
            row["seconds"] = round(time.perf_counter() - t, 2)
            log.write(json.dumps(row) + "\n")
            log.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
