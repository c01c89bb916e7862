"""Run rule examples in one framework; a fresh process per side, never forked.

``python -m paddleport.kernel.example_worker torch JOBS OUT`` runs each job's
torch code and pickles plain results to OUT. ``... paddle JOBS OUT --expected
TORCH_OUT`` runs the converted code with torch made unimportable, compares with
torch's results and writes JSON verdicts.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import signal
import sys
import time
import traceback
import warnings
from importlib.abc import MetaPathFinder
from types import FrameType, ModuleType
from typing import Any

EXAMPLE_TIMEOUT_S = 30
# torchvision is blocked with torch: a converted example must not lean on either
BLOCKED = ("torch", "torchvision")


def _blocked(name: str) -> bool:
    return name.split(".", 1)[0] in BLOCKED


class _BlockTorch(MetaPathFinder):
    """Makes ``import torch`` fail on the paddle side, so a missed conversion cannot hide."""

    def find_spec(self, fullname: str, path: Any = None, target: ModuleType | None = None) -> None:
        if _blocked(fullname):
            raise ImportError(f"{fullname.split('.', 1)[0]} is not importable on the paddle side "
                              f"(imported {fullname!r})")  # fmt: skip
        return None


def import_torchvision() -> None:
    """Import torchvision even where its compiled ops cannot load next to this torch.

    The torchvision 0.28.0 wheel links its ops (``torchvision._C``) against CUDA torch;
    next to the CPU torch they do not load, and ``torchvision._meta_registrations``
    then fails at import (it registers shapes for ops that do not exist). Transforms,
    datasets, models and the box ops are Python over torch and need no ops: they are
    imported without that module. An example calling an op (``nms``) fails when it calls it.
    """
    try:
        import torchvision
    except RuntimeError:
        for name in [n for n in sys.modules if n.split(".", 1)[0] == "torchvision"]:
            del sys.modules[name]
        sys.modules["torchvision._meta_registrations"] = ModuleType("torchvision._meta_registrations")
        import torchvision  # noqa: F401


def quiet_paddle() -> None:
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("FLAGS_call_stack_level", "0")
    warnings.filterwarnings("ignore")


def block_torch() -> None:
    for name in list(sys.modules):
        if _blocked(name):
            del sys.modules[name]
    sys.meta_path.insert(0, _BlockTorch())


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError(f"example took longer than {EXAMPLE_TIMEOUT_S} s")


def run_jobs(framework: str, jobs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    from paddleport.kernel.compare import to_plain
    from paddleport.kernel.data import DataMaker

    results: dict[str, dict[str, Any]] = {}
    signal.signal(signal.SIGALRM, _alarm)
    for job in jobs:
        namespace: dict[str, Any] = {"__name__": "__example__"}
        namespace.update(DataMaker(framework, seed=0).namespace())
        started = time.perf_counter()
        signal.alarm(EXAMPLE_TIMEOUT_S)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(job["code"], job["id"], "exec"), namespace)
            if "out" not in namespace:
                raise RuntimeError("the example did not assign `out`")
            results[job["id"]] = {"ok": True, "out": to_plain(namespace["out"])}
        except BaseException as exc:  # the example's own failure is a result, not a crash
            if isinstance(exc, KeyboardInterrupt):
                raise
            tb = traceback.extract_tb(exc.__traceback__)
            where = next((f"line {f.lineno}" for f in reversed(tb) if f.filename == job["id"]), "")
            results[job["id"]] = {"ok": False, "error": f"{type(exc).__name__}: {exc} {where}".strip()}
        finally:
            signal.alarm(0)
        results[job["id"]]["seconds"] = round(time.perf_counter() - started, 4)
    return results


def main(argv: list[str]) -> int:
    framework, jobs_path, out_path = argv[:3]
    with open(jobs_path, encoding="utf-8") as fh:
        jobs = json.load(fh)
    if framework == "torch":
        if any("torchvision" in j["torch"] for j in jobs):
            with contextlib.suppress(ImportError):  # not installed: the examples say so when they run
                import_torchvision()
        results = run_jobs("torch", [{"id": j["id"], "code": j["torch"]} for j in jobs])
        with open(out_path, "wb") as fh:
            pickle.dump(results, fh)
        return 0
    quiet_paddle()
    block_torch()
    import paddle

    paddle.disable_signal_handler()
    from paddleport.kernel.compare import compare

    expected_path = argv[argv.index("--expected") + 1]
    with open(expected_path, "rb") as fh:
        expected = pickle.load(fh)
    results = run_jobs("paddle", [{"id": j["id"], "code": j["paddle"]} for j in jobs])
    verdicts = {}
    for job in jobs:
        t, p = expected.get(job["id"], {"ok": False, "error": "torch side did not run"}), results[job["id"]]
        if not t["ok"]:
            verdicts[job["id"]] = {"verified": False, "reason": f"torch side failed: {t['error']}"}
            continue
        if not p["ok"]:
            verdicts[job["id"]] = {"verified": False, "reason": f"paddle side failed: {p['error']}"}
            continue
        leaves = compare(t["out"], p["out"], rtol=job["rtol"], atol=job["atol"], mode=job["compare"])
        bad = [leaf.describe() for leaf in leaves if not leaf.ok]
        verdicts[job["id"]] = {
            "verified": not bad,
            "reason": "; ".join(bad)[:500] if bad else "",
            "seconds": [t["seconds"], p["seconds"]],
        }
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(verdicts, fh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
