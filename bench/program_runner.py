"""Run one benchmark program under one framework, in its own interpreter.

    python bench/program_runner.py torch|paddle PROGRAM_DIR WORK_DIR

PROGRAM_DIR holds `program.py` (the driver: torch code, or its conversion) and the
package code it imports. The driver defines `build()` (a seeded model),
`example()` (inputs made from numpy), `forward(model, *inputs)` and `train(model)`
(the losses over a few steps). On the paddle side torch is blocked with the
equivalence kernel's import blocker before anything is imported, and the model gets
torch's initial weights (saved by the torch run) through the kernel's layout-fixing
copy, so the forward outputs can be compared value by value.

Writes WORK_DIR/<framework>.json: the stages reached, the first error, the losses.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pickle
import sys
import time
import traceback
from pathlib import Path
from typing import Any

STAGES = ("import", "build", "forward", "train")


def main() -> int:
    framework, program_dir, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    roots = [str(program_dir), *sys.argv[4:]]
    if framework == "paddle":
        from paddleport.kernel.runner import _BlockTorch

        sys.meta_path.insert(0, _BlockTorch())
    import numpy as np

    from paddleport.kernel.compare import compare, to_plain
    from paddleport.kernel.data import _named_state

    result: dict[str, Any] = {"framework": framework, "stages": {s: False for s in STAGES}}
    out_file = work / f"{framework}.json"
    sys.path.insert(0, str(program_dir))
    data_dir = work / f"data-{framework}"
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(data_dir)
    stage = "import"
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            import program

            result["stages"]["import"] = True
            stage = "build"
            model = program.build()
            result["stages"]["build"] = True
            stage = "forward"
            if framework == "torch":
                state = [(n, v.detach().cpu().numpy().copy()) for n, v, _ in _named_state(model, "torch")]
                with (work / "torch_state.pkl").open("wb") as f:
                    pickle.dump(state, f)
            elif (work / "torch_state.pkl").exists():
                from paddleport.kernel.runner import _copy_state

                with (work / "torch_state.pkl").open("rb") as f:
                    state = pickle.load(f)
                result["copy_notes"] = _copy_state(model, state)
            model.eval()
            out = to_plain(program.forward(model, *program.example()))
            result["stages"]["forward"] = True
            if framework == "torch":
                with (work / "torch_out.pkl").open("wb") as f:
                    pickle.dump(out, f)
            elif (work / "torch_out.pkl").exists():
                with (work / "torch_out.pkl").open("rb") as f:
                    expected = pickle.load(f)
                rtol, atol = getattr(program, "TOLERANCE", (1e-4, 1e-5))
                leaves = compare(expected, out, rtol=rtol, atol=atol)
                result["matches"] = all(leaf.ok for leaf in leaves)
                result["compare"] = [leaf.describe() for leaf in leaves[:8]]
            stage = "train"
            model.train()
            losses = [float(v) for v in program.train(model)]
            result["losses"] = losses
            result["stages"]["train"] = True
            finite = all(math.isfinite(v) for v in losses)
            result["trains"] = bool(finite and len(losses) >= 2 and losses[-1] < losses[0])
    except BaseException as exc:  # report any failure of the program, including SystemExit
        tb = traceback.format_exception(exc)
        result["stage_failed"] = stage
        message = str(exc).strip().splitlines()
        result["error"] = f"{type(exc).__name__}: {message[0] if message else ''}"[:400]
        frames = [(f, r) for f in traceback.extract_tb(exc.__traceback__) for r in roots
                  if f.filename.startswith(r)]  # fmt: skip
        if frames:
            f, r = frames[-1]
            result["where"] = f"{Path(f.filename).relative_to(r)}:{f.lineno}: {(f.line or '').strip()}"
        result["traceback"] = "".join(tb)[-2500:]
    result["seconds"] = round(time.perf_counter() - started, 2)
    out_file.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    del np
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
