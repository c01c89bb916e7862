"""Transforms for optim, lr_scheduler, linalg, fft, special, data, amp and jit, through the shipped rules."""

from __future__ import annotations

import pytest

from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner


def converted(planner: Planner, line: str) -> str:
    out = convert_source(f"import torch\ny = {line}\n", planner)
    assert "torch" not in out.code, out.code
    return out.code.split("y = ", 1)[1].rstrip("\n")


def left_alone(planner: Planner, line: str) -> str:
    """The reason a call is not converted (it must stay exactly as written)."""
    out = convert_source(f"import torch\ny = {line}\n", planner)
    assert f"y = {line}\n" in out.code, out.code
    reasons = [o.fix.message for o in out.outcomes
               if not o.applied and o.fix.replacement is None and o.use.rule is not None]
    assert reasons, "expected a reason"
    return reasons[0]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # Paddle puts learning_rate first: everything goes by keyword
        ("torch.optim.SGD(m.parameters(), 0.1)",
         "paddle.optimizer.SGD(parameters=m.parameters(), learning_rate=0.1)"),
        ("torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True)",
         "paddle.optimizer.Momentum(parameters=ps, learning_rate=0.1, momentum=0.9, use_nesterov=True)"),
        ("torch.optim.SGD(ps, lr=0.1, momentum=0)",
         "paddle.optimizer.SGD(parameters=ps, learning_rate=0.1)"),
        # Paddle refuses an int rate: an int literal is written as a float (d2l's SGD with lr=1)
        ("torch.optim.SGD(ps, lr=1)",
         "paddle.optimizer.SGD(parameters=ps, learning_rate=1.0)"),
        # betas are split, literal or named
        ("torch.optim.Adam(ps, 1e-3, (0.8, 0.9), 1e-6, 0.1)",
         "paddle.optimizer.Adam(parameters=ps, learning_rate=1e-3, beta1=0.8, beta2=0.9, "
         "epsilon=1e-6, weight_decay=0.1)"),
        ("torch.optim.AdamW(ps, betas=b, fused=True)",
         "paddle.optimizer.AdamW(parameters=ps, beta1=b[0], beta2=b[1])"),
        # defaults that differ are written out
        ("torch.optim.Adagrad(ps)",
         "paddle.optimizer.Adagrad(parameters=ps, learning_rate=0.01, epsilon=1e-10)"),
        # a scheduler is built from the optimizer's rate, then attached to it
        ("torch.optim.lr_scheduler.StepLR(opt, 30, gamma=0.1)",
         "paddle.optimizer.lr.StepDecay(learning_rate=opt.get_lr(), step_size=30, gamma=0.1)\n"
         "opt.set_lr_scheduler(y)"),
        ("torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=100, cycle_momentum=False)",
         "paddle.optimizer.lr.OneCycleLR(max_learning_rate=0.1, total_steps=100, "
         "end_learning_rate=0.1 / 25.0 / 10000.0)\nopt.set_lr_scheduler(y)"),
        ("torch.optim.lr_scheduler.ConstantLR(opt, factor=0.5)",
         "paddle.optimizer.lr.LambdaDecay(learning_rate=opt.get_lr(), "
         "lr_lambda=lambda epoch: 0.5 if epoch < 5 else 1.0)\nopt.set_lr_scheduler(y)"),
        # formulas fill torch's defaults
        ("torch.linalg.cholesky_ex(A)",
         "(paddle.linalg.cholesky(A, upper=False), paddle.zeros(A.shape[:-2], dtype='int32'))"),
        ("torch.distributions.utils.logits_to_probs(z, is_binary=True)",
         "paddle.nn.functional.sigmoid(z)"),
        # linalg.norm: a 2-tuple dim without ord is Frobenius in torch, spectral in Paddle
        ("torch.linalg.norm(x, dim=(0, 1))", "paddle.linalg.norm(x, axis=(0, 1), p='fro')"),
        ("torch.linalg.norm(x, dim=-1)", "paddle.linalg.norm(x, axis=-1)"),
        ("torch.linalg.lu_solve(LU, piv, B)", "paddle.linalg.lu_solve(lu=LU, pivots=piv, b=B)"),
        # Paddle's fftshift fails for one or negative axes: roll instead
        ("torch.fft.fftshift(x, dim=-1)", "paddle.roll(x, shifts=[x.shape[-1] // 2], axis=[-1])"),
        ("torch.fft.ifftshift(x, dim=(0, 1))", "paddle.fft.ifftshift(x, axes=(0, 1))"),
        ("torch.fft.rfft(x, norm=None)", "paddle.fft.rfft(x, norm='backward')"),
        # functions Paddle lacks, as formulas; non-names are parenthesised
        ("torch.special.erfc(a + b)", "(1 - paddle.erf((a + b)))"),
        ("torch.special.polygamma(1, x)", "paddle.polygamma(n=1, x=x)"),
        # data
        ("torch.utils.data.TensorDataset(x)", "paddle.io.TensorDataset([x])"),
        ("torch.utils.data.DataLoader(ds, 4, True, pin_memory=True)",
         "paddle.io.DataLoader(dataset=ds, batch_size=4, shuffle=True)"),
        # amp and jit; Paddle's GradScaler/auto_cast put `enable` first
        ("torch.autocast('cpu')", "paddle.amp.auto_cast(dtype='bfloat16')"),
        ("torch.cuda.amp.GradScaler(1024.0)", "paddle.amp.GradScaler(init_loss_scaling=1024.0)"),
        ("torch.cuda.amp.autocast(True, torch.float16)",
         "paddle.amp.auto_cast(enable=True, dtype=paddle.float16)"),
        ("torch.jit.is_scripting()", "(not paddle.in_dynamic_mode())"),
        ("torch.jit.ignore(f)", "paddle.jit.not_to_static(f)"),
        ("torch.jit.ignore(drop=False)", "paddle.jit.not_to_static"),
    ],
)
def test_converts(shipped_planner: Planner, before: str, after: str) -> None:
    assert converted(shipped_planner, before) == after


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        ("torch.optim.Adam([{'params': ps, 'lr': 0.1}])", "factor on the optimizer's rate"),
        ("torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1)", "no dampening"),
        ("torch.optim.Adam(ps, betas=make())", "assign it to a name first"),
        ("torch.optim.lr_scheduler.StepLR(make_opt(), 3)", "assign it to a name first"),
        ("torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=9)", "cycles the optimizer's momentum"),
        ("torch.optim.lr_scheduler.LambdaLR(opt, [f, g])", "one per parameter group"),
        ("torch.linalg.norm(x, 2)", "Paddle always flattens"),
        ("torch.linalg.norm(x, dim=d)", "`dim` is not a literal"),
        ("torch.fft.fftshift(f(x), dim=1)", "paddle.roll"),

        ("torch.autocast(dev)", "default dtype depends on device_type"),
        ("torch.jit.ignore(drop=True)", "no such mode"),
    ],
)
def test_refuses_with_a_reason(shipped_planner: Planner, call: str, reason: str) -> None:
    assert reason in left_alone(shipped_planner, call)
