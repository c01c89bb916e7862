"""Long fuzz of the language server: ``python bench/lsp_fuzz.py [EDITS]`` (default 10,000 per session).

Runs tests/lsp/test_fuzz.py's sessions (two seeds) with many more edits and prints what was
exercised: edits, checked states (server text == client text, ranges inside the document),
quick fixes applied and checked to parse, resolves. Any failure is the test's assertion.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                             "tests/lsp/test_fuzz.py"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PADDLEPORT_FUZZ_STEPS": str(steps)})  # fmt: skip
    total: Counter[str] = Counter()
    for line in result.stdout.splitlines():
        if "fuzz-counts" in line:
            counts = json.loads(line.split("fuzz-counts", 1)[1])
            counts.pop("seed")
            total.update(counts)
    print(f"sessions: 2, edits: {total['edits']:,}, checked states: {total['checks']:,}, "
          f"quick fixes checked: {total['fixes']:,}, resolves: {total['resolves']:,}, "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    print("result:", "all checks passed" if result.returncode == 0 else "FAILED")
    if result.returncode:
        print(result.stdout[-4000:])
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
