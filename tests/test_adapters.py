"""Torch layer classes passed as values become Paddle subclasses that take torch's arguments.

Every adapter is proved the way rules are: each example of its rule is rewritten so the
class is called through a value (``[nn.Linear][0](4, 3, bias=False)``), which only the
adapter can serve, and run under torch and, converted, under paddle.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from paddleport import verify
from paddleport.catalog import load_catalog
from paddleport.rewrite.adapters import is_layer
from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from paddleport.rules.model import Rule
from tests.conftest import dedent, run_without_torch

CATALOG = load_catalog()
PLANNER = Planner(CATALOG)
ADAPTED = sorted((r for r in CATALOG if is_layer(r) and not r.unverifiable_here and PLANNER.value_class(r)),
                 key=lambda r: r.api)  # fmt: skip


GUARD = "paddleport converts only the default here"


def _through_a_value(rule: Rule) -> list[Rule]:
    """One rule per example that calls the class, called through a value instead."""
    short = rule.api.rsplit(".", 1)[-1]
    pattern = re.compile(rf"\bnn\.{short}\(")
    return [dataclasses.replace(rule, api=f"{rule.api}@{i}", examples=(dataclasses.replace(
                ex, code=pattern.sub(f"[nn.{short}][0](", ex.code)),))
            for i, ex in enumerate(rule.examples) if pattern.search(ex.code)]  # fmt: skip


@pytest.fixture(scope="module")
def verdicts() -> dict[str, verify.Verdict]:
    return verify.verify([r for rule in ADAPTED for r in _through_a_value(rule)], PLANNER)


def test_the_common_layers_have_adapters() -> None:
    names = {r.api.rsplit(".", 1)[-1] for r in ADAPTED}
    assert {"Linear", "Conv2d", "BatchNorm2d", "LayerNorm", "GroupNorm", "ReLU", "SiLU",
            "Hardswish", "AvgPool2d", "MaxPool2d", "Dropout"} <= names


@pytest.mark.parametrize("api", [r.api for r in ADAPTED])
def test_adapter_computes_what_torch_does(api: str, verdicts: dict[str, verify.Verdict]) -> None:
    """Each example through a value: the same numbers as torch, or a guard's loud refusal of
    an argument value the adapter cannot map; at least one example computes."""
    rule = CATALOG.get(api)
    assert rule is not None
    variants = _through_a_value(rule)
    assert variants, f"no example of {api} calls the class as nn.{api.rsplit('.', 1)[-1]}(...)"
    code = verify.PRELUDE + variants[0].examples[0].code
    assert str(PLANNER.value_class(rule)) in convert_source(code, PLANNER, select=lambda f: True).code
    results = [verdicts[v.api] for v in variants]
    assert any(v.verified for v in results), [v.reason for v in results]
    for v in results:
        assert v.verified or GUARD in v.reason or "Paddle returns the indices" in v.reason, v.reason


TIMM_STYLE = dedent("""
    from functools import partial
    import torch
    import torch.nn as nn

    _ACT = dict(relu=nn.ReLU, silu=nn.SiLU, hard_swish=nn.Hardswish)


    class Mlp(nn.Module):
        def __init__(self, dim, hidden, use_conv=False, act_layer=nn.GELU, norm_layer=None, bias=True,
                     device=None, dtype=None):
            super().__init__()
            dd = {'device': device, 'dtype': dtype}
            linear_layer = partial(nn.Conv2d, kernel_size=1) if use_conv else nn.Linear
            self.fc1 = linear_layer(dim, hidden, bias=bias, **dd)
            self.act = act_layer(inplace=True) if act_layer is _ACT['relu'] else act_layer()
            self.norm = norm_layer(hidden) if norm_layer is not None else nn.Identity()
            self.fc2 = linear_layer(hidden, dim, bias=bias, **dd)
            self.pool = (nn.AvgPool2d if use_conv else nn.Identity)(2, ceil_mode=True, count_include_pad=False)

        def forward(self, x):
            return self.pool(self.fc2(self.norm(self.act(self.fc1(x)))))


    def make(act, conv):
        norm = partial(nn.BatchNorm2d, eps=1e-3, momentum=0.2) if conv else partial(nn.LayerNorm, eps=1e-6)
        return Mlp(6, 8, use_conv=conv, act_layer=_ACT[act], norm_layer=norm, bias=not conv)


    models = [make('relu', False), make('hard_swish', True), make('silu', True)]
    for m in models:
        m.eval()
""")

TORCH_DRIVER = """
import sys
import numpy as np
import torch
sys.path.insert(0, '.')
from block_torch import models
rng = np.random.default_rng(0)
inputs = [rng.standard_normal((3, 6)), rng.standard_normal((2, 6, 5, 5)), rng.standard_normal((2, 6, 5, 5))]
weights, outputs = {}, {}
for i, (m, x) in enumerate(zip(models, inputs)):
    weights.update({f'{i}.{k}': v.numpy() for k, v in m.state_dict().items()})
    outputs[str(i)] = m(torch.tensor(x, dtype=torch.float32)).detach().numpy()
np.savez('weights.npz', **weights)
np.savez('torch_out.npz', **outputs)
"""

PADDLE_DRIVER = """
import sys
import numpy as np
import paddle
sys.path.insert(0, '.')
from block_paddle import models
rng = np.random.default_rng(0)
inputs = [rng.standard_normal((3, 6)), rng.standard_normal((2, 6, 5, 5)), rng.standard_normal((2, 6, 5, 5))]
weights = np.load('weights.npz')
torch_names = {'_mean': 'running_mean', '_variance': 'running_var'}
outputs = {}
for i, (m, x) in enumerate(zip(models, inputs)):
    state = {}
    for k in m.state_dict():
        head, _, last = k.rpartition('.')
        state[k] = paddle.to_tensor(weights[f'{i}.{head}.{torch_names.get(last, last)}'])
    m.set_state_dict(state)
    outputs[str(i)] = m(paddle.to_tensor(x, dtype='float32')).numpy()
np.savez('paddle_out.npz', **outputs)
"""


def test_a_timm_style_block_passes_layers_as_values_and_computes_what_torch_does(tmp_path: Path) -> None:
    """Conditional partials, a class map, `act_layer(inplace=True)`, `**dd`: converted, the block
    runs under paddle with torch blocked and gives torch's outputs with torch's weights (a
    Linear passed as a value keeps torch's layout, so no weight is transposed)."""
    import numpy as np

    (tmp_path / "block_torch.py").write_text(TIMM_STYLE, encoding="utf-8")
    conv = convert_source(TIMM_STYLE, PLANNER)
    assert "import torch" not in conv.code and "_paddleport_layers.Hardswish" in conv.code
    assert "else paddle.compat.nn.Linear" in conv.code
    assert "self.act = act_layer(inplace=True)" in conv.code  # calls through values keep torch's arguments
    (tmp_path / "block_paddle.py").write_text(conv.code, encoding="utf-8")
    done = run_without_torch(TORCH_DRIVER, tmp_path, block=False)
    assert done.returncode == 0, done.stderr[-2000:]
    done = run_without_torch(PADDLE_DRIVER, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    ours, theirs = np.load(tmp_path / "paddle_out.npz"), np.load(tmp_path / "torch_out.npz")
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4, atol=1e-5)


def test_an_exact_class_test_keeps_the_plain_class_and_an_identity_test_the_adapter() -> None:
    """`type(m) == nn.Linear` asks about layers built by direct calls (Paddle's own classes);
    `act_layer is nn.ReLU` compares a value that may hold the adapter, so it names the adapter."""
    code = convert_source(dedent("""
        import torch.nn as nn

        def init(m, act_layer=nn.ReLU):
            if type(m) == nn.Linear or m.__class__ is nn.GRU:
                pass
            return act_layer is nn.ReLU
    """), PLANNER).code
    assert "if type(m) == paddle.nn.Linear or m.__class__ is paddle.nn.GRU:" in code
    assert "def init(m, act_layer=_paddleport_layers.ReLU):" in code
    assert "return act_layer is _paddleport_layers.ReLU" in code


def test_a_quick_fix_brings_the_adapter_class_it_names() -> None:
    """Applied alone (an editor's quick fix), the reference's fix also inserts the class."""
    from paddleport.analysis.finder import analyze
    from paddleport.lsp.diagnostics import fix_edits
    from paddleport.rewrite.convert import plan
    from paddleport.rewrite.edits import apply_edits

    text = dedent("""
        import torch.nn as nn

        def block(act_layer=nn.ReLU):
            return act_layer(inplace=True)
    """)
    (fix,) = [f for f in plan(analyze(text, CATALOG), PLANNER) if f.replacement == "_paddleport_layers.ReLU"]
    fixed = apply_edits(text, fix_edits(fix, text))
    assert "class _paddleport_layers:" in fixed and "class ReLU(paddle.nn.ReLU):" in fixed
    assert "def block(act_layer=_paddleport_layers.ReLU):" in fixed
    compile(fixed, "fixed.py", "exec")


def test_a_from_import_of_classes_used_only_as_values_goes() -> None:
    """`from torch.nn import LSTM, GRU` whose names now appear only inside the generated adapter
    class (`class GRU(paddle.nn.GRU)`) is no longer needed: it must not keep torch imported."""
    code = convert_source(dedent("""
        from functools import partial
        from torch.nn import LSTM, GRU, Module

        class Up(Module):
            def __init__(self, use_gru=False):
                super().__init__()
                self.net = partial(LSTM if not use_gru else GRU, batch_first=True)(4, 8)
    """), PLANNER).code
    assert "torch" not in code
    assert "partial(_paddleport_layers.LSTM if not use_gru else _paddleport_layers.GRU" in code
