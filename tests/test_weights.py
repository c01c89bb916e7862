"""``paddleport weights``: real torch checkpoints, converted without torch, loaded by the converted model under Paddle.

Each model is built and run under torch (its own process), its checkpoint converted in this process (which
never imports torch), and the converted model run under Paddle with torch unimportable; every layer's output
is compared.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from paddleport.cli.main import main
from paddleport.weights.model import model_request

PY = sys.executable
SERVER = str(Path(__file__).resolve().parents[1] / "server")

TORCH_SIDE = """
import sys, numpy as np, torch
ns = {"__name__": "m"}
exec(open(sys.argv[1]).read(), ns)
torch.manual_seed(0)
model = eval(sys.argv[2], ns)
for p in model.parameters():  # non-default values everywhere, so a wrong layout cannot pass
    torch.nn.init.uniform_(p, -0.5, 0.5) if p.requires_grad else None
for name, b in model.named_buffers():
    if b.is_floating_point():
        b.copy_(torch.rand_like(b) + 0.5)
model.eval()
inputs = ns["inputs"](np)
with torch.no_grad():
    outs = model(*[torch.from_numpy(x) for x in inputs])
np.savez(sys.argv[4], *inputs)
np.savez(sys.argv[5], *[o.numpy() for o in outs])
torch.save({"model": model.state_dict(), "optimizer": {"step": 3}}, sys.argv[3])
"""

PADDLE_SIDE = """
import json, sys, numpy as np
from paddleport.kernel.example_worker import block_torch
block_torch()
import paddle
request = json.load(open(sys.argv[1]))
ns = {"__name__": "m"}
exec(request["code"], ns)
model = eval(request["call"], ns)
missing, unexpected = model.set_state_dict(paddle.load(sys.argv[2]))
assert not missing and not unexpected, (missing, unexpected)
model.eval()
data = np.load(sys.argv[3])
with paddle.no_grad():
    outs = model(*[paddle.to_tensor(data[f"arr_{i}"]) for i in range(len(data.files))])
np.savez(sys.argv[4], *[o.numpy() for o in outs])
"""

MODELS = '''
import torch
import torch.nn as nn


class Layers(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 5)
        self.fc_nobias = nn.Linear(6, 3, bias=False)
        self.c1 = nn.Conv1d(2, 4, 3)
        self.c2 = nn.Conv2d(2, 4, 3, groups=2)
        self.c3 = nn.Conv3d(2, 3, 2)
        self.ct = nn.ConvTranspose2d(2, 4, 3)
        self.bn1 = nn.BatchNorm1d(6)
        self.bn2 = nn.BatchNorm2d(2)
        self.bn3 = nn.BatchNorm3d(2)
        self.ln = nn.LayerNorm(6)
        self.gn = nn.GroupNorm(2, 4)
        self.emb = nn.Embedding(7, 6)
        self.inorm = nn.InstanceNorm2d(2, affine=True)
        self.prelu = nn.PReLU(2)

    def forward(self, x, img, vol, seq, ids):
        return (self.fc(x), self.fc_nobias(x), self.c1(seq), self.c2(img), self.c3(vol), self.ct(img),
                self.bn1(x), self.bn2(img), self.bn3(vol), self.ln(x), self.gn(self.c2(img)), self.emb(ids),
                self.inorm(img), self.prelu(img))


def layers_inputs(np):
    r = np.random.default_rng(0)
    return [r.standard_normal((3, 6)).astype("float32"), r.standard_normal((2, 2, 5, 5)).astype("float32"),
            r.standard_normal((2, 2, 3, 3, 3)).astype("float32"), r.standard_normal((2, 2, 7)).astype("float32"),
            np.array([[1, 2, 6], [0, 3, 5]], dtype="int64")]


class LSTMBi2(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(4, 5, num_layers=2, bidirectional=True, batch_first=True)

    def forward(self, x):
        y, _ = self.rnn(x)
        return (y,)


class GRUUni2(LSTMBi2):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(4, 5, num_layers=2, batch_first=True)


class RNNBi1(LSTMBi2):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(4, 5, bidirectional=True, batch_first=True)


class LSTMUni1(LSTMBi2):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(4, 5, batch_first=True)


def recurrent_inputs(np):
    return [np.random.default_rng(1).standard_normal((2, 3, 4)).astype("float32")]


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        y, _ = self.attn(x, x, x)
        return (y,)


def attention_inputs(np):
    return [np.random.default_rng(2).standard_normal((2, 3, 8)).astype("float32")]


class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(9, 4)
        self.head = nn.Linear(4, 9, bias=False)
        self.head.weight = self.emb.weight

    def forward(self, ids):
        return (self.head(self.emb(ids)),)


def tied_inputs(np):
    return [np.array([[1, 2, 8]], dtype="int64")]
'''

CASES = {
    "layers": ("Layers()", "layers_inputs"),
    "lstm-bi-2": ("LSTMBi2()", "recurrent_inputs"),
    "gru-uni-2": ("GRUUni2()", "recurrent_inputs"),
    "rnn-bi-1": ("RNNBi1()", "recurrent_inputs"),
    "lstm-uni-1": ("LSTMUni1()", "recurrent_inputs"),
    "attention": ("Attention()", "attention_inputs"),
    "tied": ("Tied()", "tied_inputs"),
}


def _run(code: str, *args: str) -> None:
    proc = subprocess.run([PY, "-c", code, *args], capture_output=True, text=True, env={"PYTHONPATH": SERVER,
                          "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]


def torch_checkpoint(tmp: Path, call: str, inputs: str) -> tuple[Path, Path]:
    src = tmp / "models.py"
    src.write_text(MODELS + f"\ninputs = {inputs}\n", encoding="utf-8")
    _run(TORCH_SIDE, str(src), call, str(tmp / "ck.pt"), str(tmp / "in.npz"), str(tmp / "torch_out.npz"))
    return src, tmp / "ck.pt"


@pytest.mark.parametrize("case", list(CASES))
def test_converted_weights_give_torch_outputs(tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    call, inputs = CASES[case]
    src, ck = torch_checkpoint(tmp_path, call, inputs)
    out = tmp_path / "model.pdparams"
    code = main(["weights", str(ck), "-o", str(out), "--model", f"{src}:{call}", "--json"])
    captured = capsys.readouterr()
    assert code == 0 and out.exists(), captured.err
    report = json.loads(captured.out)
    assert report["missing"] == [] and report["unexpected"] == []
    assert report["paddle_check"] == {"missing": [], "unexpected": []}
    assert any("optimizer" in n for n in report["notes"])
    request = tmp_path / "request.json"
    request.write_text(json.dumps(model_request(f"{src}:{call}")), encoding="utf-8")
    _run(PADDLE_SIDE, str(request), str(out), str(tmp_path / "in.npz"), str(tmp_path / "paddle_out.npz"))
    want, got = np.load(tmp_path / "torch_out.npz"), np.load(tmp_path / "paddle_out.npz")
    assert len(want.files) == len(got.files)
    for name in want.files:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-4, atol=1e-5, err_msg=f"{case} output {name}")
    if case == "tied":
        assert report["tied"] == {"head.weight": "emb.weight"}
        with out.open("rb") as fh:
            state = pickle.load(fh)
        assert state["head.weight"] is state["emb.weight"]  # written once, the second name refers to it
    if case == "layers":
        assert "bn2.num_batches_tracked" in report["dropped"]
        assert report["renamed"]["fc.weight"] == "fc.weight (transposed)"
        assert report["renamed"]["inorm.weight"] == "inorm.scale"


def test_names_alone_without_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --model the same rules apply by name; a 2-D weight without bias is listed as unsure."""
    _src, ck = torch_checkpoint(tmp_path, "Layers()", "layers_inputs")
    out = tmp_path / "w.pdparams"
    assert main(["weights", str(ck), "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["renamed"]["bn2.running_mean"] == "bn2._mean"
    assert report["renamed"]["fc.weight"] == "fc.weight (transposed)"
    assert "emb.weight" in report["unsure"] and "fc_nobias.weight" in report["unsure"]
    assert "bn2.running_mean" not in report["unsure"]
    with out.open("rb") as fh:
        state = pickle.load(fh)
    assert state["fc.weight"].shape == (6, 5) and "bn2._variance" in state


def test_paddle_multiheadattention_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A model written for paddle.nn.MultiHeadAttention gets in_proj split into q/k/v, each transposed."""
    _src, ck = torch_checkpoint(tmp_path, "Attention()", "attention_inputs")
    paddle_model = tmp_path / "pmodel.py"
    paddle_model.write_text("import paddle\n\nclass Attention(paddle.nn.Layer):\n    def __init__(self):\n"
                            "        super().__init__()\n        self.attn = paddle.nn.MultiHeadAttention(8, 2)\n"
                            "\n    def forward(self, x):\n        return (self.attn(x, x, x),)\n")  # fmt: skip
    out = tmp_path / "a.pdparams"
    assert main(["weights", str(ck), "-o", str(out), "--model", f"{paddle_model}:Attention()", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["missing"] == []
    assert report["renamed"]["attn.in_proj_weight"].startswith("attn.q_proj.weight (part 1/3, transposed)")
    request = tmp_path / "request.json"
    request.write_text(json.dumps(model_request(f"{paddle_model}:Attention()")), encoding="utf-8")
    _run(PADDLE_SIDE, str(request), str(out), str(tmp_path / "in.npz"), str(tmp_path / "paddle_out.npz"))
    want, got = np.load(tmp_path / "torch_out.npz"), np.load(tmp_path / "paddle_out.npz")
    np.testing.assert_allclose(got["arr_0"], want["arr_0"], rtol=1e-4, atol=1e-5)


def test_missing_key_fails_unless_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _src, ck = torch_checkpoint(tmp_path, "GRUUni2()", "recurrent_inputs")
    bigger = tmp_path / "bigger.py"
    bigger.write_text(MODELS + "\nclass Bigger(GRUUni2):\n    def __init__(self):\n"
                      "        super().__init__()\n        self.extra = nn.Linear(2, 2)\n")  # fmt: skip
    out = tmp_path / "b.pdparams"
    assert main(["weights", str(ck), "-o", str(out), "--model", f"{bigger}:Bigger()"]) == 2
    assert "extra.weight" in capsys.readouterr().err and not out.exists()
    assert main(["weights", str(ck), "-o", str(out), "--model", f"{bigger}:Bigger()", "--allow-missing"]) == 0
    assert "missing in the checkpoint: 2" in capsys.readouterr().out and out.exists()


MALICIOUS = b"""cos
system
(S'echo pwned > %s'
tR."""


def _zip_with_pickle(path: Path, payload: bytes) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ck/data.pkl", payload)
        archive.writestr("ck/version", "3\n")


def test_malicious_pickle_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "pwned"
    ck, out = tmp_path / "evil.pt", tmp_path / "evil.pdparams"
    _zip_with_pickle(ck, MALICIOUS % str(marker).encode())
    assert main(["weights", str(ck), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "refusing to load" in err and "os.system" in err
    assert not marker.exists() and not out.exists()
    # the same payload as a legacy (non-zip) pickle: refused before unpickling
    legacy = tmp_path / "legacy.pt"
    legacy.write_bytes(pickle.dumps({"w": [1.0]}, protocol=2))
    assert main(["weights", str(legacy), "-o", str(out)]) == 2
    assert "legacy torch checkpoint" in capsys.readouterr().err and not out.exists()


def test_truncated_and_corrupt_checkpoints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _src, ck = torch_checkpoint(tmp_path, "Layers()", "layers_inputs")
    data = ck.read_bytes()
    out = tmp_path / "o.pdparams"
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    assert main(["weights", str(truncated), "-o", str(out)]) == 2
    assert "truncated or corrupt" in capsys.readouterr().err and not out.exists()
    # one flipped byte inside a storage: the zip checksum catches it while streaming; no partial file stays
    with zipfile.ZipFile(ck) as archive:
        info = next(i for i in archive.infolist() if "/data/" in i.filename and i.file_size > 16)
        start = data.index(archive.read(info.filename))
    corrupt = tmp_path / "corrupt.pt"
    raw = bytearray(data)
    raw[start + 3] ^= 0xFF
    corrupt.write_bytes(bytes(raw))
    assert main(["weights", str(corrupt), "-o", str(out)]) == 2
    assert "checksum" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".o.pdparams*"))


def test_safetensors_input_and_half_precision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    tensors = {"fc.weight": rng.standard_normal((3, 4)).astype("float16"), "fc.bias": np.ones(3, "float32"),
               "bn.running_mean": np.zeros(3, "float32"), "bn.running_var": np.ones(3, "float32"),
               "bn.weight": np.ones(3, "float32"), "bn.bias": np.zeros(3, "float32")}  # fmt: skip
    st = tmp_path / "m.safetensors"
    save_file(tensors, str(st))
    out = tmp_path / "m.pdparams"
    assert main(["weights", str(st), "-o", str(out), "--json"]) == 0
    capsys.readouterr()
    with out.open("rb") as fh:
        state = pickle.load(fh)
    assert state["fc.weight"].dtype == np.float16
    np.testing.assert_array_equal(state["fc.weight"], tensors["fc.weight"].T)
    assert set(state) == {"fc.weight", "fc.bias", "bn._mean", "bn._variance", "bn.weight", "bn.bias"}


def test_bfloat16_checkpoint_loads_in_paddle(tmp_path: Path) -> None:
    code = ("import torch, sys\nm = torch.nn.Linear(3, 2).to(torch.bfloat16)\n"
            "torch.save(m.state_dict(), sys.argv[1])\nimport numpy as np\n"
            "np.save(sys.argv[2], m.weight.float().detach().numpy())\n")  # fmt: skip
    _run(code, str(tmp_path / "bf.pt"), str(tmp_path / "w.npy"))
    out = tmp_path / "bf.pdparams"
    assert main(["weights", str(tmp_path / "bf.pt"), "-o", str(out)]) == 0
    check = ("import sys, numpy as np\nfrom paddleport.kernel.example_worker import block_torch\nblock_torch()\n"
             "import paddle\nm = paddle.nn.Linear(3, 2)\nm.to(dtype='bfloat16')\n"
             "assert not any(m.set_state_dict(paddle.load(sys.argv[1])))\n"
             "np.testing.assert_array_equal(m.weight.astype('float32').numpy(), np.load(sys.argv[2]).T)\n")  # fmt: skip
    _run(check, str(out), str(tmp_path / "w.npy"))


BLOCK = """
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1 = nn.Linear(d, d)
        self.bn = nn.BatchNorm1d(d)
        self.fc2 = nn.Linear(d, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.bn(self.fc1(x))))
"""

SWAPPED_BN = """
[[rule]]
api = "torch.nn.BatchNorm1d"
paddle = "paddle.nn.BatchNorm1D"
weights = { params = ["running_mean", "running_var"], optional = ["weight", "bias", "num_batches_tracked"], \
rename = { running_mean = "_variance", running_var = "_mean" }, drop = ["num_batches_tracked"] }
"""


def test_equiv_with_checkpoint_names_the_first_diverging_layer(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    src = tmp_path / "blk.py"
    src.write_text(BLOCK, encoding="utf-8")
    make = ("import sys, torch\nsys.path.insert(0, sys.argv[1])\nfrom blk import Block\ntorch.manual_seed(3)\n"
            "m = Block(4)\nm.bn.running_mean.uniform_()\nm.bn.running_var.uniform_(1, 2)\n"
            "torch.save({'model': m.state_dict()}, sys.argv[2])\n")  # fmt: skip
    _run(make, str(tmp_path), str(tmp_path / "blk.pt"))
    base = ["equiv", str(src), "--target", "Block", "--example", "Block(4)(randn(3, 4))",
            "--checkpoint", str(tmp_path / "blk.pt"), "--json"]  # fmt: skip
    assert main(base) == 0, capsys.readouterr()
    assert json.loads(capsys.readouterr().out)["status"] == "equal"
    # a wrong weights layout (a project rule swapping the running statistics) is caught, and named
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bn.toml").write_text(SWAPPED_BN, encoding="utf-8")
    assert main(["--rules", str(rules), *base]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "mismatch"
    assert result["layer"]["layer"] == "bn" and result["layer"]["torch_class"] == "BatchNorm1d"


def test_equiv_factory_compares_a_whole_model_of_a_converted_package(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """`--factory "pkg.create_model('tiny')"`: the package under torch, its conversion under paddle."""
    package = tmp_path / "src" / "tinyzoo"
    package.mkdir(parents=True)
    (package / "blocks.py").write_text(BLOCK, encoding="utf-8")
    (package / "__init__.py").write_text(
        "from .blocks import Block\n\n\ndef create_model(name):\n    return {'tiny': lambda: Block(4)}[name]()\n",
        encoding="utf-8")  # fmt: skip
    assert main(["convert", str(package), "-o", str(tmp_path / "converted" / "tinyzoo")]) == 0
    capsys.readouterr()
    make = ("import sys, torch\nsys.path.insert(0, sys.argv[1])\nfrom tinyzoo import create_model\n"
            "torch.manual_seed(3)\nm = create_model('tiny')\nm.bn.running_var.uniform_(1, 2)\n"
            "torch.save(m.state_dict(), sys.argv[2])\n")  # fmt: skip
    _run(make, str(tmp_path / "src"), str(tmp_path / "tiny.pt"))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "src"))  # where the kernel's torch side finds the original
    base = ["equiv", "--factory", "tinyzoo.create_model('tiny')", "--converted", str(tmp_path / "converted"),
            "--example", "randn(3, 4)", "--checkpoint", str(tmp_path / "tiny.pt"), "--json"]  # fmt: skip
    assert main(base) == 0, capsys.readouterr()
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "equal" and result["leaves"][0]["shape"] == [3, 2]
    assert main(["equiv", "--factory", "tinyzoo.create_model('tiny')"]) == 2  # no --converted: a usage error
    assert "--converted" in capsys.readouterr().err


def test_weights_layouts_are_validated(tmp_path: Path) -> None:
    from paddleport.rules.loader import load_rules

    (tmp_path / "bad.toml").write_text(
        '[[rule]]\napi = "torch.nn.Linear"\npaddle = "paddle.nn.Linear"\n'
        'weights = { params = ["weight"], rename = { wieght = "w" }, split = { weight = ["a"] }, colour = 1 }\n',
        encoding="utf-8",
    )
    errors = {(e.rule, e.field) for e in load_rules([tmp_path], include_builtin=False).errors}
    assert {("torch.nn.Linear", "weights.rename"), ("torch.nn.Linear", "weights.split"),
            ("torch.nn.Linear", "weights.colour")} <= errors  # fmt: skip


def test_shipped_layouts_cover_the_layer_rules(tmp_path: Path) -> None:
    from paddleport.catalog import load_catalog
    from paddleport.weights.layout import layouts

    table = layouts(load_catalog())
    assert table["paddle.nn.Linear"].layout is not None and table["paddle.compat.nn.Linear"].layout is None
    assert table["paddle.nn.BatchNorm2D"].layout is not None
    assert table["paddle.nn.MultiHeadAttention"].layout is not None


def test_factory_call_from_a_package(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """--model "pkg.build(3)": the factory of a (converted) package on the path builds the model."""
    package = tmp_path / "mymodels"
    package.mkdir()
    (package / "__init__.py").write_text("import paddle\n\n\ndef build(n):\n    return paddle.nn.Sequential("
                                         "paddle.nn.Linear(2, n), paddle.nn.BatchNorm1D(n))\n")  # fmt: skip
    _run("import sys, torch\nm = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))\n"
         "torch.save(m.state_dict(), sys.argv[1])\n", str(tmp_path / "s.pt"))  # fmt: skip
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    out = tmp_path / "s.pdparams"
    assert main(["weights", str(tmp_path / "s.pt"), "-o", str(out), "--model", "mymodels.build(3)", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["paddle_check"] == {"missing": [], "unexpected": []}
    assert report["renamed"]["0.weight"] == "0.weight (transposed)"
