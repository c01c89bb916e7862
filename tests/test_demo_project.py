"""The bundled example project converts, and the converted project trains under paddle alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import run_without_torch

ROOT = Path(__file__).resolve().parent.parent

TRAIN = """
import math
from cnn.train import train
loss = train()
assert math.isfinite(loss), loss
print('trained', loss)
"""


def test_converted_example_project_trains_under_paddle(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    convert = subprocess.run([sys.executable, "-m", "paddleport", "convert", str(ROOT / "examples" / "cnn_project"),
                              "-o", str(out)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert convert.returncode == 0, convert.stderr
    assert "conversion rate:     100.0%" in convert.stdout
    run = run_without_torch(TRAIN, out)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "trained" in run.stdout
