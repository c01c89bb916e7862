"""torch.autograd.Function subclasses as Paddle PyLayers, run under paddle with torch blocked."""

from __future__ import annotations

import json
from pathlib import Path

from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from tests.conftest import dedent, run_without_torch

SWISH = dedent('''
    import torch


    class SwishFn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * torch.sigmoid(x)

        @staticmethod
        def backward(ctx, grad_output):
            x = ctx.saved_tensors[0]  # read through a subscript, as timm's activations_me does
            s = torch.sigmoid(x)
            return grad_output * (s * (1 + x * (1 - s)))
    ''')

RUN_TORCH = dedent('''
    import json, torch
    from swish import SwishFn
    x = torch.tensor([-2.0, -0.5, 0.0, 1.5], requires_grad=True)
    y = SwishFn.apply(x)
    y.sum().backward()
    print(json.dumps([y.tolist(), x.grad.tolist()]))
    ''')

RUN_PADDLE = dedent('''
    import json, paddle
    from swish import SwishFn
    x = paddle.to_tensor([-2.0, -0.5, 0.0, 1.5], stop_gradient=False)
    y = SwishFn.apply(x)
    y.sum().backward()
    print(json.dumps([y.tolist(), x.grad.tolist()]))
    ''')


def test_saved_tensors_through_a_subscript_converts_and_computes_torchs_gradient(
        shipped_planner: Planner, tmp_path: Path) -> None:  # fmt: skip
    conversion = convert_source(SWISH, shipped_planner)
    assert conversion.error is None
    assert "ctx.saved_tensor()[0]" in conversion.code and "torch" not in conversion.code
    (tmp_path / "swish.py").write_text(SWISH)
    torch_run = run_without_torch(RUN_TORCH, tmp_path, block=False)
    assert torch_run.returncode == 0, torch_run.stderr
    (tmp_path / "swish.py").write_text(conversion.code)
    paddle_run = run_without_torch(RUN_PADDLE, tmp_path)
    assert paddle_run.returncode == 0, paddle_run.stderr
    (ty, tg), (py, pg) = json.loads(torch_run.stdout), json.loads(paddle_run.stdout.splitlines()[-1])
    assert all(abs(a - b) < 1e-6 for a, b in zip(ty + tg, py + pg, strict=True))
