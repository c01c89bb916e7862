"""torch.nn / functional transforms: torch text in, Paddle text out, through the shipped rules."""

from __future__ import annotations

import pytest

from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from tests.conftest import last_line_converted

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nx = torch.zeros(2, 3)\n"


@pytest.fixture(scope="module")
def planner(shipped_planner: Planner) -> Planner:
    return shipped_planner


def converted(planner: Planner, line: str) -> str:
    return last_line_converted(planner, HEAD, line)


@pytest.mark.parametrize(("before", "after"), [
    # BatchNorm: momentum flips, and positional momentum is named (Paddle takes it before epsilon)
    ("m = nn.BatchNorm2d(3, 1e-3, 0.3)", "m = paddle.nn.BatchNorm2D(3, epsilon=1e-3, momentum=0.7)"),
    ("m = nn.BatchNorm1d(3, momentum=m0)", "m = paddle.nn.BatchNorm1D(3, momentum=1 - m0)"),
    ("m = nn.BatchNorm2d(3)", "m = paddle.nn.BatchNorm2D(3)"),
    ("m = nn.BatchNorm2d(3, affine=False)", "m = paddle.nn.BatchNorm2D(3, weight_attr=False, bias_attr=False)"),
    ("m = nn.BatchNorm2d(3, track_running_stats=track)",
     "m = paddle.nn.BatchNorm2D(3, use_global_stats=None if track else False)"),
    ("m = nn.BatchNorm1d(3, affine=aff, track_running_stats=False)",
     "m = paddle.nn.BatchNorm1D(3, weight_attr=None if aff else False, bias_attr=None if aff else False, "
     "use_global_stats=False)"),
    # Conv: bias and later parameters are keyword-only in Paddle
    ("m = nn.Conv2d(3, 4, 3, 1, 1, 1, 1, False)",
     "m = paddle.nn.Conv2D(3, 4, 3, 1, 1, 1, 1, bias_attr=False)"),
    ("m = nn.ConvTranspose2d(4, 4, 3, 1, 0, 0, 2, True, 2)",
     "m = paddle.nn.Conv2DTranspose(4, 4, 3, 1, 0, 0, groups=2, bias_attr=None, dilation=2)"),
    # AvgPool: count_include_pad is exclusive negated, and torch's default needs spelling out
    ("m = nn.AvgPool2d(3, 2, 1)", "m = paddle.nn.AvgPool2D(3, 2, 1, exclusive=False)"),
    ("m = nn.AvgPool2d(3, 2, 1, True, False)",
     "m = paddle.nn.AvgPool2D(3, 2, 1, ceil_mode=True, exclusive=True)"),
    ("y = F.avg_pool2d(x, 2, count_include_pad=flag)",
     "y = paddle.nn.functional.avg_pool2d(x, 2, exclusive=not flag)"),
    # MaxPool: dilation=1 dropped, other flags named
    ("m = nn.MaxPool2d(2, 2, 0, 1, False, True)", "m = paddle.nn.MaxPool2D(2, 2, 0, return_mask=False, ceil_mode=True)"),
    # RNNs: batch_first → time_major, bidirectional → direction
    ("m = nn.LSTM(3, 4)", "m = paddle.nn.LSTM(3, 4, time_major=True)"),
    ("m = nn.GRU(3, 4, 2, batch_first=True, bidirectional=True)",
     "m = paddle.nn.GRU(3, 4, 2, time_major=False, direction='bidirect')"),
    ("m = nn.LSTM(3, 4, batch_first=bf, bidirectional=bi)",
     "m = paddle.nn.LSTM(3, 4, time_major=not bf, direction='bidirect' if bi else 'forward')"),
    # InstanceNorm: no affine parameters unless asked for, momentum dropped
    ("m = nn.InstanceNorm2d(3)", "m = paddle.nn.InstanceNorm2D(3, weight_attr=False, bias_attr=False)"),
    ("m = nn.InstanceNorm2d(3, affine=True, momentum=0.2)", "m = paddle.nn.InstanceNorm2D(3)"),
    # interpolate: an int size becomes one entry per spatial axis
    ("y = F.interpolate(x, 7)", "y = paddle.nn.functional.interpolate(x, [7] * (x.ndim - 2))"),
    ("y = F.interpolate(x, None, 2, 'bilinear', True)",
     "y = paddle.nn.functional.interpolate(x, None, 2, 'bilinear', True)"),
    # functional ordering and dtype fixes
    ("y = F.dropout(x, 0.3, False)", "y = paddle.nn.functional.dropout(x, 0.3, training=False)"),
    ("y = F.one_hot(x, 4)", "y = paddle.nn.functional.one_hot(x, 4).astype('int64')"),
    ("y = F.bilinear(x, x, w, b)", "y = paddle.nn.functional.bilinear(x, x, w, b.reshape([1, -1]))"),
    ("y = F.cross_entropy(x, t, w, None, 3)", "y = paddle.nn.functional.cross_entropy(x, t, w, ignore_index=3, axis=1)"),
    # Paddle's unweighted mean counts ignored targets when ignore_index < 0: sum / kept count
    ("y = F.cross_entropy(x, t, ignore_index=3)",
     "y = paddle.nn.functional.cross_entropy(x, t, ignore_index=3, axis=1, reduction='sum') "
     "/ (t != 3).astype('float32').sum()"),
    ("y = F.cross_entropy(x, t)",
     "y = paddle.nn.functional.cross_entropy(x, t, axis=1, reduction='sum') "
     "/ (t != -100).astype('float32').sum()"),
    ("y = F.cross_entropy(x, t.flatten())",
     "y = paddle.nn.functional.cross_entropy(x, (_labels := t.flatten()), axis=1, reduction='sum') "
     "/ (_labels != -100).astype('float32').sum()"),
    ("y = F.cross_entropy(x, t, w, reduction='none')",
     "y = paddle.nn.functional.cross_entropy(x, t, w, reduction='none', axis=1)"),
    ("y = F.grid_sample(x, g)", "y = paddle.nn.functional.grid_sample(x, g, align_corners=False)"),
    # a non-persistent Buffer is what Paddle makes of a tensor assigned to a Layer attribute
    ("b = nn.Buffer(x * 2, persistent=False)", "b = x * 2"),
    ("m = nn.Embedding(10, 4, padding_idx=0)", "m = paddle.nn.Embedding(10, 4, padding_idx=0)"),
    ("y = F.softmin(x + 1, dim=1)", "y = paddle.nn.functional.softmax(-(x + 1), axis=1)"),
    # rms_norm written out (no CPU kernel in Paddle 3.3.1)
    ("y = F.rms_norm(x, (4,), w)",
     "y = (lambda _x: _x * paddle.rsqrt(_x.pow(2).mean(axis=[-1], keepdim=True) "
     "+ paddle.finfo(_x.dtype).eps) * (1.0 if w is None else w))(x)"),
    # a shape held in a name: its length (1 for an int) gives the trailing axes at run time
    ("y = F.rms_norm(x, shape, w + 1, 1e-6)",
     "y = (lambda _x, _s: _x * paddle.rsqrt(_x.pow(2).mean(axis=list(range(-(1 if isinstance(_s, int) "
     "else len(_s)), 0)), keepdim=True) + 1e-6) * (w + 1))(x, shape)"),
    # pad_sequence written out: pad each first axis to the longest, stack on the batch axis
    ("y = nn.utils.rnn.pad_sequence(seqs, batch_first=True)",
     "y = paddle.stack([paddle.compat.nn.functional.pad(_s, [0, 0] * (_s.ndim - 1) + "
     "[0, max(_t.shape[0] for _t in seqs) - _s.shape[0]], value=0.0) for _s in seqs], axis=0)"),
    ("y = nn.utils.rnn.pad_sequence(get(), padding_value=-1, padding_side='left')",
     "y = (lambda _seqs: paddle.stack([paddle.compat.nn.functional.pad(_s, [0, 0] * (_s.ndim - 1) + "
     "[max(_t.shape[0] for _t in _seqs) - _s.shape[0], 0], value=-1) for _s in _seqs], axis=1))(get())"),
])  # fmt: skip
def test_nn_rewrites(planner: Planner, before: str, after: str) -> None:
    assert converted(planner, before) == after


@pytest.mark.parametrize("line", [
    "m = nn.Conv2d(3, 6, 3, padding='same', dilation=2)",  # Paddle's dilated 'same' is wrong
    "m = nn.Conv2d(3, 6, 3, padding=(1, 2), padding_mode='reflect')",  # Paddle needs an int
    "m = nn.MaxPool2d(3, dilation=2)",
    "m = nn.AvgPool2d(2, ceil_mode=True, divisor_override=3)",
    "m = nn.TransformerEncoderLayer(8, 2)",  # torch's default is sequence-first
    "m = nn.BatchNorm2d(3, momentum=None)",
    "m = nn.Upsample(size=7)",
    "loss = nn.MSELoss(size_average=flag)",  # the reduction it stands for is unknown
    "loss = nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)",
    "y = F.interpolate(x + 1, 7)",  # no name to read the rank from
    "b = nn.Buffer(x)",  # persistent: needs register_buffer
    "y = F.softmax(x)",  # torch's implicit dim depends on the rank
    "m = nn.Softmax()",
    "m = nn.Embedding(5, 3, padding_idx=0, _weight=w)",
])  # fmt: skip
def test_nn_refusals_leave_the_call(planner: Planner, line: str) -> None:
    out = convert_source(HEAD + line + "\n", planner, select=lambda fix: True)
    assert out.code.rstrip("\n").rsplit("\n", 1)[-1] == line
