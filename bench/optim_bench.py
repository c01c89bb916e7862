"""timm optimizer benchmark: do timm's optimizers, converted, step exactly as they do under torch?

    python bench/optim_bench.py [--opts NAME ...] [--no-convert]

timm 1.0.31 (fetched into build/corpus as for bench/zoo_bench.py) is converted whole with
`paddleport convert` (or build/zoo/timm is reused when present and --no-convert is given). Every
optimizer name timm's factory registers, except the CUDA-only ones (apex `fused*`, bitsandbytes
`bnb*`), is created with ``timm.optim.create_optimizer_v2(model, opt=NAME, lr=1e-2,
weight_decay=1e-2)`` on Linear(8, 16) → LayerNorm(16) → Linear(16, 4) with the same initial
weights on both sides, and stepped 5 times on the same data: once by timm under torch, once by the
converted timm in a fresh interpreter with torch blocked (bench/optim_worker.py). An optimizer
matches when every final parameter agrees (rtol 1e-4, atol 1e-5). A random optimizer (kron draws
its preconditioner probes from torch's generator) cannot match.

Results: bench/results/optim.json and a summary on stdout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import RESULTS, ROOT, convert, pip_download, print_failures, python_env, site_packages

TIMM = "timm==1.0.31"
OUT = ROOT / "build" / "optim"
ZOO = ROOT / "build" / "zoo"
RTOL, ATOL = 1e-4, 1e-5


def converted_timm(reuse: bool) -> tuple[Path, dict[str, Any]]:
    """The folder holding the converted `timm` package, and the conversion summary."""
    for base in (OUT, ZOO) if reuse else ():
        summary_file = base / "convert_summary.json"
        if (base / "timm").is_dir() and summary_file.exists():
            return base, json.loads(summary_file.read_text(encoding="utf-8"))
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    summary = convert(pip_download(TIMM) / "timm", OUT / "timm")
    summary["wall_s"] = round(time.perf_counter() - started, 1)
    (OUT / "convert_summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return OUT, summary


def initial(work: Path) -> None:
    """Initial weights (torch's layout) and data, the same for every optimizer and both sides."""
    rng = np.random.default_rng(0)

    def f32(*shape: int, scale: float = 1.0, shift: float = 0.0) -> Any:
        return (rng.standard_normal(shape) * scale + shift).astype("float32")

    np.savez(work / "init.npz", **{
        "0.weight": f32(16, 8, scale=0.35), "0.bias": f32(16, scale=0.1),
        "1.weight": f32(16, scale=0.1, shift=1.0), "1.bias": f32(16, scale=0.1),
        "2.weight": f32(4, 16, scale=0.25), "2.bias": f32(4, scale=0.1),
        "x": f32(32, 8), "y": f32(32, 4),
    })  # fmt: skip


def run_side(side: str, names: list[str], work: Path, timm_dir: Path) -> dict[str, dict[str, Any]]:
    """Run one side's worker until every optimizer has a row (a crashed worker restarts on the rest)."""
    log = work / f"{side}.jsonl"
    log.unlink(missing_ok=True)
    paths = (pip_download(TIMM),) if side == "torch" else (timm_dir,)
    rows: dict[str, dict[str, Any]] = {}
    while True:
        todo = [n for n in names if n not in rows]
        if not todo:
            return rows
        cmd = [sys.executable, str(ROOT / "bench" / "optim_worker.py"), side, str(work), *todo]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=python_env(*paths), timeout=3600)
        if log.exists():
            for line in log.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                rows[row["opt"]] = row
        missing = [n for n in names if n not in rows]
        if missing and missing[0] == todo[0]:  # the first one crashed the interpreter before writing
            tail = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
            rows[missing[0]] = {"opt": missing[0], "stage": "crash", "error": tail[0][:300]}


def compare(name: str, work: Path) -> tuple[bool, float]:
    """Whether both sides' final parameters agree, and the largest absolute difference."""
    a, b = np.load(work / "torch" / f"{name}.npz"), np.load(work / "paddle" / f"{name}.npz")
    worst, ok = 0.0, set(a.files) == set(b.files)
    for k in a.files:
        if k not in b.files or a[k].shape != b[k].shape:
            return False, float("inf")
        worst = max(worst, float(np.abs(a[k] - b[k]).max()))
        ok = ok and bool(np.allclose(b[k], a[k], rtol=RTOL, atol=ATOL))
    return ok, worst


def list_names() -> list[str]:
    cmd = [sys.executable, str(ROOT / "bench" / "optim_worker.py"), "list"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=python_env(pip_download(TIMM)), check=True)
    names: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return names


def main() -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--opts", nargs="*", default=None)
    parser.add_argument("--no-convert", action="store_true", help="reuse build/optim/timm or build/zoo/timm")
    parser.add_argument("--json", type=Path, default=RESULTS / "optim.json")
    args = parser.parse_args()
    site_packages()
    timm_dir, summary = converted_timm(reuse=args.no_convert)
    torch_files = [f["path"] for f in summary.get("torch_files", [])]
    optim_torch = [p for p in torch_files if "/optim/" in p]
    print(f"timm converted ({timm_dir.name}): {summary['files']} files, {len(torch_files)} still import "
          f"torch ({len(optim_torch)} in timm/optim)")  # fmt: skip
    work = OUT / "run"
    work.mkdir(parents=True, exist_ok=True)
    initial(work)
    names = list(args.opts or list_names())
    started = time.perf_counter()
    torch_rows = run_side("torch", names, work, timm_dir)
    paddle_rows = run_side("paddle", names, work, timm_dir)
    wall = time.perf_counter() - started
    rows = []
    for n in names:
        t, p = torch_rows[n], paddle_rows[n]
        row: dict[str, Any] = {"opt": n, "class": t.get("class"), "torch_steps": t.get("steps", 0),
                               "import": bool(p.get("import")), "create": bool(p.get("create")),
                               "steps": p.get("steps", 0), "match": False}  # fmt: skip
        if t.get("error"):
            row["torch_error"] = t["error"]
        if p.get("error"):
            row.update(stage=p.get("stage"), error=p["error"], where=p.get("where", ""))
        if row["steps"] == t.get("steps") == 5:
            row["match"], row["max_abs_diff"] = compare(n, work)
        row["losses"] = {"torch": t.get("losses"), "paddle": p.get("losses")}
        rows.append(row)
        mark = "match" if row["match"] else ("differs" if row["steps"] == 5 else "FAILS")
        diff = f" max|Δ|={row['max_abs_diff']:.2e}" if "max_abs_diff" in row else ""
        print(f"  {n:16s} import {int(row['import'])} steps {row['steps']}/{row['torch_steps']} {mark}{diff}"
              + (f"  [{row.get('stage')}] {row['error'][:110]}" if row.get("error") else ""))  # fmt: skip
    total = len(rows)
    counts = {"total": total, "import": sum(r["import"] for r in rows),
              "create": sum(r["create"] for r in rows), "steps": sum(r["steps"] == 5 for r in rows),
              "match": sum(r["match"] for r in rows),
              "torch_steps": sum(r["torch_steps"] == 5 for r in rows)}  # fmt: skip
    print(f"{total} optimizers: import {counts['import']}, create {counts['create']}, "
          f"5 steps {counts['steps']}, match torch {counts['match']} = {counts['match'] / total:.0%} "
          f"(rtol {RTOL}, atol {ATOL}; "
          f"torch itself stepped {counts['torch_steps']}; {wall:.0f} s)")  # fmt: skip
    print_failures(rows, "opt")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    convert_counts = {k: summary.get(k) for k in ("files", "found", "manual", "rate")}
    args.json.write_text(json.dumps({"convert": convert_counts,
                                     "torch_files": torch_files, "optimizers": rows, "counts": counts,
                                     "rtol": RTOL, "atol": ATOL, "wall_s": round(wall, 1)}, indent=1),
                         encoding="utf-8")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
