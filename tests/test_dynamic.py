"""Dynamic access to torch modules and device/dtype keyword dicts: conversion specs and a real run."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from paddleport.analysis.uses import UseKind
from paddleport.rewrite.convert import Conversion, Outcome, convert_source
from paddleport.rewrite.fixes import Planner
from paddleport.rules.model import Tier
from tests.conftest import dedent, run_without_torch
from tests.test_convert import Convert

ROOT = Path(__file__).resolve().parent.parent


def _outcome(out: Conversion, kind: UseKind) -> Outcome:
    return next(o for o in out.outcomes if o.use.kind is kind)


# -- device/dtype dicts ------------------------------------------------------------


def test_factory_dict_is_emptied_and_its_splats_into_torch_calls_dropped(convert: Convert) -> None:
    before = """
    import torch
    import torch.nn as nn


    class Block(nn.Module):
        def __init__(self, dim, norm_layer=nn.BatchNorm2d, device=None, dtype=None):
            super().__init__()
            dd = {'device': device, 'dtype': dtype}
            self.fc = nn.Linear(dim, dim, **dd)
            self.norm = norm_layer(dim, **dd)
            self.inner = Inner(dim, **dd)
            self.w = torch.zeros(dim, **dd)
    """
    # the default class became one that takes torch's arguments (rewrite.adapters)
    after = """
    class Block(paddle.nn.Layer):
        def __init__(self, dim, norm_layer=_paddleport_layers.BatchNorm2d, device=None, dtype=None):
            super().__init__()
            dd = {}
            self.fc = paddle.nn.Linear(dim, dim)
            self.norm = norm_layer(dim)
            self.inner = Inner(dim, **dd)
            self.w = paddle.zeros(dim)
    """
    out = convert(before)
    assert out.code.startswith("import paddle\n\n\nclass _paddleport_layers:")
    assert out.code.endswith(dedent(after))
    definition = _outcome(out, UseKind.FACTORY_KWARGS)
    assert definition.applied and definition.fix.tier is Tier.REVIEW
    assert "paddle.set_default_dtype" in definition.fix.message
    linear = next(o for o in out.outcomes if o.use.api == "torch.nn.Linear")
    assert "drop **dd (device/dtype)" in linear.fix.message
    assert convert(out.code).code == out.code


def test_factory_dict_spellings(convert: Convert) -> None:
    before = """
    import torch.nn as nn

    def make(device=None, dtype=None):
        factory_kwargs = dict(device=device, dtype=dtype)
        return nn.Linear(2, 3, **factory_kwargs)

    def on_cpu():
        dd = {'device': None, 'dtype': None}
        return nn.Linear(2, 3, **dd)

    def get_device_dtype(module, device=None, dtype=None):
        return {'device': device, 'dtype': dtype}
    """
    out = convert(before)
    assert "factory_kwargs = {}\n" in out.code
    assert "return paddle.nn.Linear(2, 3)\n" in out.code
    assert "    return {}\n" in out.code
    tiers = [o.fix.tier for o in out.outcomes if o.use.kind is UseKind.FACTORY_KWARGS]
    assert tiers == [Tier.REVIEW, Tier.EXACT, Tier.REVIEW]  # values all None: nothing can change


def test_a_factory_dict_with_side_effects_keeps_them(convert: Convert) -> None:
    before = """
    import torch.nn as nn

    def popped(**kwargs):
        dd = {'device': kwargs.pop('device', None), 'dtype': kwargs.pop('dtype', None)}
        return nn.Linear(2, 3, **dd), norm(3, **dd), kwargs
    """
    after = """
    import paddle

    def popped(**kwargs):
        dd = {k: v for k, v in {'device': kwargs.pop('device', None), 'dtype': kwargs.pop('dtype', None)}.items() if v is not None}
        return paddle.nn.Linear(2, 3), norm(3, **dd), kwargs
    """
    out = convert(before)
    assert out.code == dedent(after)
    kwargs = {"device": None, "dtype": None, "bias": 1}
    dd = eval(out.code.split("dd = ", 1)[1].split("\n", 1)[0], {}, {"kwargs": kwargs})
    assert dd == {} and kwargs == {"bias": 1}  # popped as before: kwargs no longer carries them
    assert convert(out.code).code == out.code


def test_dicts_that_are_not_factory_dicts_stay(convert: Convert) -> None:
    before = """
    import torch.nn as nn

    def reassigned(device=None):
        dd = {'device': device}
        if device is None:
            dd = {'device': 'cpu'}
        return nn.Linear(2, 3, **dd)

    def never_splatted(device=None, dtype=None):
        meta = {'device': device, 'dtype': dtype}
        return meta

    def other_keys(device=None):
        opts = {'device': device, 'bias': False}
        return nn.Linear(2, 3, **opts)
    """
    out = convert(before)
    assert not [o for o in out.outcomes if o.use.kind is UseKind.FACTORY_KWARGS]
    assert "meta = {'device': device, 'dtype': dtype}" in out.code


def test_a_file_without_torch_keeps_its_device_dicts(convert: Convert) -> None:
    text = "def f(device=None):\n    dd = {'device': device}\n    return g(**dd)\n"
    assert convert(text).code == text


# -- hasattr / getattr with a literal name -------------------------------------------


def test_feature_probes_answer_for_the_converted_program(convert: Convert) -> None:
    before = """
    import torch
    import torch.nn.functional as F

    has_relu = hasattr(F, 'relu')
    has_sdpa = hasattr(torch.nn.functional, 'scaled_dot_product_attention')
    has_amp = hasattr(torch.cuda, 'amp')
    has_fwd = hasattr(torch.cuda.amp, 'custom_fwd')
    """
    after = """
    import paddle

    has_relu = hasattr(paddle.nn.functional, 'relu')
    has_sdpa = False
    has_amp = True
    has_fwd = False
    """
    out = convert(before)
    assert out.code == dedent(after)
    tiers = {o.use.api: o.fix.tier for o in out.outcomes if o.use.kind is UseKind.LOOKUP}
    assert tiers["torch.nn.functional.relu"] is Tier.EXACT
    assert tiers["torch.nn.functional.scaled_dot_product_attention"] is Tier.REVIEW
    assert convert(out.code).code == out.code


def test_membership_in_dir_is_the_same_probe(convert: Convert) -> None:
    before = """
    import torch
    import torch.nn.functional as F

    a = 'relu' in dir(F)
    b = 'silu' in dir(torch.nn.functional)
    c = 'relu' not in dir(F)
    names = dir(torch.nn)
    """
    after = """
    import paddle

    a = hasattr(paddle.nn.functional, 'relu')
    b = False
    c = not hasattr(paddle.nn.functional, 'relu')
    names = dir(_paddleport_torch_nn)
    """
    out = convert(before)
    body = out.code.split("ReLU = paddle.nn.ReLU\n", 1)[-1]
    assert out.code.startswith("import paddle\n\n\nclass _paddleport_torch_nn:")
    assert body.strip() == dedent(after).split("\n", 2)[2].strip()


def test_getattr_with_a_literal_is_the_attribute(convert: Convert) -> None:
    before = """
    import torch
    import torch.nn as nn

    act = getattr(nn, 'ReLU')(inplace=True)
    layer = getattr(nn, 'Linear')(2, 3, bias=True)
    cls = getattr(nn, 'Conv2d')
    dt = getattr(torch, 'float32')
    compile_fn = getattr(torch, 'compile', None)
    disable = getattr(getattr(torch, 'compiler', None), 'disable', None) or (lambda f: f)
    """
    after = """
    act = paddle.nn.ReLU()
    layer = paddle.nn.Linear(2, 3, bias_attr=None)
    cls = _paddleport_layers.Conv2d
    dt = paddle.float32
    compile_fn = None
    disable = getattr(None, 'disable', None) or (lambda f: f)
    """
    out = convert(before)
    assert out.code.endswith(dedent(after))
    # a class passed as a value takes torch's arguments wherever it is called (rewrite.adapters)
    assert "class Conv2d(paddle.nn.Conv2D):" in out.code


def test_a_called_getattr_default_stays_one_operand(convert: Convert) -> None:
    """vit-pytorch's AVX2 probe: the default a getattr becomes is called, so a lambda needs its
    parentheses (`lambda: False()` would bind the call inside and leave a truthy lambda)."""
    out = convert("import torch\navx2 = getattr(torch.cpu, '_is_avx2_supported', lambda: False)()\n")
    assert out.code.endswith("avx2 = (lambda: False)()\n")
    assert convert(out.code).code == out.code


def test_getattr_of_a_name_paddleport_cannot_map_stays(convert: Convert) -> None:
    out = convert("import torch\nf = getattr(torch, 'compile')\n")
    assert out.code == "import torch\nf = getattr(torch, 'compile')\n"
    assert "no paddleport rule" in out.outcomes[-1].fix.message


def test_a_local_getattr_is_not_the_builtin(convert: Convert) -> None:
    text = "import torch.nn as nn\n\ndef f(getattr):\n    return getattr(nn, 'ReLU')\n"
    assert convert(text).code == text


# -- runtime lookups ------------------------------------------------------------------


def _layers_block(code: str) -> str:
    """The adapter class rewrite.adapters writes (its own tests check it), with the blank lines after it."""
    start = code.index("class _paddleport_layers:")
    end = code.index("\n\n\n", start) + 3
    return code[start:end]


def test_runtime_lookups_use_one_generated_name_map(convert: Convert) -> None:
    before = """
    \"\"\"Blocks.\"\"\"
    import torch.nn as nn


    def make(name):
        if hasattr(nn, name):
            return getattr(nn, name)()
        return nn.__dict__.get(name, nn.ReLU)()
    """
    after = """
    \"\"\"Blocks.\"\"\"
    import paddle


    class _paddleport_torch_nn:
        \"\"\"torch.nn names whose Paddle equivalent takes the same positional arguments (generated by paddleport).\"\"\"

        Module = paddle.nn.Layer
        ReLU = paddle.nn.ReLU


    def make(name):
        if hasattr(_paddleport_torch_nn, name):
            return getattr(_paddleport_torch_nn, name)()
        return _paddleport_torch_nn.__dict__.get(name, _paddleport_layers.ReLU)()
    """
    out = convert(before)
    assert out.code.replace(_layers_block(out.code), "") == dedent(after)
    lookups = [o for o in out.outcomes if o.use.kind is UseKind.LOOKUP]
    assert len(lookups) == 3 and all(o.fix.tier is Tier.REVIEW for o in lookups)
    assert "2 names" in lookups[0].fix.message
    assert convert(out.code).code == out.code


def test_a_runtime_lookup_with_nothing_to_map_is_left_with_a_reason(convert: Convert) -> None:
    text = "import torch.cuda.amp as amp\nfn = getattr(amp, name)\n"
    out = convert(text)
    assert out.code == text
    assert "map the names by hand" in out.outcomes[-1].fix.message


def test_the_name_map_holds_calls_whose_positions_agree(shipped_planner: Planner) -> None:
    names = shipped_planner.rules.runtime_names("torch.nn")
    assert names["ReLU"] == "paddle.nn.ReLU" and names["GELU"] == "paddle.nn.GELU"
    assert names["LayerNorm"] == "paddle.nn.LayerNorm"  # eps → epsilon: positions agree
    assert "Conv2d" not in names  # bias=True → bias_attr=None: a value map
    assert not any(n.startswith("_") for n in names)
    functional = shipped_planner.rules.runtime_names("torch.nn.functional")
    assert functional["gelu"] == "paddle.nn.functional.gelu"
    assert shipped_planner.rules.runtime_names("torch")["float16"] == "paddle.float16"


# -- a timm-style module, converted and run under paddle alone --------------------------

TIMM_STYLE = '''
"""A block in timm's style: factory kwargs, activations by name, a fused-attention probe."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

_HAS_FUSED_ATTN = hasattr(F, 'scaled_dot_product_attention')
_HAS_FOREACH = hasattr(torch, '_foreach_copy_')


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int, act_name: str = 'GELU', norm_layer=nn.LayerNorm,
                 device=None, dtype=None):
        dd = {'device': device, 'dtype': dtype}
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden, **dd)
        self.act = getattr(nn, act_name)()
        self.norm = norm_layer(hidden, **dd)
        self.fc2 = nn.Linear(hidden, dim, **dd)
        self.gate = 'sigmoid'

    def forward(self, x):
        x = self.fc2(self.norm(self.act(self.fc1(x))))
        return x * getattr(F, self.gate)(x)


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int = 2, device=None, dtype=None):
        dd = {'device': device, 'dtype': dtype}
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, **dd)
        self.proj = nn.Linear(dim, dim, **dd)
        self.gamma = nn.Parameter(torch.ones(dim, **dd))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        if _HAS_FUSED_ATTN:
            x = F.scaled_dot_product_attention(q, k, v)
        else:
            attn = (q @ k.transpose(-2, -1)) * (C // self.num_heads) ** -0.5
            x = attn.softmax(dim=-1) @ v
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj(x) * self.gamma


class Block(nn.Module):
    def __init__(self, dim: int, act_name: str = 'GELU', device=None, dtype: Optional[torch.dtype] = None):
        super().__init__()
        dd = {'device': device, 'dtype': dtype}
        self.attn = Attention(dim, **dd)
        self.mlp = Mlp(dim, dim * 2, act_name=act_name, **dd)

    def forward(self, x):
        x = x + self.attn(x)
        return x + self.mlp(x)
'''

RUN = """
import numpy as np
import paddle
import block
paddle.seed(0)
for act in ('GELU', 'ReLU', 'SiLU'):
    m = block.Block(8, act_name=act)
    y = m(paddle.randn([2, 5, 8]))
    assert y.shape == [2, 5, 8], y.shape
    assert np.isfinite(y.numpy()).all()
assert block._HAS_FUSED_ATTN is True and block._HAS_FOREACH is True  # both convert (a helper, a formula)
print('ran', y.dtype)
"""


def test_timm_style_module_converts_and_runs_under_paddle_alone(
        tmp_path: Path, shipped_planner: Planner) -> None:  # fmt: skip
    out = convert_source(TIMM_STYLE, shipped_planner)
    assert out.error is None
    own = "\n".join(line for line in out.code.splitlines() if "generated by paddleport" not in line)
    assert "torch" not in re.sub(r"_paddleport_torch\w*", "", own)
    assert "**dd" not in out.code.split("class Block")[0]
    ast.parse(out.code)
    assert convert_source(out.code, shipped_planner).code == out.code
    (tmp_path / "block.py").write_text(out.code)
    run = run_without_torch(RUN, tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "ran paddle.float32" in run.stdout


# -- torch version checks -------------------------------------------------------------


def test_version_checks_fold_for_the_verified_torch_release(convert: Convert) -> None:
    before = """
    import torch

    new = torch.__version__ >= '2.0'
    old = torch.__version__ < (1, 12)
    later = '2.9' <= torch.__version__
    same = torch.__version__ >= '2.13'
    exact = torch.__version__ == '2.0'
    """
    out = convert(before)
    lines = out.code.splitlines()
    assert lines[2:5] == ["new = True", "old = False", "later = True"]  # torch compares as versions
    assert lines[5:7] == ["same = torch.__version__ >= '2.13'", "exact = torch.__version__ == '2.0'"]
    folded = [o for o in out.outcomes if o.use.kind is UseKind.LOOKUP and o.applied]
    assert len(folded) == 3 and all(o.fix.tier is Tier.REVIEW for o in folded)
    assert any("manual" in o.fix.message for o in out.outcomes if not o.applied)


def test_the_folding_release_is_the_pinned_torch() -> None:
    from importlib.metadata import version

    from paddleport.rewrite.dynamic import TORCH_VERSION

    assert version("torch").split("+")[0] == TORCH_VERSION
