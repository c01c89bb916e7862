"""Transforms for top-level torch functions, through the shipped rules: before → after."""

from __future__ import annotations

import pytest

from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner


def converted(planner: Planner, line: str) -> str:
    out = convert_source(f"import torch\ny = {line}\n", planner)
    assert "torch" not in out.code, out.code
    return out.code.split("y = ", 1)[1].rstrip("\n")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # Paddle's positional order differs: the tail goes by keyword
        ("torch.sum(x, 1, True)", "paddle.sum(x, axis=1, keepdim=True)"),
        ("torch.index_select(x, 0, idx)", "paddle.index_select(x, axis=0, index=idx)"),
        ("torch.polygamma(1, x)", "paddle.polygamma(n=1, x=x)"),
        # Python results where Paddle returns 0-D tensors
        ("torch.numel(x)", "int(paddle.numel(x))"),
        ("torch.equal(a, b)", "bool(paddle.equal_all(a, b))"),
        # torch.full infers the dtype from a literal fill value
        ("torch.full((2, 3), 7)", "paddle.full((2, 3), 7, dtype=paddle.int64)"),
        ("torch.full((2,), -1)", "paddle.full((2,), -1, dtype=paddle.int64)"),
        ("torch.full((2,), True)", "paddle.full((2,), True, dtype=paddle.bool)"),
        ("torch.full((2,), 1.5)", "paddle.full((2,), 1.5)"),
        ("torch.full((2,), 7, dtype=torch.float32)", "paddle.full((2,), 7, dtype=paddle.float32)"),
        # requires_grad is stop_gradient negated
        ("torch.tensor([1.0], requires_grad=True)", "paddle.to_tensor([1.0], stop_gradient=False)"),
        ("torch.tensor(d, requires_grad=flag)", "paddle.to_tensor(d, stop_gradient=not (flag))"),
        # randint(high, size) vs paddle.randint(low, high, shape)
        ("torch.randint(10, (2, 3))", "paddle.randint(0, 10, (2, 3))"),
        ("torch.randint(3, 10, (4,))", "paddle.randint(3, 10, (4,))"),
        ("torch.randint(5, size=(3,))", "paddle.randint(5, shape=(3,))"),
        # Paddle functions reject Python numbers: operators accept them
        ("torch.add(x, 1.5)", "(x + 1.5)"),
        ("torch.add(x, 2, alpha=3)", "(x + 3 * 2)"),
        ("torch.sub(1, x + y)", "(1 - (x + y))"),
        ("torch.gt(x, -0.5)", "(x > -0.5)"),
        ("torch.div(x, 2, rounding_mode='floor')", "(x // 2)"),
        ("torch.add(x, y)", "paddle.add(x, y)"),
        ("torch.bitwise_and(x, 3)", "paddle.bitwise_and(x, paddle.full_like(x, 3))"),
        # in-place operations Paddle has only as methods
        ("torch.exp_(x)", "x.exp_()"),
        ("torch.clamp_(x + 1, 0, 1)", "(x + 1).clip_(0, 1)"),
        # compound arithmetic Paddle has no function for
        ("torch.addcmul(x, a, b, value=0.5)", "(x + 0.5 * a * b)"),
        ("torch.addcdiv(x, a, b + 1)", "(x + a / (b + 1))"),
        # scatter: Paddle's (arr, indices, values, axis) order and the scalar value
        (
            "torch.scatter(x, 1, idx, value=2.0)",
            "paddle.put_along_axis(x, axis=1, indices=idx, values=2.0, broadcast=False)",
        ),
        # einsum: Paddle takes the operands spread; pow with a number base
        ("torch.einsum('ij,jk->ik', [a, b])", "paddle.einsum('ij,jk->ik', a, b)"),
        ("torch.einsum('ij,jk->ik', a, b)", "paddle.einsum('ij,jk->ik', a, b)"),
        ("torch.pow(2, x)", "(2 ** x)"),
        ("torch.pow(x, 2)", "(x ** 2)"),
        # histc keeps the input's dtype
        ("torch.histc(x, bins=4)", "paddle.histogram(x, bins=4).astype(x.dtype)"),
        # numpy-style spellings torch accepts
        ("torch.sum(x, axis=0, keepdims=True)", "paddle.sum(x, axis=0, keepdim=True)"),
        # correction → unbiased
        ("torch.std(x, dim=0, correction=0)", "paddle.std(x, axis=0, unbiased=False)"),
        # a *args fills renamed parameters by position, where Paddle's order is torch's
        ("torch.linspace(*domain, n, device=d)", "paddle.linspace(*domain, n)"),
    ],
)
def test_torch_function_transforms(shipped_planner: Planner, before: str, after: str) -> None:
    assert converted(shipped_planner, before) == after


@pytest.mark.parametrize(
    "before",
    [
        "torch.div(x, 2, rounding_mode='trunc')",
        "torch.std(x, dim=0, correction=2)",
        "torch.histc(x.add_(1), bins=4)",
        # Paddle's order differs after the input (keywords_after): a *args could fill any of them
        "torch.sum(x, *dims)",
    ],
)
def test_unconvertible_calls_are_left_as_they_are(shipped_planner: Planner, before: str) -> None:
    out = convert_source(f"import torch\ny = {before}\n", shipped_planner)
    assert before.split("(", 1)[0] + "(" in out.code  # the torch call itself stays


@pytest.mark.parametrize(("before", "after"), [
    # d2l's linear-regression weights: Paddle's normal has no requires_grad, so it is set afterwards
    ("w = torch.normal(mean=0.0, std=0.01, size=(3, 1), requires_grad=True)",
     "w = paddle.normal(mean=0.0, std=0.01, shape=(3, 1)).requires_grad_()"),
    ("w = torch.normal(0.0, 1.0, size=(2,), requires_grad=flag)",
     "w = paddle.normal(0.0, 1.0, shape=(2,)).requires_grad_(flag)"),
    ("w = torch.normal(0.0, 1.0, size=(2,), requires_grad=False)", "w = paddle.normal(0.0, 1.0, shape=(2,))"),
])  # fmt: skip
def test_requires_grad_is_set_after_the_factory(shipped_planner: Planner, before: str, after: str) -> None:
    assert converted(shipped_planner, before) == after
