"""Object types: what the analysis knows about values built from torch, and the member rules it applies.

Specs of types inferred (which member rule a use gets, and what is never a tensor)
and of conversions (before → after), against the shipped rules.
"""

from __future__ import annotations

import pytest

from paddleport.analysis import objtypes as ot
from paddleport.analysis.finder import analyze
from paddleport.analysis.uses import UseKind
from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from paddleport.rules.loader import RuleSet
from tests.conftest import dedent

HEAD = "import numpy as np\nimport torch\nimport torch.nn as nn\n"


def members(source: str, rules: RuleSet, facts: ot.TypeFacts | None = None) -> list[tuple[str, str]]:
    """(source text of the focus, api) of each member use of a non-tensor torch object."""
    text = HEAD + dedent(source)
    analysis = analyze(text, rules, facts)
    return [(text[u.focus_start : u.focus_end], u.api) for u in analysis.uses
            if u.kind in (UseKind.METHOD_CALL, UseKind.TENSOR_ATTRIBUTE)
            and not u.api.startswith("torch.Tensor.")]  # fmt: skip


def tensor_uses(source: str, rules: RuleSet) -> list[str]:
    text = HEAD + dedent(source)
    return [text[u.start : u.end] for u in analyze(text, rules).uses if u.api.startswith("torch.Tensor.")]


def test_mro_reaches_the_class_that_defines_a_member() -> None:
    facts = ot.TypeFacts(bases={"local:Net": ("torch.nn.Module",)})
    assert facts.mro("torch.nn.BatchNorm2d") == ["torch.nn.BatchNorm2d", "torch.nn._BatchNorm", ot.MODULE]
    assert facts.mro("torch.optim.AdamW") == ["torch.optim.AdamW", ot.OPTIMIZER]
    assert facts.mro("torch.optim.lr_scheduler.StepLR")[-1] == ot.SCHEDULER
    assert facts.torch_base("local:Net") == ot.MODULE
    assert facts.mro("torch.nn.Parameter")[-1] == ot.TENSOR
    assert not ot.is_torch_class("torch.nn.functional.Foo")


def test_optimizer_and_scheduler_members(shipped_rules: RuleSet) -> None:
    source = """
    model = nn.Linear(2, 3)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, 2)
    opt.zero_grad(set_to_none=True)
    print(sched.get_last_lr(), sched.last_epoch)
    """
    assert members(source, shipped_rules) == [
        ("parameters", "torch.nn.Module.parameters"),
        ("zero_grad", "torch.optim.Optimizer.zero_grad"),
        ("get_last_lr", "torch.optim.lr_scheduler.LRScheduler.get_last_lr"),
        ("last_epoch", "torch.optim.lr_scheduler.LRScheduler.last_epoch"),
    ]


def test_module_subclass_self_attributes_and_containers(shipped_rules: RuleSet) -> None:
    source = """
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm2d(3)
            self.convs = nn.ModuleList([nn.Conv2d(3, 3, 1)])

    class Net(Block):
        def stats(self):
            for name, m in self.named_modules():
                pass
            return self.bn.running_mean, self.convs[0].apply(fn), super().named_children()

    net = Net()
    net.bn.running_var
    """
    assert members(source, shipped_rules) == [
        ("named_modules", "torch.nn.Module.named_modules"),
        ("running_mean", "torch.nn._BatchNorm.running_mean"),
        ("apply", "torch.nn.Module.apply"),
        ("named_children", "torch.nn.Module.named_children"),
        ("running_var", "torch.nn._BatchNorm.running_var"),
    ]


def test_loops_and_isinstance_narrow_module_types(shipped_rules: RuleSet) -> None:
    source = """
    def init(model: nn.Module):
        for name, m in model.named_modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.zero_()
            elif isinstance(m, nn.Linear):
                print(m.in_features)
            m.running_var
        for p in model.parameters():
            p.grad
    """
    found = members(source, shipped_rules)
    assert found == [
        ("named_modules", "torch.nn.Module.named_modules"),
        ("running_mean", "torch.nn._BatchNorm.running_mean"),
        ("in_features", "torch.nn.Linear.in_features"),
        ("parameters", "torch.nn.Module.parameters"),
    ]  # `m.running_var` outside the test: m is any Module, which has no running_var
    assert "m.running_mean.zero_()" in tensor_uses(source, shipped_rules)
    assert "p.grad" in tensor_uses(source, shipped_rules)


def test_a_name_bound_to_different_things_is_not_typed(shipped_rules: RuleSet) -> None:
    source = """
    opt = torch.optim.SGD(params, lr=0.1)
    if flag:
        opt = make_optimizer()
    opt.zero_grad()
    """
    assert members(source, shipped_rules) == []


def test_strings_arrays_and_paddle_objects_are_never_tensors(shipped_rules: RuleSet) -> None:
    source = """
    import paddle
    s = "a,b"
    parts = s.split(",")
    a = np.zeros(3)
    b = a.reshape(3, 1).transpose(1, 0)
    n = f"{s}".replace("a", "b")
    layer = paddle.nn.Linear(2, 3)
    layer.double()
    x = torch.zeros(3)
    y = x.reshape(3, 1)
    """
    assert tensor_uses(source, shipped_rules) == ["x.reshape(3, 1)"]


def test_facts_from_outside_type_imported_classes(shipped_rules: RuleSet) -> None:
    """A project index can say what an imported class is; the analysis is a function of the facts."""
    facts = ot.TypeFacts(bases={"local:Backbone": (ot.MODULE,)},
                         attrs={"local:Backbone": {"norm": "torch.nn.BatchNorm2d"}})  # fmt: skip
    source = """
    from .backbone import Backbone

    def f(b: Backbone):
        return b.norm.running_mean, Backbone().apply(fn)
    """
    # `Backbone` is not defined in this file: without facts its instances are unknown
    assert members(source, shipped_rules) == []
    assert members(source, shipped_rules, facts) == [
        ("running_mean", "torch.nn._BatchNorm.running_mean"), ("apply", "torch.nn.Module.apply")]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("lr = opt.param_groups[0]['lr']", "lr = opt.get_lr()"),
        ("opt.param_groups[0]['lr'] = 0.5 * base", "opt.set_lr(0.5 * base)"),
        ("opt.param_groups[0]['lr'] *= 0.5", "opt.set_lr(opt.get_lr() * 0.5)"),
        ("for g in opt.param_groups:\n    g['lr'] = lr * step / warmup", "opt.set_lr(lr * step / warmup)"),
        ("for g in opt.param_groups:\n    g['lr'] /= 10", "opt.set_lr(opt.get_lr() / 10)"),
    ],
    ids=["read", "write", "augmented-write", "warmup-loop", "decay-loop"],
)
def test_param_groups_learning_rate(before: str, after: str, shipped_planner: Planner) -> None:
    head = "import torch\nopt = torch.optim.SGD(params, lr=0.1)\n"
    out = convert_source(head + before + "\n", shipped_planner)
    assert out.error is None
    assert out.code == "import paddle\nopt = paddle.optimizer.SGD(parameters=params, learning_rate=0.1)\n" + after + "\n"
    assert convert_source(out.code, shipped_planner).code == out.code


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("for g in opt.param_groups:\n    g['lr'] = g['initial_lr'] * 0.1", "depends on the group"),
        ("for g in opt.param_groups:\n    # warm up\n    g['lr'] = 0.1", "comment"),
        ("wd = opt.param_groups[0]['weight_decay']", "no param_groups"),
        ("print(len(opt.param_groups))", "no param_groups"),
    ],
    ids=["per-group", "comment-inside", "other-key", "bare"],
)
def test_param_groups_left_with_a_reason(source: str, reason: str, shipped_planner: Planner) -> None:
    head = "import torch\nopt = torch.optim.SGD(params, lr=0.1)\n"
    out = convert_source(head + source + "\n", shipped_planner)
    assert out.code.endswith(source + "\n")
    (left,) = [o for o in out.outcomes if o.use.api == "torch.optim.Optimizer.param_groups"]
    assert not left.applied and reason in left.fix.message


@pytest.mark.parametrize(
    ("line", "after"),
    [
        ("n = fc.in_features + fc.out_features", "n = fc.weight.shape[0] + fc.weight.shape[1]"),
        ("bn.running_mean.zero_()", "bn._mean.zero_()"),
        ("lrs = sched.get_last_lr()", "lrs = [sched.last_lr]"),
        ("fc.to(torch.float64)", "_paddleport_vision.layer_to(fc, dtype=paddle.float64)"),
        ("fc.to('cpu')", "_paddleport_vision.layer_to(fc, 'cpu')"),
        ("opt.zero_grad(set_to_none=True)", "opt.zero_grad(set_to_none=True)"),
        ("fc.register_buffer('b', t, persistent=False)", "fc.register_buffer('b', t, persistable=False)"),
    ],
)
def test_member_conversions(line: str, after: str, shipped_planner: Planner) -> None:
    head = ("import torch\nimport torch.nn as nn\nfc = nn.Linear(2, 3)\nbn = nn.BatchNorm2d(3)\n"
            "opt = torch.optim.SGD(fc.parameters(), lr=0.1)\nsched = torch.optim.lr_scheduler.StepLR(opt, 2)\n")  # fmt: skip
    out = convert_source(head + line + "\n", shipped_planner)
    assert out.error is None
    assert out.code.rstrip("\n").rsplit("\n", 1)[-1] == after


def test_assigning_a_computed_attribute_is_left_with_a_reason(shipped_planner: Planner) -> None:
    out = convert_source("import torch.nn as nn\nfc = nn.Linear(2, 3)\nfc.in_features = 4\n", shipped_planner)
    assert out.code.endswith("fc.in_features = 4\n")
    (left,) = [o for o in out.outcomes if o.use.api == "torch.nn.Linear.in_features"]
    assert not left.applied and "hand edit" in left.fix.message


def test_class_level_helpers_that_paddle_lacks(shipped_planner: Planner) -> None:
    """Renaming the class would give `paddle.nn.Embedding.from_pretrained`, which does not exist."""
    head = "import torch.nn as nn\n"
    out = convert_source(head + "emb = nn.Embedding.from_pretrained(w, freeze=False)\n"
                         "mask = nn.Transformer.generate_square_subsequent_mask(n)\n", shipped_planner)  # fmt: skip
    assert out.code == (
        "import paddle\nemb = paddle.nn.Embedding(w.shape[0], w.shape[1], weight_attr=paddle.ParamAttr("
        "initializer=paddle.nn.initializer.Assign(w), trainable=True))\n"
        "mask = paddle.triu(paddle.full([n, n], float('-inf')), 1)\n"
    )
    kept = convert_source(head + "emb = nn.Embedding.from_pretrained(w, padding_idx=0)\n", shipped_planner)
    assert kept.code.endswith("nn.Embedding.from_pretrained(w, padding_idx=0)\n")
    assert "outputs zeros at padding_idx" in kept.outcomes[-1].fix.message
