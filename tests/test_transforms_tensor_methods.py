"""Tensor-method transforms: torch text in, Paddle text out, through the shipped rules."""

from __future__ import annotations

import pytest

from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from tests.conftest import last_line_converted

HEAD = "import torch\nx = torch.zeros(2, 3)\n"


@pytest.fixture(scope="module")
def planner(shipped_planner: Planner) -> Planner:
    return shipped_planner


def converted(planner: Planner, line: str) -> str:
    return last_line_converted(planner, HEAD, line)


@pytest.mark.parametrize(("before", "after"), [
    ("y = x.view(3, 2)", "y = x.reshape([3, 2])"),
    ("y = x.view(torch.float32)", "y = x.view(paddle.float32)"),
    ("y = x.to(torch.float32)", "y = x.astype(paddle.float32)"),
    ("y = x.to(dtype=torch.float32)", "y = x.astype(paddle.float32)"),
    ("y = x.to('cpu')", "y = x.to('cpu')"),
    ("y = x.to(y.dtype)", "y = x.astype(y.dtype)"),
    ("y = x.to(y)", "y = x.to(y)"),
    ("y = x.to(torch.float32, memory_format=torch.contiguous_format)", "y = x.astype(paddle.float32)"),
    ("y = x.to('cpu', memory_format=torch.preserve_format)", "y = x.to('cpu')"),
    ("y = x.float()", "y = x.astype('float32')"),
    ("y = x.long()", "y = x.astype('int64')"),
    ("y = x.type('torch.LongTensor')", "y = x.astype('int64')"),
    ("y = x.numel()", "y = x.size"),
    ("y = x.ndimension()", "y = x.ndim"),
    ("y = x.cuda()", "y = x"),
    ("y = x.max(1)", "y = paddle.compat.max(x, 1)"),
    ("y = x.max()", "y = x.max()"),
    ("y = x.split(2, dim=1)", "y = paddle.compat.split(x, 2, dim=1)"),
    ("y = x.new_tensor([1, 2])", "y = paddle.to_tensor([1, 2], dtype=x.dtype)"),
    ("y = x.where(x > 0, x)", "y = paddle.where(x > 0, x, x)"),
    ("y = x.view_as(x)", "y = x.reshape(x.shape)"),
    ("y = x.equal(x)", "y = bool(x.equal_all(x))"),
    ("y = x.clamp_max(0.5)", "y = x.clip(max=0.5)"),
    ("y = x.sum(1, True)", "y = x.sum(1, keepdim=True)"),
    ("y = x.add(1.5)", "y = (x + 1.5)"),
    ("y = x.gt(0)", "y = (x > 0)"),
    ("y = x.add(x)", "y = (x + x)"),  # one operand of unknown kind: the operator takes tensors and numbers
    ("x.mul_(2.0)", "x.scale_(2.0)"),
    ("x.add_(3.).clamp_(0., 6.)", "x.scale_(bias=3.).clip_(0., 6.)"),
    ("g['step'].add_(1)", "g['step'].scale_(bias=1)"),
    ("x.sub_(-2)", "x.scale_(bias=2)"),
    ("x.div_(6.)", "x.scale_(1 / 6.)"),
    ("x.addcmul_(a, b, value=1 - beta)", "paddle.assign(x + (1 - beta) * a * b, x)"),
    ("y = x.addcdiv(a + 1, b)", "y = (x + (a + 1) / b)"),
    ("x.sign_()", "x.copy_(x.sign())"),
    ("y = x.log_softmax(dim=-1)", "y = paddle.nn.functional.log_softmax(x, axis=-1)"),
    ("y = x.relu()", "y = paddle.nn.functional.relu(x)"),
    ("x.atan2_(y)", "x.copy_(x.atan2(y))"),
    ("x.ge_(0.5)", "x.copy_((x >= 0.5).astype(x.dtype))"),
    ("x.scatter_reduce_(1, i, s, 'sum', include_self=False)",
     "x.put_along_axis_(i, s, 1, reduce='add', include_self=False, broadcast=False)"),
    ("x.index_copy_(2, pos, k)",
     "x.put_along_axis_(pos.reshape([-1 if _axis == 2 else 1 for _axis in range(k.ndim)]).expand_as(k), k, 2)"),
    ("y = x.requires_grad", "y = x.requires_grad"),
    ("x.requires_grad = False", "x.requires_grad = False"),
    ("y = x.flip(0, 1)", "y = x.flip([0, 1])"),
    ("y = x.flip(dims=(0,))", "y = x.flip((0,))"),
    ("y = x.flip(-1)", "y = x.flip([-1])"),
    ("y = x.flip(axis=[1])", "y = x.flip(axis=[1])"),
    ("y = x.fliplr()", "y = x.flip(axis=[1])"),
    ("y = x.permute(*order)", "y = x.transpose([*order])"),
    ("y = x.permute(order)", "y = x.transpose(order)"),
    ("y = x.tile(2, 1)", "y = x.tile([2, 1])"),
    ("y = x.reshape(shape=(3, 2))", "y = x.reshape(shape=(3, 2))"),  # Paddle names it shape too
    ("y = x.reshape(-1)", "y = x.reshape([-1])"),
    ("y = x.expand(size=(4, 3))", "y = x.expand((4, 3))"),
    ("y = x.expand(4, -1)", "y = x.expand([4, -1])"),
])  # fmt: skip
def test_transform(planner: Planner, before: str, after: str) -> None:
    assert converted(planner, before) == after


@pytest.mark.parametrize(("line", "reason"), [
    ("y = x.type()", "type name"),
    ("y = x.cuda(0)", "device"),
    ("f(x).ge_(y)", "evaluated twice"),
    ("y = x.to(memory_format=torch.channels_last)", "channels-last"),
    ("x.scatter_reduce_(1, i, s, how)", "written out"),
    ("y = x.float(memory_format=torch.channels_last)", "memory formats"),
])  # fmt: skip
def test_left_for_a_human(planner: Planner, line: str, reason: str) -> None:
    out = convert_source(HEAD + line + "\n", planner, select=lambda fix: True)
    assert out.code.rstrip("\n").rsplit("\n", 1)[-1] == line
    assert any(reason in o.fix.message for o in out.outcomes if not o.applied), [
        o.fix.message for o in out.outcomes
    ]


def test_module_attribute_chains_are_not_tensors(planner: Planner) -> None:
    """``np.linalg.norm(...)`` is no tensor method call, though a `norm` rule exists."""
    out = convert_source("import numpy as np\nimport torch\ny = np.linalg.norm(a)\n", planner,
                         select=lambda fix: True)  # fmt: skip
    assert "np.linalg.norm(a)" in out.code
    assert not [o for o in out.outcomes if o.use.api == "torch.Tensor.norm"]


def test_a_method_chain_split_over_lines_is_rewritten(planner: Planner) -> None:
    src = "import torch\nx = torch.zeros(6)\ny = (\n    x\n    .view(2, 3)\n    .permute(1, 0)\n)\n"
    out = convert_source(src, planner, select=lambda fix: True)
    assert out.code.endswith("y = (\n    x\n    .reshape([2, 3])\n    .transpose([1, 0])\n)\n")
