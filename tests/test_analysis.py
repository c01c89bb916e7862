"""What the fast analysis finds: every import form, aliases, shadowing, confidence."""

from __future__ import annotations

import pytest

from paddleport.analysis.finder import analyze
from paddleport.analysis.uses import Confidence, UseKind
from paddleport.rules.loader import RuleSet
from tests.conftest import dedent


def apis(text: str, rules: RuleSet, *, kinds: set[UseKind] | None = None) -> list[str]:
    analysis = analyze(dedent(text), rules)
    return [u.api for u in analysis.uses
            if u.kind is not UseKind.IMPORT and (kinds is None or u.kind in kinds)]  # fmt: skip


@pytest.mark.parametrize(
    "source",
    [
        "import torch\ny = torch.sum(x)",
        "import torch as t\ny = t.sum(x)",
        "import torch.nn as nn\nm = nn.Conv2d(1, 1, 1)",
        "from torch import nn\nm = nn.Conv2d(1, 1, 1)",
        "from torch.nn import functional as F\ny = F.relu(x)",
        "import torch.nn.functional as F\ny = F.relu(x)",
        "from torch.nn import Linear\nm = Linear(1, 2)",
        "from torch.nn import Linear as L\nm = L(1, 2)",
        "import torch.nn\nm = torch.nn.Linear(1, 2)",
        "import torch.nn as nn\nL = nn.Linear\nm = L(1, 2)",
        "def f():\n    import torch\n    return torch.sum(x)",
    ],
    ids=["import", "import-as", "submodule-as", "from-import-module", "from-import-as",
         "dotted-as", "from-import-name", "from-import-name-as", "dotted-no-alias",
         "assigned-alias", "function-level-import"],
)
def test_every_import_form_resolves(source: str, rules: RuleSet) -> None:
    found = apis(source, rules)
    assert found and found[-1] in {"torch.sum", "torch.nn.Conv2d", "torch.nn.functional.relu",
                                   "torch.nn.Linear"}, found  # fmt: skip


def test_alias_call_is_a_call_through_the_alias(rules: RuleSet) -> None:
    analysis = analyze("import torch.nn as nn\nL = nn.Linear\nm = L(1, 2, bias=False)\n", rules)
    call = next(u for u in analysis.uses if u.kind is UseKind.CALL)
    assert call.api == "torch.nn.Linear" and call.via_alias


def test_local_named_torch_is_not_the_module(rules: RuleSet) -> None:
    source = """
    import torch

    def f(torch):
        return torch.sum(1)

    def g():
        torch = make()
        return torch.sum(2)

    y = torch.sum(x)
    """
    analysis = analyze(dedent(source), rules)
    lines = [analysis.source.position(u.focus_start)[0] for u in analysis.uses
             if u.api == "torch.sum"]  # fmt: skip
    assert lines == [10]


def test_try_import_fallback_keeps_torch_binding(rules: RuleSet) -> None:
    source = "try:\n    import torch\nexcept ImportError:\n    torch = None\ny = torch.sum(x)\n"
    assert apis(source, rules) == ["torch.sum"]


def test_global_declaration_reaches_module_binding(rules: RuleSet) -> None:
    source = "import torch\ndef f():\n    global torch\n    return torch.sum(x)\n"
    assert apis(source, rules) == ["torch.sum"]


def test_canonical_names(rules: RuleSet) -> None:
    source = """
    import torch
    from torch.nn.modules.linear import Linear
    a = torch.arccos(x)
    b = torch.concat([x, x])
    m = Linear(1, 2)
    """
    assert apis(source, rules) == ["torch.acos", "torch.cat", "torch.nn.Linear"]


def test_use_kinds(rules: RuleSet) -> None:
    source = """
    import torch
    import torch.nn as nn

    class M(nn.Module):
        def __init__(self, norm_layer=nn.BatchNorm2d):
            super().__init__()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            d = x.device
            return torch.zeros(2, dtype=torch.float32)
    """
    analysis = analyze(dedent(source), rules)
    kinds = [(u.api, u.kind) for u in analysis.uses if u.kind is not UseKind.IMPORT]
    assert kinds == [
        ("torch.nn.Module", UseKind.BASE),
        ("torch.nn.BatchNorm2d", UseKind.REFERENCE),
        ("torch.Tensor", UseKind.ATTRIBUTE),
        ("torch.Tensor", UseKind.ATTRIBUTE),
        ("torch.Tensor.device", UseKind.TENSOR_ATTRIBUTE),
        ("torch.zeros", UseKind.CALL),
        ("torch.float32", UseKind.ATTRIBUTE),
    ]


def test_imports_are_reported(rules: RuleSet) -> None:
    analysis = analyze("import torch, os\nfrom torch import nn\nimport numpy as np\n", rules)
    assert [(u.api, u.kind) for u in analysis.uses] == [
        ("torch", UseKind.IMPORT), ("torch", UseKind.IMPORT)]  # fmt: skip


def test_ranges_are_exact(rules: RuleSet) -> None:
    text = "import torch\ny = torch.sum(x, dim=1)  # total\n"
    use = next(u for u in analyze(text, rules).uses if u.kind is UseKind.CALL)
    assert text[use.start : use.end] == "torch.sum(x, dim=1)"
    assert text[use.focus_start : use.focus_end] == "torch.sum"


def test_ranges_are_in_characters_not_bytes(rules: RuleSet) -> None:
    text = "import torch\ns = 'ünïcödé'; y = torch.sum(x)\n"
    use = next(u for u in analyze(text, rules).uses if u.kind is UseKind.CALL)
    assert text[use.focus_start : use.focus_end] == "torch.sum"


def test_tensor_method_confidence(rules: RuleSet) -> None:
    source = """
    import numpy as np
    import torch

    def f(a: torch.Tensor, b, c):
        x = torch.zeros(2, 3)
        p = x.view(6)
        q = a.view(6)
        r = b.permute(1, 0)
        s = c.view(6)
        t = np.sum(c)
        return self.sum(1)
    """
    analysis = analyze(dedent(source), rules)
    conf = [(u.api, u.confidence) for u in analysis.uses if u.kind is UseKind.METHOD_CALL]
    assert conf == [
        ("torch.Tensor.view", Confidence.HIGH),
        ("torch.Tensor.view", Confidence.HIGH),
        ("torch.Tensor.permute", Confidence.MEDIUM),  # a tensor-only method name
        ("torch.Tensor.view", Confidence.LOW),  # numpy arrays have .view too
    ]


def test_forward_parameters_are_likely_tensors(rules: RuleSet) -> None:
    source = """
    import torch.nn as nn

    class M(nn.Module):
        def forward(self, x, scale=2):
            return x.view(-1)
    """
    analysis = analyze(dedent(source), rules)
    (use,) = [u for u in analysis.uses if u.kind is UseKind.METHOD_CALL]
    assert use.confidence is Confidence.MEDIUM


def test_ignore_comment_hides_the_line(rules: RuleSet) -> None:
    source = "import torch\na = torch.sum(x)  # paddleport: ignore\nb = torch.sum(x)\n"
    analysis = analyze(source, rules)
    assert [analysis.source.position(u.focus_start)[0] for u in analysis.uses
            if u.kind is UseKind.CALL] == [3]  # fmt: skip


def test_syntax_error_is_reported_not_raised(rules: RuleSet) -> None:
    analysis = analyze("import torch\ny = torch.sum(x\n", rules)
    assert analysis.uses == [] and analysis.syntax_error is not None
    assert analysis.syntax_error.line in (2, 3)


@pytest.mark.parametrize("junk", ["\0\0binary", "x = (" * 500, "", "\n\n", "# only a comment"])
def test_junk_does_not_raise(junk: str, rules: RuleSet) -> None:
    analyze(junk, rules)


def test_submodule_applied_to_a_tensor_gives_a_tensor(rules: RuleSet) -> None:
    source = """
    import torch.nn as nn

    class M(nn.Module):
        def forward(self, x):
            out = self.proj(x)
            return out.view(2, -1)
    """
    analysis = analyze(dedent(source), rules)
    (use,) = [u for u in analysis.uses if u.kind is UseKind.METHOD_CALL]
    assert use.confidence is Confidence.MEDIUM


def test_tensor_attributes_of_self(rules: RuleSet) -> None:
    source = """
    import torch
    import torch.nn as nn

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.zeros(4)
            self.register_buffer("index", torch.zeros(2, 2))
            self.name = "m"

        def f(self):
            return self.scale.view(2, 2), self.index.view(-1), self.name.view(1)
    """
    analysis = analyze(dedent(source), rules)
    conf = [u.confidence for u in analysis.uses
            if u.kind is UseKind.METHOD_CALL and u.api == "torch.Tensor.view"]  # fmt: skip
    # `self.name` holds a str: never a possible tensor
    assert conf == [Confidence.MEDIUM, Confidence.MEDIUM]
