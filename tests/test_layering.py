"""The language server and the converter never load torch or paddle: only the kernel does."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "server" / "paddleport"

PROBE = """
import sys
from importlib.abc import MetaPathFinder

class Block(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'paddle', 'numpy'):
            raise ImportError('blocked: ' + name)

sys.meta_path.insert(0, Block())
import paddleport.cli.main, paddleport.batch, paddleport.verify, paddleport.catalog
import paddleport.analysis.jedi_types, paddleport.rewrite.convert
import paddleport.lsp.server
from paddleport.catalog import make_planner
from paddleport.rewrite.convert import convert_source
print(convert_source('import torch\\ny = torch.sum(x, dim=1)\\n', make_planner()).code, end='')
"""


def test_server_and_converter_import_without_frameworks() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "paddle.sum(x, axis=1)" in result.stdout


def test_only_kernel_modules_import_frameworks() -> None:
    pattern = re.compile(r"^\s*(import|from)\s+(torch|paddle)\b", re.M)
    offenders = [
        str(path.relative_to(SERVER))
        for path in SERVER.rglob("*.py")
        if "kernel" not in path.relative_to(SERVER).parts and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
