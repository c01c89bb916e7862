"""Rules whose target is plain Python (`typing.Final`), and the imports they need."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

from paddleport.rewrite.convert import Conversion, convert_source
from paddleport.rewrite.fixes import Planner
from paddleport.rules.safe_code import target_problem
from tests.conftest import dedent, run_without_torch

Convert = Callable[..., Conversion]


@pytest.fixture
def convert(shipped_planner: Planner) -> Convert:
    """The shipped rules (the fixture rules have no torch.jit / torch.fx ones)."""
    return lambda before, **kw: convert_source(dedent(before), shipped_planner, **kw)


def test_torchscript_annotations_become_typing_with_its_import(convert: Convert) -> None:
    before = """
    import torch
    from torch.jit.annotations import List


    class A(torch.nn.Module):
        fused: torch.jit.Final[bool]

        def f(self, xs: List[torch.Tensor]):
            return torch.jit.annotate(List[torch.Tensor], [])
    """
    out = convert(dedent(before)).code
    assert "import typing\nimport paddle\n" in out
    assert "fused: typing.Final[bool]" in out and "xs: typing.List[paddle.Tensor]" in out
    assert "return []" in out and "torch" not in out


def test_a_bound_typing_name_is_not_imported_again(convert: Convert) -> None:
    out = convert("import typing\nimport torch\nx: torch.jit.Final[int] = 1\n").code
    assert out.count("import typing") == 1
    out = convert("import torch\ntyping = None\nx: torch.jit.Final[int] = 1\n").code
    assert "import typing" not in out  # the file's own `typing` is never shadowed


def test_converting_twice_changes_nothing(convert: Convert) -> None:
    once = convert("import torch\nx: torch.jit.Final[int] = 1\n").code
    assert convert(once).code == once
    ast.parse(once)


def test_fx_wrap_decorator_and_statement(convert: Convert) -> None:
    before = """
    import torch

    torch.fx.wrap('rot')


    @torch.fx.wrap
    def rot(x):
        return x
    """
    out = convert(dedent(before)).code
    assert "pass  # torch.fx.wrap('rot'): " in out
    assert "@paddle.jit.not_to_static\ndef rot" in out


def test_only_listed_stdlib_modules_are_targets() -> None:
    assert target_problem("typing.Final") is None
    assert target_problem("urllib.parse.urlparse") is None
    assert target_problem("paddle.nn.Conv2D") is None
    assert target_problem("os.system") is not None
    assert target_problem("typing.__dict__") is not None


def test_a_torch_module_as_annotation_is_quoted(convert: Convert) -> None:
    out = convert("import torch.nn.functional as F\n\ndef f(x, fmt: F = 'NCHW'):\n    return x\n")
    assert "fmt: 'F' = 'NCHW'" in out.code and "torch" not in out.code
    assert any("module used as an annotation" in o.fix.message for o in out.outcomes)


def test_a_factory_dict_spread_with_one_star_goes_for_review(convert: Convert) -> None:
    before = """
    import torch.nn as nn

    def f(c, device=None, dtype=None):
        dd = {'device': device, 'dtype': dtype}
        return nn.BatchNorm2d(c, *dd)
    """
    out = convert(dedent(before))
    assert "return paddle.nn.BatchNorm2D(c)" in out.code
    assert any("`*dd` dropped" in o.fix.message for o in out.outcomes)


def test_an_annotation_with_no_paddle_class_is_quoted(convert: Convert) -> None:
    out = convert("import torch\n\ndef f(opt: torch.optim.Optimizer = None):\n    return opt\n").code
    assert "opt: 'torch.optim.Optimizer' = None" in out and "import torch" not in out


def test_hub_helpers_become_plain_python_with_their_imports(convert: Convert) -> None:
    before = """
    from torch.hub import HASH_REGEX, urlparse

    def f(url):
        return urlparse(url), HASH_REGEX.search(url)
    """
    out = convert(dedent(before)).code
    assert out.startswith("import re\nimport urllib.parse\n")
    assert "return urllib.parse.urlparse(url), re.compile(r'-([a-f0-9]*)\\.').search(url)" in out


def test_inference_mode_false_is_a_null_context(convert: Convert) -> None:
    out = convert("import torch\nwith torch.inference_mode(False):\n    pass\n").code
    assert out == "import contextlib\nwith contextlib.nullcontext():\n    pass\n"


def test_star_args_convert_unless_they_can_reach_a_changed_parameter(convert: Convert) -> None:
    out = convert("import torch.nn as nn\n\ndef f(w, r):\n    nn.init.uniform_(w, *r)\n").code
    assert "paddle.nn.init.uniform_(w, *r)" in out  # only `generator`, unsupported and last, is beyond
    out = convert("import torch\n\ndef f(x, r):\n    return torch.sum(x, *r)\n").code
    assert "torch.sum(x, *r)" in out  # `dim` is renamed: left as written


def test_max_pool_with_a_dilation_name_is_guarded(convert: Convert) -> None:
    out = convert(
        "import torch.nn.functional as F\n\ndef f(x, d):\n    return F.max_pool2d(x, 2, 2, 0, d)\n"
    ).code
    assert (
        "NotImplementedError" in out
        and "if all(_d == 1 for _d in (d if isinstance(d, (list, tuple)) else [d]))" in out
    )


def test_super_init_of_a_torch_subclass_maps_the_bases_arguments(convert: Convert) -> None:
    before = """
    import torch.nn as nn

    class BNAct(nn.BatchNorm2d):
        def __init__(self, c, eps=1e-5, device=None, dtype=None):
            dd = {'device': device, 'dtype': dtype}
            super().__init__(c, eps=eps, **dd)
    """
    out = convert(dedent(before)).code
    assert "super().__init__(c, epsilon=eps" in out and "**dd" not in out and "torch" not in out


def test_a_tensor_only_method_types_a_parameter_and_inplace_ops_pick_by_type(convert: Convert) -> None:
    before = """
    import math
    import torch

    def trunc(tensor, mean, std):
        tensor.erfinv_()
        tensor.mul_(std * math.sqrt(2.0))
        tensor.add_(mean)
        return tensor
    """
    out = convert(dedent(before)).code
    assert ("(lambda _o: paddle.Tensor.mul_(tensor, _o) if isinstance(_o, paddle.Tensor) else tensor.scale_(_o))"
            "(std * math.sqrt(2.0))") in out  # fmt: skip
    assert convert(out).code == out
    assert "tensor.scale_(bias=_o))(mean)" in out


BN_ACT = """
import torch
import torch.nn as nn
import torch.nn.functional as F


class BNAct(nn.BatchNorm2d):
    def __init__(self, c, eps=1e-5, momentum=0.1, device=None, dtype=None):
        dd = {'device': device, 'dtype': dtype}
        super().__init__(c, eps=eps, momentum=momentum, **dd)

    def forward(self, x):
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            if self.num_batches_tracked is not None:
                self.num_batches_tracked.add_(1)
        x = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                         self.training, factor, self.eps)
        return F.relu(x)


def run():
    torch.manual_seed(0)
    m = BNAct(3, eps=1e-3, momentum=0.2)
    x = torch.arange(48, dtype=torch.float32).reshape(2, 3, 2, 4) / 10
    y = m(x)
    # (eval outputs differ by the documented running_var update: unbiased before, biased after)
    return [round(float(v), 4) for v in (y.sum(), m.running_mean.sum(), m.eps, m.momentum)]


print(run())
"""


def test_a_batchnorm_subclass_runs_the_same_under_paddle(convert: Convert, tmp_path: Path) -> None:
    """super().__init__ arguments and BatchNorm members (momentum, eps, track_running_stats,
    num_batches_tracked) of a torch subclass: torch's numbers from the converted code without torch."""
    out = convert(BN_ACT).code
    assert "torch" not in out.replace("torch.nn", "")
    (tmp_path / "bn.py").write_text(out)
    torch_run = run_without_torch(BN_ACT, tmp_path, block=False)
    paddle_run = run_without_torch("import runpy; runpy.run_path('bn.py')", tmp_path)
    assert paddle_run.returncode == 0, paddle_run.stderr[-2000:]
    assert torch_run.returncode == 0, torch_run.stderr[-2000:]
    assert paddle_run.stdout.strip() == torch_run.stdout.strip()
