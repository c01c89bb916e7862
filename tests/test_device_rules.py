"""What timm's data loaders and distributed setup need: torch.npu probes, device modules used as
values, DataLoader(sampler=...), and torchvision classes used as values.

torch.npu exists only with the torch_npu plugin, so those rules' examples cannot run on torch's side
here (they are reported unverified); their Paddle side runs here, with torch unimportable.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from paddleport.analysis.finder import analyze
from paddleport.catalog import make_planner
from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner

LOADER = '''\
import torch
import torch.utils.data


def device_module(device_type):
    is_cuda = device_type == 'cuda' and torch.cuda.is_available()
    is_npu = device_type == 'npu' and torch.npu.is_available()
    device_mod = None
    if is_cuda:
        device_mod = torch.cuda
    elif is_npu:
        device_mod = torch.npu
    return is_cuda, is_npu, device_mod


def set_npu(device):
    if device.startswith('npu:'):
        torch.npu.set_device(device)


def loader(dataset, distributed):
    sampler = None
    if distributed:
        sampler = torch.utils.data.distributed.DistributedSampler(dataset, num_replicas=2, rank=1, shuffle=False)
    return torch.utils.data.DataLoader(dataset, batch_size=2, shuffle=False, sampler=sampler, drop_last=False)


def any_loader(dataset, use_class=torch.utils.data.DataLoader):
    loader_class = torch.utils.data.DataLoader
    return loader_class(dataset, batch_size=3, shuffle=False, pin_memory=True, drop_last=True)
'''


@pytest.fixture(scope="module")
def shipped() -> Planner:
    return make_planner()


def test_loader_code_converts_without_torch_and_runs_on_paddle(tmp_path: Path, shipped: Planner) -> None:
    code = convert_source(LOADER, shipped).code
    assert "import torch" not in code and "torch" not in code.split("\ndef device_module", 1)[1], code
    assert "device_mod = paddle.cuda" in code and "device_mod = paddle.device" in code
    assert "paddle.device.set_device(device)" in code
    assert "use_class=_paddleport_vision.DataLoader" in code and "loader_class = _paddleport_vision.DataLoader" in code
    assert "_paddleport_vision.DataLoader(dataset=dataset, batch_size=2, shuffle=False, sampler=sampler" in code
    assert convert_source(code, shipped).code == code
    (tmp_path / "conv.py").write_text(code, encoding="utf-8")
    driver = textwrap.dedent("""
        from paddleport.kernel.example_worker import block_torch
        block_torch()
        import paddle
        from conv import any_loader, device_module, loader
        print(device_module('npu')[:2], device_module('cuda')[:2], device_module('cpu')[2])
        ds = paddle.io.TensorDataset([paddle.arange(7)])
        print([b[0].tolist() for b in loader(ds, True)], [b[0].tolist() for b in loader(ds, False)])
        print([b[0].tolist() for b in any_loader(ds)])
    """)
    env = dict(os.environ, GLOG_minloglevel="2", PYTHONWARNINGS="ignore")
    result = subprocess.run([sys.executable, "-c", driver], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    # no NPU (and no GPU) here: torch with torch_npu would say the same; rank 1 of 2 gets 1, 3, 5 and 0
    # (padding repeats the first index), as torch's DistributedSampler gives
    # a DataLoader class passed as a value takes torch's arguments (pin_memory=) through the helper
    assert result.stdout.strip().splitlines()[-3:] == [
        "(False, False) (False, False) None",
        "[[1, 3], [5, 0]] [[0, 1], [2, 3], [4, 5], [6]]",
        "[[0, 1, 2], [3, 4, 5]]",
    ]


def test_a_module_rule_is_not_a_prefix_of_its_members(shipped: Planner) -> None:
    """`torch.cuda` used as a value has a rule; `torch.cuda.foo` without one stays reported, not
    turned into `paddle.cuda.foo`."""
    text = "import torch\nm = torch.cuda\ny = torch.cuda.not_a_real_api()\n"
    uses = analyze(text, shipped.rules).uses
    assert {u.api for u in uses if u.kind.value != "import"} == {"torch.cuda", "torch.cuda.not_a_real_api"}
    code = convert_source(text, shipped).code
    assert "m = paddle.cuda\n" in code and "y = torch.cuda.not_a_real_api()" in code


def test_torchvision_classes_used_as_values_become_their_helpers(shipped: Planner) -> None:
    text = textwrap.dedent("""\
        import torchvision
        from torchvision.datasets import CIFAR10, CIFAR100, KMNIST, MNIST
        from torchvision import transforms
        TABLE = dict(cifar10=CIFAR10, cifar100=CIFAR100, mnist=MNIST, kmnist=KMNIST)
        class Local(CIFAR10):
            pass
        ok = isinstance(TABLE['kmnist'], torchvision.datasets.MNIST)
        apply = transforms.RandomApply
    """)
    code = convert_source(text, shipped).code
    assert "import torchvision" not in code and "torchvision." not in code.split("\nTABLE", 1)[1]
    # the helpers' own `class KMNIST(MNIST)` does not keep torchvision's MNIST imported
    assert ("TABLE = dict(cifar10=_paddleport_vision.CIFAR10, cifar100=_paddleport_vision.CIFAR100, "
            "mnist=_paddleport_vision.MNIST, kmnist=_paddleport_vision.KMNIST)") in code
    assert "class Local(_paddleport_vision.CIFAR10):" in code
    assert "isinstance(TABLE['kmnist'], _paddleport_vision.MNIST)" in code
    assert "apply = _paddleport_vision.RandomApply" in code
    for helper in ("CIFAR10", "KMNIST", "MNIST", "RandomApply"):
        assert f"    class {helper}(" in code
    assert convert_source(code, shipped).code == code
