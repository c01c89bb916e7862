"""A torch method called with spread arguments on a receiver of unknown type (d2l's
``astype = lambda x, *args, **kwargs: x.type(*args, **kwargs)``) becomes a helper that checks
the receiver at run time, so it is applied without knowing the type, and it computes what
torch computes for tensors and leaves every other object's ``type`` as it was."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from tests.conftest import dedent, run_without_torch

SOURCE = dedent("""
    import torch
    astype = lambda x, *args, **kwargs: x.type(*args, **kwargs)
    reduce_sum = lambda x, *args, **kwargs: x.sum(*args, **kwargs)

    class Node:
        def type(self, suffix=''):
            return 'node' + suffix

    def accuracy(y_hat, y):
        cmp = astype(y_hat.argmax(axis=1), y.dtype) == y
        return float(reduce_sum(astype(cmp, y.dtype)))

    def run(y_hat, y):
        return [accuracy(y_hat, y), astype(y_hat), astype(y, 'torch.DoubleTensor').numpy().dtype.name,
                astype(Node()), astype(Node(), suffix='!')]
    """)

DATA = "[[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]", "[1, 1, 1]"


def test_spread_type_on_an_untyped_receiver_runs_as_torch(shipped_planner: Planner, tmp_path: Path) -> None:
    converted = convert_source(SOURCE, shipped_planner).code
    assert "_paddleport_vision.tensor_type(x, *args, **kwargs)" in converted
    assert "x.type(*args" not in converted  # the helper holds the fallback
    assert "import torch" not in converted
    (tmp_path / "torch_side.py").write_text(SOURCE)
    (tmp_path / "paddle_side.py").write_text(converted)
    call = "import json; print(json.dumps(run({0}.tensor({1}), {0}.tensor({2}))))"
    torch_code = "import torch; from torch_side import run; " + call.format("torch", *DATA)
    expected = subprocess.run([sys.executable, "-c", torch_code], cwd=tmp_path, capture_output=True, text=True,
                              check=True)
    paddle_code = "import paddle; from paddle_side import run; " + call.format("paddle", *DATA)
    got = run_without_torch(paddle_code.replace("paddle.tensor(", "paddle.to_tensor("), tmp_path)
    assert got.returncode == 0, got.stderr[-2000:]
    assert json.loads(got.stdout.strip().splitlines()[-1]) == json.loads(expected.stdout.strip().splitlines()[-1])
    assert json.loads(expected.stdout.strip().splitlines()[-1])[:3] == [2.0, "torch.FloatTensor", "float64"]


def test_converting_twice_changes_nothing(shipped_planner: Planner) -> None:
    once = convert_source(SOURCE, shipped_planner).code
    assert convert_source(once, shipped_planner).code == once
