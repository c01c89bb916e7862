"""Equivalence checks in a real kernel: real torch, real paddle, one warm kernel for all."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from paddleport.kernel.check import Options, check_target
from paddleport.kernel.report import table
from paddleport.kernel.session import KernelSession, rss_mb
from paddleport.rewrite.fixes import Planner
from paddleport.rules.loader import load_rules

Equiv = Callable[..., dict[str, Any]]

ATTENTION = """
import math
import torch
import torch.nn.functional as F


def attention(q, k, v, mask=None):
    scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(mask == 0, -1e9)
    weights = F.softmax(scores, dim=-1)
    return torch.matmul(weights, v), {"weights": weights, "dim": q.size(-1)}


if __name__ == "__main__":
    raise SystemExit("the main block must not run")
"""

WRONG = """
import torch
import torch.nn.functional as F


def h(x):
    a = F.softmax(x, dim=-1)
    b = torch.exp(a)
    c = b * 2
    return c.sum(dim=0)


def bad(x):
    a = F.softmax(x, dim=-1)
    return torch.tanh(a)
"""

NET = """
import torch
import torch.nn as nn


# paddleport: example Net(3, 8)(randn(2, 3, 5, 5))
class Net(nn.Module):
    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, hidden, 3, padding=1)
        self.bn = nn.BatchNorm2d(hidden)
        self.norm = nn.LayerNorm(5)
        self.fc = nn.Linear(hidden * 25, 4)

    def forward(self, x):
        y = self.norm(self.bn(self.conv(x)))
        return self.fc(torch.flatten(y, 1))
"""


def test_exact_conversion_is_equal_with_nested_outputs(equiv: Equiv) -> None:
    call = "attention(randn(2, 4, 8), randn(2, 4, 8), randn(2, 4, 8), mask=None)"
    result = equiv(ATTENTION, "attention", example=call)
    assert result["status"] == "equal", table(result)
    paths = [leaf["path"] for leaf in result["leaves"]]
    assert paths == ["out[0]", "out[1]['weights']", "out[1]['dim']"]
    first = result["leaves"][0]
    assert first["shape"] == [2, 4, 8] and first["dtype"] == "float32"
    assert first["max_abs"] < 1e-6
    assert result["torch"]["seconds"] > 0 and result["paddle"]["seconds"] > 0
    assert "equal: 3 output(s) match" in result["message"]


def test_gradients_of_inputs_are_compared(equiv: Equiv) -> None:
    call = "attention(randn(2, 4, 8), randn(2, 4, 8), randn(2, 4, 8))"
    result = equiv(ATTENTION, "attention", example=call, grad=True)
    assert result["status"] == "equal", table(result)
    grads = [leaf["path"] for leaf in result["leaves"] if leaf["path"].startswith("grad")]
    assert grads == ["grad args[0]", "grad args[1]", "grad args[2]"]


def test_wrong_rule_is_found_and_located(equiv: Equiv, wrong_planner: Planner) -> None:
    result = equiv(WRONG, "h", planner=wrong_planner, example="h(randn(2, 3))")
    assert result["status"] == "mismatch", table(result)
    assert not result["leaves"][0]["ok"] and result["leaves"][0]["max_abs"] > 0.1
    # the converted file lost an import line: the location is still the original line
    assert result["location"]["line"] == 7
    assert result["location"]["variable"] == "b"
    assert "first difference at line 7" in result["message"]


def test_tolerance_is_configurable(equiv: Equiv, wrong_planner: Planner) -> None:
    result = equiv(WRONG, "h", planner=wrong_planner, example="h(randn(2, 3))", atol=10.0, locate=False)
    assert result["status"] == "equal", table(result)


def test_module_weights_are_copied_across(equiv: Equiv) -> None:
    # bn.bias's gradient is ~0 (LayerNorm follows): float32 rounding there is ~1e-6 absolute
    result = equiv(NET, "Net", grad=True, atol=1e-5)
    assert result["call_source"] == "comment"
    assert result["status"] == "equal", table(result)
    assert result["notes"] == []  # every torch parameter and buffer found its paddle counterpart
    paths = {leaf["path"] for leaf in result["leaves"]}
    assert {"out", "grad args[0]", "grad fc.weight", "grad conv.weight", "grad bn.weight",
            "grad norm.bias"} <= paths  # fmt: skip


def test_paddle_side_crash_names_the_original_line(equiv: Equiv, wrong_planner: Planner) -> None:
    result = equiv(WRONG, "bad", planner=wrong_planner, example="bad(randn(2, 3))")
    assert result["status"] == "error"
    err = result["paddle"]["error"]
    assert err["type"] == "AttributeError" and "no_such_tanh" in err["message"]
    assert err["line"] == 14 and err["code"] == "return torch.tanh(a)"
    assert result["message"].startswith("paddle side failed at line 14: AttributeError")


def test_torch_side_crash_names_its_line(equiv: Equiv) -> None:
    source = """
    import torch


    def f(x):
        y = x + 1
        return torch.matmul(y, y)
    """
    result = equiv(source, "f", example="f(randn(2, 3))")
    assert result["status"] == "error"
    assert result["torch"]["error"]["line"] == 6
    assert result["message"].startswith("torch side failed at line 6: RuntimeError")


def test_torch_left_in_the_conversion_cannot_run_on_the_paddle_side(equiv: Equiv) -> None:
    source = """
    import torch


    def g(x):
        return torch.special.i1e(torch.matmul(x, x))
    """
    result = equiv(source, "g", example="g(randn(2, 2))")
    assert result["status"] == "error" and result["torch"]["ok"]
    err = result["paddle"]["error"]
    assert (err["type"], err["line"], err["code"]) == ("ImportError", 1, "import torch")
    assert "torch is not importable on the paddle side" in err["message"]
    assert "1 torch use(s) left to port by hand" in result["message"]


def test_missing_example_says_which_one_to_write(equiv: Equiv) -> None:
    result = equiv(ATTENTION, "attention")
    assert result["status"] == "error"
    assert '--example "attention(randn(2, 3), randn(2, 3), randn(2, 3))"' in result["message"]


def test_hanging_target_is_interrupted_and_the_kernel_stays_usable(
    equiv: Equiv, kernel: KernelSession
) -> None:
    source = """
    import torch


    def spin(x):
        while True:
            x = x + 1
    """
    equiv(ATTENTION, "attention", example="attention(randn(1, 2), randn(1, 2), randn(1, 2))")
    starts = kernel.starts
    result = equiv(source, "spin", example="spin(randn(2))", timeout=1.5)
    assert result["status"] == "error"
    assert "longer than 1.5 s and was interrupted" in result["message"]
    assert kernel.starts == starts  # the interrupt sufficed: no restart
    again = equiv(ATTENTION, "attention", example="attention(randn(1, 2), randn(1, 2), randn(1, 2))")
    assert again["status"] == "equal", table(again)


def test_a_dying_kernel_is_restarted_with_a_message(equiv: Equiv, kernel: KernelSession) -> None:
    source = """
    import os


    def die(x):
        os._exit(3)
    """
    starts = kernel.starts
    result = equiv(source, "die", example="die(1)")
    assert result["status"] == "error"
    assert "kernel died" in result["message"]
    assert kernel.starts == starts + 1 and kernel.alive


def test_memory_cap_restarts_the_kernel(equiv: Equiv, kernel: KernelSession) -> None:
    source = """
    import torch


    def big(n: int = 400):
        x = torch.ones(n, 1024, 1024)
        return (x * 2).sum()
    """
    assert equiv(source, "big", example="big(2)")["status"] == "equal"
    idle = rss_mb(kernel.pid or 0)
    assert idle is not None
    cap, kernel.memory_mb = kernel.memory_mb, int(idle) + 300
    starts = kernel.starts
    try:
        result = equiv(source, "big")  # 400 MiB floats twice: ~3.2 GB
    finally:
        kernel.memory_mb = cap
    assert result["status"] == "error"
    assert f"more than {int(idle) + 300} MB of memory" in result["message"]
    assert kernel.starts == starts + 1
    assert equiv(source, "big", example="big(2)")["status"] == "equal"


def test_cli_exit_codes_and_json(tmp_path: Path, wrong_rules: Path) -> None:
    path = tmp_path / "wrong.py"
    path.write_text(WRONG.lstrip("\n"))
    cmd = [sys.executable, "-m", "paddleport", "--rules", str(wrong_rules), "equiv", str(path)]
    proc = subprocess.run([*cmd, "--target", "h", "--example", "h(randn(2, 3))", "--json"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["location"]["line"] == 7
    proc = subprocess.run([*cmd, "--target", "nope"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no top-level function or class named 'nope'" in proc.stdout


def test_kernel_output_never_reaches_our_stdout(equiv: Equiv, capfd: pytest.CaptureFixture[str]) -> None:
    source = """
    import os


    def noisy(x):
        print("python-level")
        os.write(1, b"fd-level-out\\n")
        os.write(2, b"fd-level-err\\n")
        return x
    """
    result = equiv(source, "noisy", example="noisy(3)")
    assert result["status"] == "equal"
    assert "python-level" in result["torch"]["output"]
    out, err = capfd.readouterr()
    assert "fd-level" not in out + err  # the language server's stdout is its JSON-RPC channel


def test_an_interpreter_without_ipykernel_gets_a_clear_error(tmp_path: Path) -> None:
    session = KernelSession(python=sys.executable + "-does-not-exist")
    try:
        result = check_target(session, "def f():\n    return 1\n", str(tmp_path / "f.py"), "f",
                              Planner(load_rules([], include_builtin=False)), Options())  # fmt: skip
    finally:
        session.shutdown()
    assert result["status"] == "error"
    assert result["message"].startswith("could not start a kernel with")


def test_relative_imports_work_and_torch_in_a_sibling_is_reported(
    kernel: KernelSession, equiv_planner: Planner, tmp_path: Path
) -> None:
    pkg = tmp_path / "proj" / "models"
    pkg.mkdir(parents=True)
    (tmp_path / "proj" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("def twice(x):\n    return x * 2\n")
    (pkg / "layers.py").write_text("import torch\n\n\ndef square(x):\n    return torch.matmul(x, x)\n")
    text = (
        "import torch\n"
        "from .helpers import twice\n"
        "\n\n"
        "def f(x):\n"
        "    return twice(torch.matmul(x, x))\n"
        "\n\n"
        "def g(x):\n"
        "    from .layers import square\n"
        "    return square(x)\n"
    )
    path = pkg / "model.py"
    path.write_text(text)
    options = Options(example="f(randn(2, 2))")
    result = check_target(kernel, text, str(path), "f", equiv_planner, options)
    assert result["status"] == "equal", table(result)
    options = Options(example="g(randn(2, 2))")
    result = check_target(kernel, text, str(path), "g", equiv_planner, options)
    assert result["status"] == "error" and result["torch"]["ok"], table(result)
    err = result["paddle"]["error"]
    assert (err["type"], err["line"]) == ("ImportError", 10)
    assert "torch is not importable on the paddle side" in err["message"]
