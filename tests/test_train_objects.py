"""A training script that uses torch objects, not only tensors, converts fully and trains under paddle.

The script (tests/fixtures/train_objects/train.py) has a model class, AdamW with a
cosine schedule read through get_last_lr(), a BatchNorm running_mean read,
zero_grad(set_to_none=True), a named_modules loop with an isinstance test, and a
hand-set learning rate through param_groups.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from paddleport.analysis.finder import analyze
from paddleport.rewrite.convert import plan
from paddleport.rewrite.fixes import Planner
from paddleport.rules.loader import RuleSet
from tests.conftest import run_without_torch

SCRIPT = Path(__file__).parent / "fixtures" / "train_objects" / "train.py"
RUN = """
import math
from train import train
loss = train()
assert math.isfinite(loss), loss
print('trained', loss)
"""


def _run(folder: Path, block: bool) -> str:
    run = run_without_torch(RUN, folder, block=block)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


def _rates(output: str) -> list[str]:
    return re.findall(r"lr ([0-9.]+)", output)  # six epochs, then the final hand-set rate


def test_training_script_converts_without_torch_and_trains(tmp_path: Path, shipped_rules: RuleSet) -> None:
    out = tmp_path / "converted"
    convert = subprocess.run([sys.executable, "-m", "paddleport", "convert", str(SCRIPT.parent), "-o", str(out)],
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert convert.returncode == 0, convert.stderr
    assert "conversion rate:     100.0%" in convert.stdout
    code = (out / "train.py").read_text(encoding="utf-8")
    assert "torch" not in code
    left = [f.message for f in plan(analyze(code, shipped_rules), Planner(shipped_rules))]
    assert not left, left  # what is still reported is already valid Paddle (x.shape, x.item())
    for fragment in ("module.weight.shape[0]", "[sched.last_lr][0]", "model.bn._mean", "opt.get_lr()",
                     "opt.set_lr(0.1 / (step + 1))", "persistable=False", "opt.zero_grad(set_to_none=True)"):
        assert fragment in code, fragment
    paddle_out = _run(out, block=True)
    assert "trained" in paddle_out
    torch_out = _run(SCRIPT.parent, block=False)
    # the schedules agree step by step: cosine annealing, then the hand-set rates
    assert _rates(paddle_out) == _rates(torch_out) and len(_rates(torch_out)) == 7
