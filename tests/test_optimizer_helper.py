"""A user-written torch.optim.Optimizer subclass, converted, steps as it does in torch.

The converted file subclasses the helper written into it (``_paddleport_vision.Optimizer``),
which has torch's Optimizer API over Paddle tensors; the training script is converted too and
run with torch blocked, then compared with the original under torch.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from tests.conftest import dedent, run_without_torch

MY_OPTIM = dedent('''
    import torch
    from torch.optim import Optimizer
    from torch.optim.optimizer import required


    class MomentumSGD(Optimizer):
        """SGD with momentum and L2 weight decay, written as torch's own optimizers are."""

        def __init__(self, params, lr=required, momentum=0.9, weight_decay=0.0):
            if lr is not required and lr < 0.0:
                raise ValueError(f"Invalid learning rate: {lr}")
            super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

        def __setstate__(self, state):
            super().__setstate__(state)
            for group in self.param_groups:
                group.setdefault('momentum', 0.9)

        @torch.no_grad()
        def step(self, closure=None):
            loss = None
            if closure is not None:
                with torch.enable_grad():
                    loss = closure()
            for group in self.param_groups:
                for p in group['params']:
                    if p.grad is None:
                        continue
                    d_p = p.grad
                    if group['weight_decay'] != 0:
                        d_p = d_p.add(p, alpha=group['weight_decay'])
                    state = self.state[p]
                    if 'momentum_buffer' not in state:
                        buf = state['momentum_buffer'] = torch.clone(d_p).detach()
                    else:
                        buf = state['momentum_buffer']
                        buf.mul_(group['momentum']).add_(d_p)
                    p.add_(buf, alpha=-group['lr'])
            return loss


    def is_optimizer(obj) -> bool:
        return isinstance(obj, torch.optim.Optimizer)
    ''')

TRAIN = dedent('''
    import json
    import torch
    from my_optim import MomentumSGD, is_optimizer

    w = torch.nn.Parameter(torch.tensor([[0.5, -0.2], [0.1, 0.3], [-0.4, 0.25]]))
    b = torch.nn.Parameter(torch.tensor([0.05, -0.1]))
    x = torch.tensor([[1.0, 2.0, -1.0], [0.5, -0.3, 0.8], [-1.2, 0.4, 0.3], [0.7, 0.7, -0.6]])
    y = torch.tensor([[0.3, -0.1], [0.2, 0.4], [-0.5, 0.1], [0.0, 0.2]])

    def loss_fn():
        return ((x @ w + b - y) ** 2).mean()

    opt = MomentumSGD([{'params': [w], 'weight_decay': 0.1}, {'params': [b], 'lr': 0.05}], lr=0.2)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        losses.append(loss.item())

    saved = opt.state_dict()
    again = MomentumSGD([{'params': [w]}, {'params': [b]}], lr=1.0)
    again.load_state_dict(saved)
    for _ in range(2):
        again.zero_grad()
        loss = loss_fn()
        loss.backward()
        again.step()
        losses.append(loss.item())
    again.zero_grad()
    groups = [{k: v for k, v in g.items() if k != 'params'} for g in saved['param_groups']]
    errors = []
    try:
        MomentumSGD([w])
    except ValueError as e:
        errors.append(str(e))
    try:
        again.add_param_group({'params': [b]})
    except ValueError as e:
        errors.append(str(e))
    print(json.dumps({
        'losses': losses,
        'w': w.tolist(), 'b': b.tolist(),
        'groups': groups, 'indices': [g['params'] for g in saved['param_groups']],
        'state_keys': sorted(saved['state']),
        'bias_buffer': again.state_dict()['state'][1]['momentum_buffer'].tolist(),
        'lr_after_load': [g['lr'] for g in again.param_groups],
        'grad_none': w.grad is None and b.grad is None,
        'is_optimizer': is_optimizer(again),
        'errors': errors,
    }))
    ''')


@pytest.fixture(scope="module")
def runs(shipped_planner: Planner, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, str]:
    work = tmp_path_factory.mktemp("optim")
    (work / "my_optim.py").write_text(MY_OPTIM)
    torch_run = run_without_torch(TRAIN, work, block=False)
    assert torch_run.returncode == 0, torch_run.stderr
    module = convert_source(MY_OPTIM, shipped_planner)
    train = convert_source(TRAIN, shipped_planner)
    assert module.error is None and train.error is None
    (work / "my_optim.py").write_text(module.code)
    paddle_run = run_without_torch(train.code, work)
    assert paddle_run.returncode == 0, paddle_run.stderr + "\n" + module.code + "\n" + train.code
    return json.loads(torch_run.stdout), json.loads(paddle_run.stdout.splitlines()[-1]), module.code


def test_the_converted_subclass_derives_from_the_helper_and_needs_no_torch(runs: tuple[dict, dict, str]) -> None:
    code = runs[2]
    assert "class MomentumSGD(_paddleport_vision.Optimizer):" in code
    assert "import torch" not in code and "from torch" not in code
    assert "isinstance(obj, (paddle.optimizer.Optimizer, _paddleport_vision.Optimizer))" in code
    assert "super().__init__(params, dict(" in code  # the helper takes torch's arguments


def test_steps_match_torch_across_a_state_dict_round_trip(runs: tuple[dict, dict, str]) -> None:
    want, got, _ = runs
    for key in ("losses", "w", "b", "bias_buffer"):
        a, b = json.dumps(want[key]), json.dumps(got[key])
        flat_a = [float(v) for v in a.replace("[", " ").replace("]", " ").replace(",", " ").split()]
        flat_b = [float(v) for v in b.replace("[", " ").replace("]", " ").replace(",", " ").split()]
        assert len(flat_a) == len(flat_b), key
        assert all(abs(p - q) <= 1e-5 + 1e-4 * abs(p) for p, q in zip(flat_a, flat_b, strict=True)), key


def test_state_dict_format_groups_and_errors_are_torchs(runs: tuple[dict, dict, str]) -> None:
    want, got, _ = runs
    for key in ("groups", "indices", "state_keys", "lr_after_load", "grad_none", "is_optimizer", "errors"):
        assert got[key] == want[key], key
    assert want["grad_none"] is True and want["is_optimizer"] is True and len(want["errors"]) == 2


STEP_COUNTS = dedent('''
    from typing import List

    import torch
    from torch import Tensor


    def count(state_steps: List[Tensor], lrs: List[float]) -> None:
        """Step counters as torch's functional optimizers keep them: items of a list, updated in place."""
        for i, lr in enumerate(lrs):
            step_t = state_steps[i]
            step_t += 1
            step_t *= lr
        for s in state_steps:
            s -= 0.5
    ''')


def test_a_list_items_augmented_assignment_writes_into_the_list(shipped_planner: Planner, tmp_path: Path) -> None:
    """torch's `step_t += 1` changes the tensor the list holds; Paddle's `+=` would bind a new one."""
    conversion = convert_source(STEP_COUNTS, shipped_planner)
    assert "paddle.assign(step_t + 1, step_t)" in conversion.code
    assert "paddle.assign(s - 0.5, s)" in conversion.code
    assert convert_source(conversion.code, shipped_planner).code == conversion.code
    (tmp_path / "steps.py").write_text(STEP_COUNTS)
    torch_run = run_without_torch("import torch, steps\nxs = [torch.tensor(0.), torch.tensor(2.)]\n"
                                  "steps.count(xs, [2.0, 3.0])\nprint([float(x) for x in xs])", tmp_path, block=False)
    assert torch_run.returncode == 0, torch_run.stderr
    (tmp_path / "steps.py").write_text(conversion.code)
    paddle_run = run_without_torch("import paddle, steps\nxs = [paddle.to_tensor(0.), paddle.to_tensor(2.)]\n"
                                   "steps.count(xs, [2.0, 3.0])\nprint([float(x) for x in xs])", tmp_path)
    assert paddle_run.returncode == 0, paddle_run.stderr
    assert json.loads(torch_run.stdout) == json.loads(paddle_run.stdout.splitlines()[-1]) == [1.5, 8.5]


FACTORY = dedent('''
    import json
    import torch

    OPTIMIZERS = {'adamw': torch.optim.AdamW, 'adam': torch.optim.Adam, 'sgd': torch.optim.SGD}


    def create(name, params, **kwargs):
        return OPTIMIZERS[name](params, **kwargs)  # torch's keywords, wherever the class ends up


    w = torch.nn.Parameter(torch.tensor([[0.5, -0.2], [0.1, 0.3], [-0.4, 0.25]]))
    b = torch.nn.Parameter(torch.tensor([0.05, -0.1]))
    x = torch.tensor([[1.0, 2.0, -1.0], [0.5, -0.3, 0.8], [-1.2, 0.4, 0.3], [0.7, 0.7, -0.6]])
    opt = create('adamw', [w, b], lr=0.05, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)
    for _ in range(3):
        opt.zero_grad()
        loss = ((x @ w + b) ** 2).mean()
        loss.backward()
        opt.step()
    refused = ''
    try:
        create('sgd', [w], lr=0.1, momentum=0.9)
    except TypeError as e:  # Paddle's SGD has no momentum: the adapter says so instead of ignoring it
        refused = 'momentum' if 'momentum' in str(e) else str(e)
    print(json.dumps({'w': w.tolist(), 'b': b.tolist(), 'refused': refused}))
    ''')


def test_a_torch_optimizer_class_passed_as_a_value_takes_torchs_keywords(
        shipped_planner: Planner, tmp_path: Path) -> None:  # fmt: skip
    """timm's factory registers `opt_class=optim.AdamW` and calls it with torch's keywords."""
    conversion = convert_source(FACTORY, shipped_planner)
    assert "'adamw': _paddleport_layers.torch_optim_AdamW" in conversion.code
    torch_run = run_without_torch(FACTORY, tmp_path, block=False)
    assert torch_run.returncode == 0, torch_run.stderr
    paddle_run = run_without_torch(conversion.code, tmp_path)
    assert paddle_run.returncode == 0, paddle_run.stderr + conversion.code
    want, got = json.loads(torch_run.stdout), json.loads(paddle_run.stdout.splitlines()[-1])
    assert want["refused"] == "" and got["refused"] == "momentum"
    for key in ("w", "b"):
        flat_a = [v for row in want[key] for v in (row if isinstance(row, list) else [row])]
        flat_b = [v for row in got[key] for v in (row if isinstance(row, list) else [row])]
        assert all(abs(p - q) <= 1e-5 + 1e-4 * abs(p) for p, q in zip(flat_a, flat_b, strict=True)), key
