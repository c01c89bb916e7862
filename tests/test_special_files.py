"""Only regular files are read: a named pipe never hangs, /dev/zero never fills memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paddleport.files import ReadProblem, read_regular, read_source
from paddleport.rules.loader import load_rules


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.py").write_text("import torch\nx = torch.rand(3)\n")
    os.mkfifo(src / "pipe.py")
    (src / "zero.py").symlink_to("/dev/zero")
    return src


def test_read_source_refuses_what_is_not_a_regular_file(tree: Path) -> None:
    with pytest.raises(ReadProblem, match="named pipe"):
        read_source(tree / "pipe.py")
    with pytest.raises(ReadProblem, match="character device"):
        read_source(tree / "zero.py")


def test_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    big.write_bytes(b"#" * 2048)
    with pytest.raises(ReadProblem, match="larger than"):
        read_regular(big, limit=1024)


@pytest.mark.parametrize("command", [["check"], ["convert", "--diff"]])
def test_cli_over_a_tree_with_a_fifo_and_a_device_finishes(tree: Path, command: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "paddleport", *command, str(tree)],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    out = result.stdout + result.stderr
    assert "not a regular file (a named pipe)" in out
    assert "not a regular file (a character device)" in out
    assert "torch.rand" in out or "paddle.rand" in out  # the regular file was still converted


def test_a_fifo_rule_file_is_an_error_not_a_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.toml")
    rules = load_rules([tmp_path], include_builtin=False)
    assert any("named pipe" in str(e) for e in rules.errors)
