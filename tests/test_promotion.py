"""torch's int → float type promotion, which Paddle 3.3.1 refuses between tensors: specs and a real run.

Verified on Paddle 3.3.1: `f32 + i64`, `f32 < i64`, `/`, `**`, `%`, `//`, `f32 + bool`, even `i64 + i32`
raise "Type promotion only support calculations between floating-point numbers"; a Python
scalar or a 0-d tensor on either side works; `f16 + f32` and `f32 + f64` promote as torch does.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from paddleport.analysis.uses import UseKind
from paddleport.cli.check import check_text
from paddleport.rewrite.convert import Conversion, convert_source
from paddleport.rewrite.fixes import Planner
from paddleport.rules.model import Tier
from tests.conftest import dedent, run_without_torch

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def _convert(planner: Planner, body: str) -> Conversion:
    out = convert_source(HEAD + dedent(body), planner)
    assert out.error is None, out.error
    return out


def _lines(out: Conversion) -> list[str]:
    return [ln for ln in out.code.splitlines() if ln and not ln.startswith("import ")]


def test_d2l_sequence_mask_casts_an_operand_of_unknown_dtype_at_run_time(shipped_planner: Planner) -> None:
    body = """
    def sequence_mask(X, valid_len, value=0):
        maxlen = X.size(1)
        mask = torch.arange((maxlen), dtype=torch.float32,
                            device=X.device)[None, :] < valid_len[:, None]
        X[~mask] = value
        return X
    """
    out = _convert(shipped_planner, body)
    assert ("    mask = paddle.arange((maxlen), dtype=paddle.float32)[None, :] < "
            "_paddleport_vision.promote(valid_len[:, None], 'float32')") in out.code  # fmt: skip
    assert "    def promote(x, dtype):" in out.code  # the helper is written into the file
    use = next(o for o in out.outcomes if o.use.kind is UseKind.PROMOTE)
    assert use.applied and use.fix.tier is Tier.EXACT and "torch casts an integer" in use.fix.message
    assert convert_source(out.code, shipped_planner).code == out.code


def test_a_known_integer_operand_is_cast_to_the_floating_operands_dtype(shipped_planner: Planner) -> None:
    body = """
    X = torch.normal(0.0, 1, (1000, 2))
    A = torch.tensor([[1, 2], [-0.1, 0.5]])
    b = torch.tensor([1, 2])
    data = torch.matmul(X, A) + b
    c = torch.tensor([1, 2]) * X
    d = X.double() - torch.arange(2)
    e = X ** b.long()
    acc = torch.zeros(2)
    acc += torch.randint(0, 5, (2,))
    f = X * (X > 0)
    """
    lines = _lines(_convert(shipped_planner, body))
    assert lines[3:] == [
        "data = paddle.matmul(X, A) + b.astype(paddle.get_default_dtype())",  # normal/tensor of floats: default
        "c = paddle.to_tensor([1, 2]).astype(X.dtype) * X",  # a name: its own dtype
        "d = X.astype('float64') - paddle.arange(2).astype('float64')",
        "e = X ** b.astype('int64').astype(X.dtype)",
        "acc = paddle.zeros([2])",
        "acc += paddle.randint(0, 5, (2,)).astype(acc.dtype)",
        "f = X * ((X > 0).astype(X.dtype))",  # a comparison is bool (its own parentheses stay)
    ]


def test_a_loss_result_is_floating(shipped_planner: Planner) -> None:
    body = """
    class MaskedMSE(nn.MSELoss):
        def forward(self, pred, label, weights):
            self.reduction = 'none'
            unweighted = super(MaskedMSE, self).forward(pred, label)
            return (unweighted * weights).mean(dim=1)

    def weighted(pred, w):
        l = F.mse_loss(pred, pred * 2, reduction='none')
        return l * w[:, None]
    """
    lines = _lines(_convert(shipped_planner, body))
    assert "        return (unweighted * _paddleport_vision.promote(weights, unweighted.dtype)).mean(axis=1)" in lines
    assert "    return l * _paddleport_vision.promote(w[:, None], l.dtype)" in lines


def test_what_paddle_computes_as_torch_stays(shipped_planner: Planner) -> None:
    body = """
    def f(x, y, scale, n):
        a = torch.randn(3)
        b = torch.arange(3)
        return (a + 1, a * scale, b + 2, b * b, x + y, a @ a, a < b < 2, a + n, a * a, b / 2)
    """
    out = _convert(shipped_planner, body)
    assert not [o for o in out.outcomes if o.use.kind is UseKind.PROMOTE]
    assert "return (a + 1, a * scale, b + 2, b * b, x + y, a @ a, a < b < 2, a + n, a * a, b / 2)" in out.code


def test_check_reports_a_promotion_as_an_exact_fix(shipped_planner: Planner) -> None:
    findings, _ = check_text("m.py", HEAD + "x = torch.randn(2) + torch.tensor([1, 2])\n", shipped_planner)
    promote = [f for f in findings if f.api == "type_promotion"]
    assert [(f.code, f.fixable) for f in promote] == [("PP100", True)]


# d2l's sequence_mask, which both programs below use
SEQUENCE_MASK = '''
def sequence_mask(X, valid_len, value=0):
    maxlen = X.size(1)
    mask = torch.arange((maxlen), dtype=torch.float32, device=X.device)[None, :] < valid_len[:, None]
    X[~mask] = value
    return X
'''

PROGRAM = '''
import numpy as np
import torch
import torch.nn.functional as F


''' + SEQUENCE_MASK + '''

def weighted(pred, w):
    l = F.mse_loss(pred, pred * 2, reduction='none')
    return l * w[:, None]


X = torch.arange(12, dtype=torch.float32).reshape(3, 4)
Xn = torch.tensor([[0.5, -1.0], [1.5, 0.25]])
b = torch.tensor([1, 2])
out = {
    'mask_int': sequence_mask(X.clone(), torch.tensor([1, 2, 3])),
    'mask_int32': sequence_mask(X.clone(), torch.tensor([0, 4, 2], dtype=torch.int32)),
    'mask_float': sequence_mask(X.clone(), torch.tensor([1.5, 2.5, 4.0])),
    'mask_f64': sequence_mask(X.clone(), torch.tensor([1.5, 2.5, 4.0], dtype=torch.float64)),
    'gan': torch.matmul(Xn, Xn) + b,
    'left': torch.tensor([3, 4]) * Xn,
    'div': Xn / torch.tensor([2, 4]),
    'pow': Xn ** torch.tensor([2, 3]),
    'f64': Xn.double() - b,
    'cmp': Xn >= torch.tensor([1, 0]),
    'bool': Xn * (Xn > 0),
    'loss': weighted(Xn, b),
    'loss_float': weighted(Xn, torch.tensor([0.5, 2.0])),
}
acc = torch.zeros(2)
acc += torch.arange(2)
out['aug'] = acc
np.savez(OUT, **{k: v.numpy() for k, v in out.items()})
'''


def test_promotions_compute_what_torch_computes(tmp_path: Path, shipped_planner: Planner) -> None:
    out = convert_source(PROGRAM, shipped_planner)
    assert out.error is None and not re.search(r"\btorch\.|import torch", out.code)
    assert sum(o.use.kind is UseKind.PROMOTE for o in out.outcomes) == 10
    (tmp_path / "torch_side.py").write_text(PROGRAM.replace("OUT", "'torch_out.npz'"))
    (tmp_path / "paddle_side.py").write_text(out.code.replace("OUT", "'paddle_out.npz'"))
    ran = run_without_torch("import torch_side", tmp_path, block=False)
    assert ran.returncode == 0, ran.stderr[-3000:]
    ran = run_without_torch("import paddle_side", tmp_path)
    assert ran.returncode == 0, ran.stderr[-3000:]
    want, got = np.load(tmp_path / "torch_out.npz"), np.load(tmp_path / "paddle_out.npz")
    assert sorted(want.files) == sorted(got.files)
    for key in want.files:
        assert got[key].dtype == want[key].dtype, (key, got[key].dtype, want[key].dtype)
        np.testing.assert_allclose(got[key], want[key], rtol=1e-6, err_msg=key)


# -- a torch class subclassed without an __init__ ---------------------------------------------------
# d2l's MaskedSoftmaxCELoss(nn.CrossEntropyLoss) has only a forward: its callers construct torch's
# CrossEntropyLoss, whose class axis is 1; Paddle's defaults to -1, so the rule's `defaults` (axis=1)
# must reach the inherited constructor.


def test_a_subclass_without_init_gets_the_arguments_torch_implies(shipped_planner: Planner) -> None:
    body = '''
    class Plain(nn.CrossEntropyLoss):
        pass

    class Documented(nn.CrossEntropyLoss):
        """A docstring stays first."""
        def forward(self, pred, label):
            return super().forward(pred, label)

    class Own(nn.CrossEntropyLoss):
        def __init__(self):
            super().__init__()

    class NoDefaults(nn.MSELoss):
        pass
    '''
    out = _convert(shipped_planner, body)
    assert dedent('''
    class Plain(paddle.nn.CrossEntropyLoss):
        def __init__(self, *args, **kwargs):  # what torch's CrossEntropyLoss constructor implies
            super().__init__(*args, **kwargs, axis=1)

        pass

    class Documented(paddle.nn.CrossEntropyLoss):
        """A docstring stays first."""

        def __init__(self, *args, **kwargs):  # what torch's CrossEntropyLoss constructor implies
            super().__init__(*args, **kwargs, axis=1)

        def forward(self, pred, label):
            return super().forward(pred, label)

    class Own(paddle.nn.CrossEntropyLoss):
        def __init__(self):
            super().__init__(axis=1)

    class NoDefaults(paddle.nn.MSELoss):
        pass
    ''') in out.code
    inherited = [o for o in out.outcomes if o.use.kind is UseKind.INHERITED_INIT]
    assert len(inherited) == 2 and all(o.applied and o.fix.tier is Tier.REVIEW for o in inherited)
    assert convert_source(out.code, shipped_planner).code == out.code


SEQ2SEQ_LOSS = '''
import numpy as np
import torch
from torch import nn


''' + SEQUENCE_MASK + '''

class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
    """d2l 0.17.6's, as written there."""
    def forward(self, pred, label, valid_len):
        weights = torch.ones_like(label)
        weights = sequence_mask(weights, valid_len)
        self.reduction='none'
        unweighted_loss = super(MaskedSoftmaxCELoss, self).forward(
            pred.permute(0, 2, 1), label)
        weighted_loss = (unweighted_loss * weights).mean(dim=1)
        return weighted_loss


pred = torch.linspace(-2.0, 3.0, 24).reshape(2, 3, 4)
label = torch.tensor([[0, 1, 3], [2, 2, 0]])
out = MaskedSoftmaxCELoss()(pred, label, torch.tensor([3, 1]))
np.save(OUT, out.numpy())
'''


def test_d2l_masked_softmax_loss_computes_what_torch_computes(tmp_path: Path, shipped_planner: Planner) -> None:
    out = convert_source(SEQ2SEQ_LOSS, shipped_planner)
    assert out.error is None and not re.search(r"\btorch\.|import torch", out.code)
    (tmp_path / "torch_side.py").write_text(SEQ2SEQ_LOSS.replace("OUT", "'torch_out.npy'"))
    (tmp_path / "paddle_side.py").write_text(out.code.replace("OUT", "'paddle_out.npy'"))
    for side, block in (("torch_side", False), ("paddle_side", True)):
        ran = run_without_torch(f"import {side}", tmp_path, block=block)
        assert ran.returncode == 0, ran.stderr[-3000:]
    want, got = np.load(tmp_path / "torch_out.npy"), np.load(tmp_path / "paddle_out.npy")
    assert got.dtype == want.dtype and got.shape == want.shape == (2,)
    np.testing.assert_allclose(got, want, rtol=1e-6)
