"""Training-loop code Paddle 3.3.1 refuses as written, converted so it runs as torch's does.

d2l's ``train_seq2seq`` takes ``net`` untyped, initialises it with ``type(m) == nn.Linear``
checks, moves it with ``net.to(device)`` (which Paddle's Layer.to fails on for a layer holding
an RNN) and clips gradients in place (``param.grad[:] *= theta / norm``, which Paddle refuses
on a gradient). Converted, it runs under paddle with torch blocked and computes torch's numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from paddleport.catalog import load_catalog
from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from tests.conftest import dedent, run_without_torch

PLANNER = Planner(load_catalog())

LOOP = dedent("""
    import torch
    from torch import nn


    def grad_clipping(net, theta):
        params = [p for p in net.parameters() if p.requires_grad]
        norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
        if norm > theta:
            for param in params:
                param.grad[:] *= theta / norm


    def train(net, x, device):
        def init(m):
            if type(m) == nn.Linear:
                nn.init.constant_(m.weight, 0.1)
                nn.init.zeros_(m.bias)
        net.apply(init)
        net.to(device)
        y, _ = net[0](x)
        loss = (net[1](y) ** 2).sum()
        loss.backward()
        grad_clipping(net, 0.01)
        return [p.grad for p in net.parameters()]


    def make():
        return nn.Sequential(nn.GRU(3, 4, batch_first=True), nn.Linear(4, 2))
""")

DRIVER = """
import numpy as np
import {framework} as fw
from loop_{framework} import train, make
{setup}
grads = train(net, fw.to_tensor(x) if hasattr(fw, 'to_tensor') else fw.from_numpy(x), 'cpu')
np.savez('{framework}.npz', *[g.numpy() for g in grads])
"""

TORCH_SETUP = """
torch = fw
net = make()
with torch.no_grad():
    for p in net[0].parameters():  # one value everywhere: the same function whatever the gate order
        p.fill_(0.1)
x = np.linspace(-1, 1, 2 * 5 * 3, dtype='float32').reshape(2, 5, 3)
"""

PADDLE_SETUP = """
net = make()
for p in net[0].parameters():
    p.set_value(fw.full(p.shape, 0.1))
x = np.linspace(-1, 1, 2 * 5 * 3, dtype='float32').reshape(2, 5, 3)
"""


def test_the_loop_converts_to_what_paddle_accepts() -> None:
    code = convert_source(LOOP, PLANNER).code
    assert "param.grad.detach()[:] *= theta / norm" in code
    assert "_paddleport_vision.layer_to(net, device)" in code  # `net.apply(init)` says net is a module
    assert "if type(m) == paddle.nn.Linear:" in code  # an exact-class test keeps the plain class
    assert convert_source(code, PLANNER).code == code


def test_the_converted_loop_computes_torchs_gradients(tmp_path: Path) -> None:
    (tmp_path / "loop_torch.py").write_text(LOOP, encoding="utf-8")
    (tmp_path / "loop_paddle.py").write_text(convert_source(LOOP, PLANNER).code, encoding="utf-8")
    done = run_without_torch(DRIVER.format(framework="torch", setup=TORCH_SETUP), tmp_path, block=False)
    assert done.returncode == 0, done.stderr[-2000:]
    done = run_without_torch(DRIVER.format(framework="paddle", setup=PADDLE_SETUP), tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    theirs, ours = np.load(tmp_path / "torch.npz"), np.load(tmp_path / "paddle.npz")
    assert len(theirs.files) == len(ours.files) == 6
    # the GRU's gate blocks may be ordered differently: their sums agree; the Linear's weight is .T
    gru = [(theirs[k].sum(), ours[k].sum()) for k in theirs.files[:4]]
    np.testing.assert_allclose([b for _, b in gru], [a for a, _ in gru], rtol=1e-4)
    np.testing.assert_allclose(ours["arr_4"].T, theirs["arr_4"], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(ours["arr_5"], theirs["arr_5"], rtol=1e-4, atol=1e-7)
    norm = np.sqrt(sum((theirs[k] ** 2).sum() for k in theirs.files))
    assert abs(norm - 0.01) < 1e-6  # clipped to theta: the in-place write reached the gradients
