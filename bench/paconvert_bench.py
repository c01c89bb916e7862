"""Wall time of `paddleport convert` against PaConvert 3.3.1 on timm's models, runs alternated.

    python bench/paconvert_bench.py [--runs 2]

Both tools convert timm 1.0.31's `timm/models` folder on the same machine in the
same run, one after the other (paddleport, PaConvert, paddleport, PaConvert, ...),
so load from anything else hits both alike. PaConvert is installed from PyPI with
its pinned dependencies (black 22.8.0, isort 5.11.5, astor) into build/corpus, away
from the project venv; it formats its output with black. After each run the script
looks for processes the tool left behind (tagged through an environment variable
that children inherit), e.g. jedi helpers that outlive paddleport.

Results: bench/results/paconvert.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import CORPUS, RESULTS, pip_download, python_env

PACONVERT = "paconvert==3.3.1"
TIMM = "timm==1.0.31"


def paconvert_site() -> Path:
    site = CORPUS / "paconvert-site"
    if not (site / "paconvert").is_dir():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(site), PACONVERT],
                       check=True, capture_output=True)  # fmt: skip
    return site


def lingering(tag: str) -> list[str]:
    """Processes still alive that carry our tag in their environment."""
    out = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if proc.environ().get("PADDLEPORT_BENCH_TAG") == tag:
                out.append(f"{proc.pid}: {' '.join(proc.info['cmdline'] or [])[:120]}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return out


def timed(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    tag = uuid.uuid4().hex
    env = {**env, "PADDLEPORT_BENCH_TAG": tag}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    time.sleep(1.0)
    left = lingering(tag)
    for line in left:  # clean up what the tool left, by pid
        with_pid = int(line.split(":", 1)[0])
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(with_pid).kill()
    return {"wall_s": round(wall, 2), "returncode": proc.returncode, "lingering": left, "load_before": load,
            "stdout": proc.stdout,
            "stderr_tail": proc.stderr[-500:] if proc.returncode not in (0, 3) else ""}  # fmt: skip


def conversion_rate(stdout: str) -> float | None:
    """paddleport's use-level conversion rate from its `--format json` summary."""
    try:
        return float(json.loads(stdout)["rate"])
    except (ValueError, KeyError, TypeError):
        return None


def main() -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--runs", type=int, default=2, help="runs of each tool, alternated")
    parser.add_argument("--limit", type=int, default=0,
                        help="only the first N files of timm/models (sorted by name), for a quick look")
    parser.add_argument("--json", type=Path, default=RESULTS / "paconvert.json")
    args = parser.parse_args()
    models = pip_download(TIMM) / "timm" / "models"
    subset = tempfile.TemporaryDirectory(prefix="paconvert-subset-")
    if args.limit:
        files = sorted(models.glob("*.py"))[: args.limit]
        for path in files:
            shutil.copy2(path, Path(subset.name, path.name))
        models = Path(subset.name)
    lines = sum(p.read_text(encoding="utf-8").count("\n") for p in models.glob("*.py"))
    print(f"corpus: {models} ({len(list(models.glob('*.py')))} files, {lines} lines)")
    site = paconvert_site()
    ours_env = python_env()
    ours_env.pop("OMP_NUM_THREADS", None)
    pac_env = {**os.environ, "PYTHONPATH": str(site)}
    pac_main = "import sys; from paconvert.main import main; sys.argv[0] = 'paconvert'; main()"
    runs: dict[str, list[dict[str, Any]]] = {"paddleport": [], "paconvert": []}
    with tempfile.TemporaryDirectory(prefix="paconvert-bench-") as tmp:
        for i in range(args.runs):
            out = Path(tmp, f"pp{i}")
            ours = timed([sys.executable, "-m", "paddleport", "convert", str(models), "-o", str(out),
                          "--format", "json"], ours_env)  # fmt: skip
            ours["rate"] = conversion_rate(ours.pop("stdout"))
            runs["paddleport"].append(ours)
            rate = "?" if ours["rate"] is None else f"{ours['rate']:.1%}"
            print(f"run {i + 1}: paddleport convert {ours['wall_s']} s, lingering {len(ours['lingering'])}, "
                  f"conversion rate {rate} (load {ours['load_before']:.1f})", flush=True)  # fmt: skip
            pac_out, pac_log = str(Path(tmp, f"pc{i}")), str(Path(tmp, f"pc{i}.log"))
            theirs = timed([sys.executable, "-c", pac_main, "--in_dir", str(models), "--out_dir", pac_out,
                            "--log_dir", pac_log], pac_env)  # fmt: skip
            theirs.pop("stdout")
            runs["paconvert"].append(theirs)
            code = f", exit {theirs['returncode']}" if theirs["returncode"] else ""
            print(f"run {i + 1}: PaConvert 3.3.1      {theirs['wall_s']} s, "
                  f"lingering {len(theirs['lingering'])}{code} (load {theirs['load_before']:.1f})",
                  flush=True)  # fmt: skip
    ours_s = statistics.median(r["wall_s"] for r in runs["paddleport"])
    theirs_s = statistics.median(r["wall_s"] for r in runs["paconvert"])
    ratio = theirs_s / ours_s
    print(f"timm/models: paddleport {ours_s:.1f} s, PaConvert {theirs_s:.1f} s (medians of {args.runs}): "
          f"paddleport is {ratio:.1f}x faster (goal >= 7x)")  # fmt: skip
    rates = [r["rate"] for r in runs["paddleport"] if r["rate"] is not None]
    rate = min(rates) if rates else None
    print("paddleport conversion rate on timm/models: "
          + ("unknown" if rate is None else f"{rate:.1%} (goal >= 98.3%)"))  # fmt: skip
    left = sorted({p for r in runs["paddleport"] for p in r["lingering"]})
    print(f"processes left running after paddleport exited: {len(left)}" + (f" ({left[0]})" if left else ""))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    loads = [r["load_before"] for rs in runs.values() for r in rs]
    print(f"1-minute load average before the runs: {min(loads):.1f} to {max(loads):.1f} "
          f"on {os.cpu_count()} cores")  # fmt: skip
    report = {"runs": runs, "paddleport_s": ours_s, "paconvert_s": theirs_s, "ratio": round(ratio, 2),
              "rate": rate, "cpu_count": os.cpu_count(), "files_limit": args.limit,
              "lines": lines}  # fmt: skip
    args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    subset.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
