"""Memory of ``paddleport weights``: peak RSS against checkpoint size.

    python bench/weights_bench.py [--gb 1.0] [--tensor-mb 64]

A torch process writes a checkpoint of ``--gb`` GB (float32 tensors of ``--tensor-mb`` MB, half
of them Linear weights that get transposed, the rest BatchNorm-style and plain tensors), then
``paddleport weights`` converts it in its own process (torch never imported there) and its peak RSS
is read from the kernel (``wait4``). The same run on a tiny checkpoint gives the baseline
(interpreter + numpy + rules). The claim measured: peak ≈ baseline + the largest tensor (+ its
transposed copy), not the checkpoint. Results: bench/results/weights.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

MAKE = """
import sys, torch
gb, mb, path = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
side = int((mb * 2**20 / 4) ** 0.5)
count = max(1, int(gb * 2**30 // (side * side * 4)))
sd = {}
for i in range(count):
    sd[f"layers.{i}.fc.weight"] = torch.randn(side, side)
    sd[f"layers.{i}.fc.bias"] = torch.randn(side)
sd["bn.running_mean"], sd["bn.running_var"] = torch.zeros(8), torch.ones(8)
sd["bn.weight"], sd["bn.bias"], sd["bn.num_batches_tracked"] = torch.ones(8), torch.zeros(8), torch.tensor(0)
torch.save(sd, path)
print(count, side)
"""


def peak_rss_mb(command: list[str]) -> tuple[float, float, int]:
    """(peak RSS in MB, seconds, exit code) of one child process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "server")}
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, time.perf_counter() - started, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--tensor-mb", type=float, default=64.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paddleport-wbench-") as tmp:
        big, small = Path(tmp, "big.pt"), Path(tmp, "small.pt")
        made = subprocess.run([sys.executable, "-c", MAKE, str(args.gb), str(args.tensor_mb), str(big)],
                              capture_output=True, text=True, check=True)  # fmt: skip
        count, side = map(int, made.stdout.split())
        subprocess.run([sys.executable, "-c", MAKE, "0", "0.01", str(small)], check=True, capture_output=True)
        cli = [sys.executable, "-m", "paddleport", "weights"]
        base, _, _ = peak_rss_mb([*cli, str(small), "-o", str(Path(tmp, "small.pdparams"))])
        peak, seconds, code = peak_rss_mb([*cli, str(big), "-o", str(Path(tmp, "big.pdparams"))])
        size = big.stat().st_size / 2**20
        out = Path(tmp, "big.pdparams").stat().st_size / 2**20 if code == 0 else 0.0
    largest = side * side * 4 / 2**20
    result = {
        "checkpoint_mb": round(size, 1), "output_mb": round(out, 1), "tensors": 2 * count + 5,
        "largest_tensor_mb": round(largest, 1), "baseline_rss_mb": round(base, 1),
        "peak_rss_mb": round(peak, 1), "above_baseline_mb": round(peak - base, 1),
        "above_baseline_per_largest_tensor": round((peak - base) / largest, 2),
        "peak_per_checkpoint": round(peak / size, 3), "seconds": round(seconds, 2),
        "mb_per_s": round(size / seconds, 1), "exit": code,
    }  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "weights.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"checkpoint {size:.0f} MB ({2 * count + 5} tensors, largest {largest:.0f} MB) → .pdparams "
          f"{out:.0f} MB in {seconds:.1f} s ({size / seconds:.0f} MB/s)")  # fmt: skip
    print(f"peak RSS {peak:.0f} MB = baseline {base:.0f} MB + {peak - base:.0f} MB "
          f"({(peak - base) / largest:.1f}x the largest tensor; "
          f"{peak / size:.2f}x the checkpoint)")  # fmt: skip
    return code


if __name__ == "__main__":
    raise SystemExit(main())
