"""A whole timm-shaped ResNet, converted with the shipped rules, computes what torch computes.

Outputs and the gradients of every input and parameter, at the default
tolerances, through the real CLI and a real kernel.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "timm_like" / "convnet_like.py"


def test_converted_resnet_matches_torch_with_gradients() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "paddleport", "equiv", str(FIXTURE), "--target", "ResNet",
         "--example", "ResNet(layers=(1, 1, 1, 1), num_classes=10)(randn(2, 3, 32, 32))",
         "--grad", "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert result.returncode == 0, report.get("message")
    assert report["status"] == "equal"
    assert len(report["leaves"]) > 30  # the logits plus a gradient per parameter and the input
