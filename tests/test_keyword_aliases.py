"""Keyword names from torch's other overloads (`_foreach_mul_(xs, scalar=w)`) bind to the rule's parameter."""

from __future__ import annotations

import json
from pathlib import Path

from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from tests.conftest import dedent, run_without_torch

EMA = dedent('''
    import torch


    def decay(values, weight):
        torch._foreach_mul_(values, scalar=1. - weight)
        return values
    ''')

RUN = dedent('''
    import json
    import numpy as np
    import {lib} as t
    from ema import decay
    values = [t.to_tensor(np.arange(6, dtype="float32").reshape(2, 3)) if "{lib}" == "paddle"
              else t.tensor(np.arange(6, dtype="float32").reshape(2, 3)), ]
    out = decay(values, 0.25)
    print(json.dumps([v.tolist() for v in out] + [v.tolist() for v in values]))
    ''')


def test_an_overloads_keyword_binds_to_the_rules_parameter_and_runs_like_torch(
        shipped_planner: Planner, tmp_path: Path) -> None:  # fmt: skip
    conversion = convert_source(EMA, shipped_planner)
    assert conversion.error is None
    assert "torch" not in conversion.code and "scalar=" not in conversion.code
    (tmp_path / "ema.py").write_text(EMA)
    torch_run = run_without_torch(RUN.replace("{lib}", "torch"), tmp_path, block=False)
    assert torch_run.returncode == 0, torch_run.stderr
    (tmp_path / "ema.py").write_text(conversion.code)
    paddle_run = run_without_torch(RUN.replace("{lib}", "paddle"), tmp_path)
    assert paddle_run.returncode == 0, paddle_run.stderr
    assert json.loads(torch_run.stdout) == json.loads(paddle_run.stdout.splitlines()[-1])


def test_a_keyword_no_overload_has_still_stops_the_call(shipped_planner: Planner) -> None:
    conversion = convert_source("import torch\ntorch._foreach_mul_(xs, factor=2.0)\n", shipped_planner)
    assert "torch._foreach_mul_(xs, factor=2.0)" in conversion.code
