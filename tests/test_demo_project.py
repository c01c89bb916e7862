"""The bundled example project converts, and the converted project trains under paddle alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RUN_WITHOUT_TORCH = """
import math, sys, warnings
from importlib.abc import MetaPathFinder

class BlockTorch(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 'torch':
            raise ImportError('torch is blocked: ' + name)

sys.meta_path.insert(0, BlockTorch())
warnings.filterwarnings('ignore')
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
    run = subprocess.run([sys.executable, "-c", RUN_WITHOUT_TORCH], cwd=out, capture_output=True,
                         text=True, timeout=600, env={"GLOG_minloglevel": "2", "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "trained" in run.stdout
