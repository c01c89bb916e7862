"""A module using torch.utils._pytree and torch.func at module level (as x-transformers does:
``from torch.func import grad_and_value, vmap``, ``from torch.utils._pytree import tree_flatten, ...``)
converts to torch-free code whose helpers compute what torch computes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from tests.conftest import dedent, run_without_torch

SOURCE = dedent("""
    import math

    import torch
    import torch.utils._pytree as pytree
    from torch import nn
    from torch.func import functional_call, grad, grad_and_value, vmap
    from torch.nn.utils.stateless import functional_call as stateless_call
    from torch.utils._pytree import tree_flatten, tree_map, tree_unflatten


    def detach_all(obj):
        return tree_map(lambda t: t.detach() if torch.is_tensor(t) else t, obj)


    def cosine_schedule(t):
        return torch.cos(t * math.pi * 0.5)


    class Block(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(dim, dim * 2), nn.GELU(), nn.Linear(dim * 2, dim))

        def forward(self, x):
            out = (self.net(x), {"mean": x.mean(-1)})
            (first, *rest), spec = tree_flatten(out)
            return tree_unflatten((first + x, *rest), spec)


    class Wrapper(nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module
            self.batch_params = None
            self.loss_weight = vmap(grad_and_value(cosine_schedule))

        def forward(self, x):
            if self.batch_params is None:
                return self.module(x)

            def call_single(params, xs):
                return functional_call(self.module, params, (xs,))

            return vmap(call_single)(self.batch_params, x)


    def build():
        return Wrapper(Block(4))


    def run(model, x, times):
        plain = model(x)
        shared = vmap(lambda p, xs: stateless_call(model.module, p, (xs,)), in_dims=(None, 0))(
            dict(model.module.named_parameters()), x)
        model.batch_params = pytree.tree_map(
            lambda t: torch.stack([t.detach() * (1 + 0.1 * i) for i in range(x.shape[0])]),
            dict(model.module.named_parameters()))
        per_sample = model(x)
        g, value = model.loss_weight(times)
        curvature = vmap(grad(grad(cosine_schedule)))(times)
        return detach_all((plain, shared, per_sample, g / (2.0 - value), curvature)), pytree.tree_leaves(per_sample)
    """)

# Each side builds the model, gives it the same weights (Paddle's Linear weight is torch's transposed) and
# prints the result's numbers.
HARNESS = dedent("""
    import json
    import numpy as np
    import {fw}
    from side import build, run

    def plain(v):
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {{k: plain(x) for k, x in v.items()}}
        return np.asarray(v.numpy(), dtype="float64").tolist()

    model = build()
    rng = np.random.default_rng(0)
    for name, p in model.named_parameters():
        shape = list(p.shape)[::-1] if {transpose} and len(p.shape) == 2 else list(p.shape)
        arr = rng.uniform(-0.5, 0.5, size=shape).astype("float32")
        {assign}
    x = {fw}.{make}(rng.standard_normal((3, 4)).astype("float32"))
    times = {fw}.{make}(rng.random(5).astype("float32"))
    print(json.dumps(plain(run(model, x, times))))
    """)


def _close(a: object, b: object) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for k in a:
            _close(a[k], b[k])
    elif isinstance(a, list) and a and isinstance(a[0], (list, dict)):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _close(x, y)
    else:
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-5, atol=1e-6)


def test_pytree_and_func_module_runs_without_torch_as_torch(shipped_planner: Planner, tmp_path: Path) -> None:
    converted = convert_source(SOURCE, shipped_planner).code
    head, _, program = converted.partition("\nclass _paddleport_vision")
    assert "torch" not in head and "torch" not in program.partition("\ndef detach_all")[2]
    for name in ("vmap", "grad_and_value", "grad", "functional_call", "tree_flatten", "tree_unflatten", "tree_map",
                 "tree_leaves"):
        assert f"_paddleport_vision.{name}(" in converted, name
    torch_dir, paddle_dir = tmp_path / "torch", tmp_path / "paddle"
    torch_dir.mkdir()
    paddle_dir.mkdir()
    (torch_dir / "side.py").write_text(SOURCE)
    (paddle_dir / "side.py").write_text(converted)
    torch_code = HARNESS.format(fw="torch", make="tensor", transpose=False,
                                assign="p.data.copy_(torch.tensor(arr))")
    expected = subprocess.run([sys.executable, "-c", torch_code], cwd=torch_dir, capture_output=True, text=True,
                              check=True)  # fmt: skip
    paddle_code = HARNESS.format(fw="paddle", make="to_tensor", transpose=True, assign="p.set_value(arr.T if "
                                 "len(p.shape) == 2 else arr)")  # fmt: skip
    got = run_without_torch(paddle_code, paddle_dir)
    assert got.returncode == 0, got.stderr[-3000:]
    want = json.loads(expected.stdout.strip().splitlines()[-1])
    _close(want, json.loads(got.stdout.strip().splitlines()[-1]))
    (plain, shared, per_sample, weight, curvature), leaves = want
    _close(plain, shared)  # the module's own parameters passed in: its own output
    assert np.abs(np.asarray(per_sample[0]) - np.asarray(plain[0])).max() > 1e-3  # the per-sample weights count
    assert len(weight) == 5 and len(curvature) == 5 and len(leaves) == 2


def test_converting_twice_changes_nothing(shipped_planner: Planner) -> None:
    once = convert_source(SOURCE, shipped_planner).code
    assert convert_source(once, shipped_planner).code == once


EDGES = dedent("""
    import collections

    import torch
    from torch import nn
    from torch.func import functional_call, vmap
    from torch.utils._pytree import tree_flatten, tree_leaves, tree_map_only, tree_unflatten

    Pair = collections.namedtuple("Pair", "a b")


    def edges(m, x):
        weight = m.weight
        try:
            functional_call(m, {"weight": weight * 0}, (x, "an argument too many"))
        except TypeError:
            pass
        restored = m.weight is weight and bool((m(x) == m(x)).all())
        tree = {"z": [None, Pair(1, (2.5, "s"))], "y": collections.OrderedDict(k=[3])}
        leaves, spec = tree_flatten(tree)
        back = tree_unflatten(leaves, spec)
        swapped = tree_map_only(int, lambda v: -v, tree)
        try:
            vmap(lambda a, b: a + b)(x, x[:1])
            sizes = "no error"
        except ValueError:
            sizes = "ValueError"
        return [restored, repr(leaves), back == tree, type(back["y"]).__name__, type(back["z"][1]).__name__,
                repr(tree_leaves(swapped)), sizes]
    """)


def test_restores_on_error_and_keeps_torch_pytree_structure(shipped_planner: Planner, tmp_path: Path) -> None:
    """functional_call puts the parameters back when the call raises; None is a leaf and
    namedtuples and OrderedDicts come back as themselves, as in torch; vmap refuses unequal batches."""
    converted = convert_source(EDGES, shipped_planner).code
    assert "import torch" not in converted and "from torch" not in converted
    (tmp_path / "torch_side.py").write_text(EDGES)
    (tmp_path / "paddle_side.py").write_text(converted)
    call = "import json, {1}; from {0}_side import edges; print(json.dumps(edges({1}.nn.Linear(3, 2), {2})))"
    expected = subprocess.run([sys.executable, "-c", call.format("torch", "torch", "torch.ones(4, 3)")],
                              cwd=tmp_path, capture_output=True, text=True, check=True)  # fmt: skip
    got = run_without_torch(call.format("paddle", "paddle", "paddle.ones([4, 3])"), tmp_path)
    assert got.returncode == 0, got.stderr[-3000:]
    want = json.loads(expected.stdout.strip().splitlines()[-1])
    assert json.loads(got.stdout.strip().splitlines()[-1]) == want
    assert want == [True, "[None, 1, 2.5, 's', 3]", True, "OrderedDict", "Pair", "[None, -1, 2.5, 's', -3]",
                    "ValueError"]
