"""A module using torch.utils._pytree and torch.func at module level (as x-transformers does:
``from torch.func import grad_and_value, vmap``, ``from torch.utils._pytree import tree_flatten, ...``)
converts to torch-free code whose helpers compute what torch computes."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from paddleport.lsp.documents import DocumentView
from paddleport.lsp.settings import Settings
from paddleport.lsp.state import diagnose
from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.edits import TextEdit, apply_edits
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


def _apply_fix(text: str, planner: Planner, code: str) -> str:
    """``text`` with the editor's quick fix of the first diagnostic ``code`` applied."""
    state = diagnose(DocumentView("file:///m.py", text, 1), planner, Settings())
    fix = next(d for d in state.diagnostics["file:///m.py"] if d["code"] == code)["data"]["fix"]
    lines = text.splitlines(keepends=True)

    def offset(pos: dict[str, int]) -> int:
        return sum(len(ln) for ln in lines[: pos["line"]]) + pos["character"]

    return apply_edits(text, [TextEdit(offset(e["range"]["start"]), offset(e["range"]["end"]), e["newText"])
                              for e in fix["edits"]])  # fmt: skip


def _members(text: str) -> set[str]:
    cls = next(s for s in ast.parse(text).body if isinstance(s, ast.ClassDef) and s.name == "_paddleport_vision")
    return {s.name for s in cls.body if isinstance(s, (ast.FunctionDef, ast.ClassDef))}


def test_a_quick_fix_after_another_adds_its_helpers_to_the_class_there(shipped_planner: Planner) -> None:
    """The first fix writes the helper class; the next one's helpers join it (before, a class already
    there was taken as holding everything, so `vmap(grad_and_value(f))` fixed one by one broke)."""
    text = "import torch\nfrom torch.func import grad_and_value, vmap\n\ny = vmap(grad_and_value(f))(t)\n"
    once = _apply_fix(text, shipped_planner, "torch.func.vmap")
    assert "vmap" in _members(once) and "grad_and_value" not in _members(once)
    twice = _apply_fix(once, shipped_planner, "torch.func.grad_and_value")
    assert {"vmap", "grad_and_value", "tree_flatten"} <= _members(twice)
    assert twice.count("class _paddleport_vision") == 1
    assert twice.endswith("y = _paddleport_vision.vmap(_paddleport_vision.grad_and_value(f))(t)\n")


def test_converting_a_file_whose_helper_class_lacks_a_member_adds_it(shipped_planner: Planner) -> None:
    earlier = convert_source("import torch\nout = torch.func.vmap(f)(x)\n", shipped_planner).code
    edited = earlier.replace("import paddle\n", "import paddle\nimport torch\n", 1) + "g = torch.func.grad(f)\n"
    later = convert_source(edited, shipped_planner).code
    assert "grad" not in _members(earlier) and {"vmap", "grad", "grad_and_value"} <= _members(later)
    assert later.count("class _paddleport_vision") == 1 and "import torch" not in later
    assert convert_source(later, shipped_planner).code == later
