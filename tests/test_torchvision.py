"""torchvision is found, counted, diagnosed and converted like torch, with the shipped rules.

The d2l loader (`load_data_fashion_mnist`) is converted and run under paddle with torch and
torchvision blocked, on a small Fashion-MNIST written locally in torchvision's layout.
"""

from __future__ import annotations

import ast
import gzip
import json
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from paddleport.catalog import make_planner
from paddleport.lsp.documents import DocumentView
from paddleport.lsp.settings import Settings
from paddleport.lsp.state import diagnose
from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.edits import TextEdit, apply_edits
from paddleport.rewrite.fixes import Planner

D2L = '''\
import torch
import torchvision
from torch.utils import data
from torchvision import transforms


def load_data_fashion_mnist(batch_size, resize=None):
    """Download the Fashion-MNIST dataset and then load it into memory."""
    trans = [transforms.ToTensor()]
    if resize:
        trans.insert(0, transforms.Resize(resize))
    trans = transforms.Compose(trans)
    mnist_train = torchvision.datasets.FashionMNIST(
        root="../data", train=True, transform=trans, download=True)
    mnist_test = torchvision.datasets.FashionMNIST(
        root="../data", train=False, transform=trans, download=True)
    return (data.DataLoader(mnist_train, batch_size, shuffle=True,
                            num_workers=0),
            data.DataLoader(mnist_test, batch_size, shuffle=False,
                            num_workers=0))
'''


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "paddleport", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def shipped() -> Planner:
    return make_planner()


def test_check_finds_and_counts_torchvision_uses(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "import torchvision\nfrom torchvision import transforms as T\n\n"
        "t = T.Compose([T.ToTensor(), T.Normalize([0.5], [0.5])])\n"
        "net = torchvision.models.resnet18(weights='DEFAULT')\n"
        "img = torchvision.io.read_image('x.png')\n"
        "x = torchvision.some_new_api()\n",
        encoding="utf-8",
    )
    result = run("check", str(tmp_path / "m.py"), "--format", "json")
    assert result.returncode == 1
    found = {(d["line"], d["api"]): d for d in json.loads(result.stdout)}
    assert found[(4, "torchvision.transforms.Compose")]["code"] == "PP100"
    assert found[(4, "torchvision.transforms.Normalize")]["message"].startswith(
        "torchvision.transforms.Normalize → paddle.vision.transforms.Normalize")
    assert found[(5, "torchvision.models.resnet18")]["code"] == "PP200"  # pretrained weights differ
    assert "Paddle's own ImageNet weights" in found[(5, "torchvision.models.resnet18")]["message"]
    assert found[(6, "torchvision.io.read_image")]["code"] == "PP200"  # a helper reading with PIL
    assert found[(7, "torchvision.some_new_api")]["code"] == "PP400"
    assert found[(1, "torchvision")]["code"] == "PP100"  # the import goes once nothing uses it


def test_the_summary_counts_torchvision_and_leftovers_block(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.py").write_text("import torchvision.transforms as T\nt = T.RandomHorizontalFlip(p=1.0)\n",
                              encoding="utf-8")  # fmt: skip
    (src / "b.py").write_text("import torchvision\nx = torchvision.ops.roi_pool(f, b, 2)\n", encoding="utf-8")
    result = run("convert", str(src), "-o", str(tmp_path / "out"))
    assert result.returncode == 3, result.stdout + result.stderr
    assert (tmp_path / "out" / "a.py").read_text(encoding="utf-8") == (
        "import paddle\nt = paddle.vision.transforms.RandomHorizontalFlip(prob=1.0)\n")
    assert "b.py:1:1 torchvision: `import torchvision` runs" in result.stdout
    assert "b.py:2:5 torchvision.ops.roi_pool: `torchvision.ops.roi_pool` needs a manual port" in result.stdout
    assert "torch uses found:    2 (2 torchvision)" in result.stdout and "converted exactly: 1" in result.stdout


def test_d2l_loader_converts_once_and_idempotently(shipped: Planner) -> None:
    conv = convert_source(D2L, shipped)
    assert conv.error is None
    code = conv.code
    ast.parse(code)
    assert "torchvision." not in code and "import torch" not in code
    assert code.startswith("import paddle\n")
    assert code.count("class _paddleport_vision:") == 1
    assert "class FashionMNIST(MNIST):" in code and "class MNIST(" in code and "def box_iou(" not in code  # only what it calls
    assert ("mnist_train = _paddleport_vision.FashionMNIST(\n        "
            "root=\"../data\", train=True, transform=trans, download=True)") in code
    assert "trans.insert(0, paddle.vision.transforms.Resize(resize))" in code
    assert convert_source(code, shipped).code == code


def _write_fashion_mnist(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """torchvision's layout: root/FashionMNIST/raw/<split>-{images,labels}-idx*-ubyte(.gz), both splits."""
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    kept = (np.zeros(0), np.zeros(0))
    for split, n in (("train", 200), ("t10k", 100)):
        images = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        for name, payload in ((f"{split}-images-idx3-ubyte", struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes()),
                              (f"{split}-labels-idx1-ubyte", struct.pack(">II", 2049, n) + labels.tobytes())):  # fmt: skip
            (raw / name).write_bytes(payload)
            with gzip.open(raw / f"{name}.gz", "wb") as fh:
                fh.write(payload)
        if split == "t10k":
            kept = (images, labels)
    return kept


def test_d2l_loader_runs_under_paddle_on_torchvisions_files(tmp_path: Path, shipped: Planner) -> None:
    images, labels = _write_fashion_mnist(tmp_path / "data")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "d2l_data.py").write_text(convert_source(D2L, shipped).code, encoding="utf-8")
    driver = textwrap.dedent("""
        import sys
        from paddleport.kernel.example_worker import block_torch
        block_torch()
        import json
        import numpy as np
        from d2l_data import load_data_fashion_mnist
        train, test = load_data_fashion_mnist(32, resize=32)
        X, y = next(iter(test))
        Xs, ys = next(iter(load_data_fashion_mnist(64)[1]))
        np.save("out.npy", Xs.numpy())
        print(json.dumps([len(train.dataset), len(test.dataset), list(X.shape), list(y.shape), str(y.dtype),
                          list(Xs.shape), ys.numpy().tolist()]))
    """)
    env = dict(os.environ, GLOG_minloglevel="2", PYTHONWARNINGS="ignore")
    result = subprocess.run([sys.executable, "-c", driver], cwd=tmp_path / "work", capture_output=True,
                            text=True, timeout=300, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    n_train, n_test, x_shape, y_shape, dtype, xs_shape, ys = json.loads(result.stdout.strip().splitlines()[-1])
    assert (n_train, n_test) == (200, 100)
    assert (x_shape, y_shape, dtype) == ([32, 1, 32, 32], [32], "paddle.int64")  # int labels, as torch's
    assert xs_shape == [64, 1, 28, 28]
    assert ys == labels[:64].tolist()
    np.testing.assert_allclose(np.load(tmp_path / "work" / "out.npy")[:, 0], images[:64] / 255.0, rtol=1e-6)


def test_editor_diagnoses_torchvision_and_its_quick_fix_brings_the_helper(shipped: Planner) -> None:
    text = ("import torchvision\n\n"
            "ds = torchvision.datasets.MNIST('data', train=False)\n"
            "t = torchvision.transforms.CenterCrop(8)\n")  # fmt: skip
    state = diagnose(DocumentView("file:///m.py", text, 1), shipped, Settings())
    by_code = {d["code"]: d for d in state.diagnostics["file:///m.py"]}
    assert by_code["torchvision.transforms.CenterCrop"]["message"] == (
        "torchvision.transforms.CenterCrop → paddle.vision.transforms.CenterCrop")
    fix = by_code["torchvision.datasets.MNIST"]["data"]["fix"]
    lines = text.splitlines(keepends=True)

    def offset(pos: dict[str, int]) -> int:
        return sum(len(ln) for ln in lines[: pos["line"]]) + pos["character"]

    edits = [TextEdit(offset(e["range"]["start"]), offset(e["range"]["end"]), e["newText"]) for e in fix["edits"]]
    fixed = "import paddle\n" + apply_edits(text, edits)  # the quick fix also carries `import paddle`
    ast.parse(fixed)
    assert "class _paddleport_vision:" in fixed and "class MNIST(" in fixed
    assert "ds = _paddleport_vision.MNIST('data', train=False)" in fixed


def test_unverifiable_conversions_run_under_paddle_as_documented(tmp_path: Path, shipped: Planner) -> None:
    """read_image and nms need torchvision's compiled ops on the torch side, which do not load next to
    the CPU torch; their conversions are checked here against what torchvision documents."""
    from PIL import Image

    pixels = np.random.default_rng(1).integers(0, 256, (5, 4, 3)).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    source = ("import torchvision\nfrom torchvision.io import ImageReadMode, read_image\n"
              "rgb = read_image('a.png')\ngray = read_image('a.png', mode=ImageReadMode.GRAY)\n"
              "boxes = torchvision.ops.box_convert(torchvision.ops.box_convert(b, 'xyxy', 'xywh'), 'xywh', 'xyxy')\n"
              "keep = torchvision.ops.nms(boxes, s, 0.5)\n")  # fmt: skip
    code = convert_source(source, shipped).code
    assert "import torchvision" not in code and "from torchvision" not in code
    (tmp_path / "conv.py").write_text(code, encoding="utf-8")
    driver = textwrap.dedent("""
        import json, runpy
        from paddleport.kernel.example_worker import block_torch
        block_torch()
        import paddle
        b = paddle.to_tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [20.0, 20.0, 30.0, 30.0], [0.0, 0.0, 9.0, 9.0]])
        ns = runpy.run_path("conv.py", {"b": b, "s": paddle.to_tensor([0.5, 0.9, 0.7, 0.1])})
        print(json.dumps([ns["rgb"].numpy().tolist(), str(ns["rgb"].dtype), list(ns["gray"].shape), ns["keep"].numpy().tolist()]))
    """)
    env = dict(os.environ, GLOG_minloglevel="2", PYTHONWARNINGS="ignore")
    result = subprocess.run([sys.executable, "-c", driver], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    rgb, dtype, gray_shape, keep = json.loads(result.stdout.strip().splitlines()[-1])
    assert rgb == pixels.transpose(2, 0, 1).tolist() and dtype == "paddle.uint8"  # uint8 CHW, as torchvision
    assert gray_shape == [1, 5, 4]
    assert keep == [1, 2]  # by decreasing score; 0 and 3 overlap box 1 by IoU > 0.5
