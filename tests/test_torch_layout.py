"""Layers whose weight the code reads in torch's layout keep it: ``paddle.compat.nn.Linear``.

Paddle's own Linear stores ``[in, out]``; code that passes a layer's weight to ``F.linear``,
writes into it by index, or subclasses ``nn.Linear`` and reads ``self.weight`` expects
torch's ``[out, in]``, so those layers (and only those) become the compat class.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from paddleport.catalog import load_catalog
from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from tests.conftest import dedent, run_without_torch

PLANNER = Planner(load_catalog())

MODEL = dedent("""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Linear(nn.Linear):
        def forward(self, input):
            if torch.jit.is_scripting():
                bias = self.bias.to(dtype=input.dtype) if self.bias is not None else None
                return F.linear(input, self.weight.to(dtype=input.dtype), bias=bias)
            return F.linear(input, self.weight, self.bias)


    class Attn(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.qkv = nn.Linear(dim, dim * 3, bias=False)
            self.q_bias = nn.Parameter(torch.zeros(dim * 3))
            self.proj = nn.Linear(dim, dim)
            self.pos = nn.Linear(3, dim)
            self.head = Linear(dim, 2, bias=True)

        def init_pos(self):
            with torch.no_grad():
                self.pos.weight.data[0, 2] = -1.5

        def forward(self, x, rel):
            qkv = F.linear(x, weight=self.qkv.weight, bias=self.q_bias)
            return self.head(self.proj(qkv[..., :4] + self.pos(rel)))


    torch.manual_seed(0)
    model = Attn(4)
    model.eval()
""")

TORCH_DRIVER = """
import numpy as np, torch
from model_torch import model
model.init_pos()
rng = np.random.default_rng(0)
x, rel = rng.standard_normal((2, 5, 4)).astype('float32'), rng.standard_normal((2, 5, 3)).astype('float32')
np.savez('weights.npz', **{k: v.numpy() for k, v in model.state_dict().items()})
np.save('torch_out.npy', model(torch.from_numpy(x), torch.from_numpy(rel)).detach().numpy())
"""

PADDLE_DRIVER = """
import numpy as np, paddle
from model_paddle import model
weights = np.load('weights.npz')
layers = dict(model.named_sublayers())
state = {}
for k in model.state_dict():
    owner, _, name = k.rpartition('.')
    value = weights[k]
    if name == 'weight' and type(layers[owner]) is paddle.nn.Linear:  # Paddle's own layout: [in, out]
        value = value.T
    state[k] = paddle.to_tensor(value)
model.set_state_dict(state)
model.init_pos()
rng = np.random.default_rng(0)
x, rel = rng.standard_normal((2, 5, 4)).astype('float32'), rng.standard_normal((2, 5, 3)).astype('float32')
np.save('paddle_out.npy', model(paddle.to_tensor(x), paddle.to_tensor(rel)).numpy())
"""


def test_layers_read_in_torchs_layout_become_the_compat_class() -> None:
    code = convert_source(MODEL, PLANNER).code
    assert "class Linear(paddle.compat.nn.Linear):" in code  # its forward reads self.weight
    assert "self.qkv = paddle.compat.nn.Linear(dim, dim * 3, bias=False)" in code  # F.linear reads it
    assert "self.pos = paddle.compat.nn.Linear(3, dim)" in code  # written into by index
    assert "self.proj = paddle.nn.Linear(dim, dim)" in code  # nothing reads it by hand
    assert "self.head = Linear(dim, 2, bias=True)" in code  # the subclass keeps torch's arguments
    assert convert_source(code, PLANNER).code == code


def test_they_compute_what_torch_does_with_torchs_weights(tmp_path: Path) -> None:
    (tmp_path / "model_torch.py").write_text(MODEL, encoding="utf-8")
    (tmp_path / "model_paddle.py").write_text(convert_source(MODEL, PLANNER).code, encoding="utf-8")
    done = run_without_torch(TORCH_DRIVER, tmp_path, block=False)
    assert done.returncode == 0, done.stderr[-2000:]
    done = run_without_torch(PADDLE_DRIVER, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    ours, theirs = np.load(tmp_path / "paddle_out.npy"), np.load(tmp_path / "torch_out.npy")
    assert ours.shape == (2, 5, 2)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
