"""[[module]] rules: a library's torch backend module becomes its Paddle twin (einops layers)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from paddleport.rules.loader import load_rules
from tests.conftest import dedent

ROOT = Path(__file__).resolve().parent.parent
# einops is no dependency of paddleport: the programs bench installs it into its corpus

SOURCE = dedent("""
    import torch
    from torch import nn
    from einops import rearrange
    from einops.layers.torch import Rearrange, Reduce  # the layers
    import einops.layers.torch as L
    import einops.layers.torch

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(Rearrange('b c h w -> b (h w) c'), L.Reduce('b n c -> b c', 'mean'))

        def forward(self, x):
            return rearrange(self.net(x), 'b c -> c b')
""")


def test_backend_imports_point_at_the_paddle_module(shipped_planner: Planner) -> None:
    out = convert_source(SOURCE, shipped_planner)
    assert out.error is None
    assert "from einops.layers.paddle import Rearrange, Reduce  # the layers\n" in out.code
    assert "import einops.layers.paddle as L\n" in out.code
    # a bare import binds `einops` and its uses spell the torch module out: left as written
    assert "import einops.layers.torch\n" in out.code
    assert "from einops import rearrange\n" in out.code
    assert convert_source(out.code, shipped_planner).code == out.code  # converting twice changes nothing


def test_a_single_use_fix_leaves_imports_alone(shipped_planner: Planner) -> None:
    """Only a whole-file conversion rewrites imports; a quick fix edits its own use."""
    out = convert_source(SOURCE, shipped_planner, select=lambda fix: fix.use.api == "torch.nn.Sequential")
    assert "from einops.layers.torch import" in out.code


@pytest.mark.parametrize(("entry", "problem"), [
    ('torch = "torch.nn"\npaddle = "paddle.nn"\nnote = "x"', "torch's own modules"),
    ('torch = "a.torch"\npaddle = "a b"\nnote = "x"', "dotted module name"),
    ('torch = "a.torch"\npaddle = "a.paddle"', "note"),
])  # fmt: skip
def test_module_rules_are_validated(tmp_path: Path, entry: str, problem: str) -> None:
    (tmp_path / "m.toml").write_text(f"[[module]]\n{entry}\n", encoding="utf-8")
    rules = load_rules([tmp_path], include_builtin=False, code_templates_in=[tmp_path])
    assert not rules.modules
    assert any(problem in e.message for e in rules.errors), rules.errors


def test_project_folders_cannot_hold_module_rules(tmp_path: Path) -> None:
    """An import rewrite decides which code runs: workspaces may not add one."""
    (tmp_path / "m.toml").write_text('[[module]]\ntorch = "a.torch"\npaddle = "evil"\nnote = "x"\n', encoding="utf-8")
    rules = load_rules([tmp_path], include_builtin=False)
    assert not rules.modules and rules.errors


RUN = """
import json, sys
import numpy as np
x = np.arange(2 * 3 * 4 * 4, dtype="float32").reshape(2, 3, 4, 4)
{body}
print(json.dumps(np.asarray(out).tolist()))
"""


def test_converted_einops_layers_compute_the_same(shipped_planner: Planner, tmp_path: Path) -> None:
    body = SOURCE.replace("import einops.layers.torch\n", "") + "out = Head()(torch.tensor(x)).numpy()\n"
    converted = convert_source(body, shipped_planner).code
    assert "torch" not in converted.replace("einops.layers.paddle", "")
    import einops  # the frameworks extra installs it: converted code imports einops.layers.paddle

    site = Path(einops.__file__).resolve().parent.parent
    results = []
    for code, blocked in ((body, ""), (converted, "import sys\nsys.modules['torch'] = None\n")):
        script = tmp_path / "run.py"
        script.write_text(blocked + RUN.format(body=code), encoding="utf-8")
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                              env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert results[0] == results[1]
