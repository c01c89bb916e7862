"""Statement tidying: a scheduler attached in one expression becomes two statements."""

from __future__ import annotations

from paddleport.catalog import make_planner
from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.statements import split_scheduler_attachments


def test_assignment_is_split_into_build_then_attach() -> None:
    code = "def f(opt):\n    s = (lambda scheduler: opt.set_lr_scheduler(scheduler) or scheduler)(make(1))  # every 10\n"
    assert split_scheduler_attachments(code) == (
        "def f(opt):\n    s = make(1)\n    opt.set_lr_scheduler(s)  # every 10\n"
    )


def test_packed_form_inside_an_expression_stays() -> None:
    code = "use((lambda scheduler: opt.set_lr_scheduler(scheduler) or scheduler)(make(1)))\n"
    assert split_scheduler_attachments(code) == code


def test_torch_scheduler_converts_to_two_statements_once() -> None:
    planner = make_planner()
    before = (
        "import torch\n"
        "opt = torch.optim.SGD(params, lr=0.1)\n"
        "sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)\n"
    )
    after = convert_source(before, planner).code
    assert "sched = paddle.optimizer.lr.StepDecay(" in after
    assert after.rstrip().endswith("opt.set_lr_scheduler(sched)")
    assert convert_source(after, planner).code == after
