"""The project index: receivers typed from what other files of the project say."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from paddleport.analysis.finder import analyze
from paddleport.analysis.project import ProjectIndex, absolute_import, module_name, project_files
from paddleport.analysis.uses import Confidence, UseKind
from paddleport.batch import build_index, convert_many
from paddleport.rewrite.fixes import Planner
from tests.conftest import dedent

PROJECT = {
    "pkg/__init__.py": """
        from .helpers import helper, make  # re-exported
        """,
    "pkg/helpers.py": """
        import torch

        def helper(x):
            return x[:, 1:]

        def make(n):
            out = torch.zeros(n)
            return out

        def chain(x):
            return helper(x)

        def scale(y):
            return y.reshape(-1)

        def words(s):
            return s.split(".")

        def passed_around(z):
            return z.reshape(-1)

        def run(f, v):
            return f(v)
        """,
    "pkg/models/__init__.py": "",
    "pkg/models/blocks.py": """
        import torch
        from torch import nn

        class Base(nn.Module):
            def __init__(self, cls_token=True):
                super().__init__()
                self.cls_token = nn.Parameter(torch.zeros(1, 1, 4)) if cls_token else None

        class Block(nn.Module):
            def forward(self, x):
                return x * 2
        """,
    "pkg/models/net.py": """
        import torch
        from ..helpers import scale, chain, words, run, passed_around
        from pkg import helper, make
        from . import blocks

        class Net(blocks.Base):
            def __init__(self):
                super().__init__()
                self.block = blocks.Block()

            def forward(self, x):
                y = helper(x)
                z = make(3)
                w = self.block(x)
                c = chain(x)
                n = words("a.b")
                r = run(passed_around, x)
                return (y.reshape(2, -1), z.view(-1), w.view(-1), c.view(-1),
                        self.cls_token.expand(2, -1, -1), scale(x), n, r)
        """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in PROJECT.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text), encoding="utf-8")
    return tmp_path


@pytest.fixture
def index(project: Path, shipped_planner: Planner) -> ProjectIndex:
    return build_index(sorted((project / "pkg").rglob("*.py")), shipped_planner)


def test_module_names_follow_the_packages(project: Path) -> None:
    assert module_name(project / "pkg" / "models" / "net.py") == ("pkg.models.net", False)
    assert module_name(project / "pkg" / "__init__.py") == ("pkg", True)
    assert absolute_import("pkg.models.net", False, 2, "helpers") == "pkg.helpers"
    assert absolute_import("pkg.models", True, 1, None) == "pkg.models"


def test_converting_a_subfolder_reads_the_rest_of_its_package(project: Path) -> None:
    extra = {p.relative_to(project).as_posix() for p in project_files([project / "pkg" / "models" / "net.py"])}
    assert extra == {"pkg/__init__.py", "pkg/helpers.py", "pkg/models/__init__.py", "pkg/models/blocks.py"}


def test_names_resolve_through_relative_imports_and_re_exports(index: ProjectIndex) -> None:
    assert index.resolve("pkg.models.net", ["helper"]) == ("pkg.helpers", "helper")
    assert index.resolve("pkg.models.net", ["scale"]) == ("pkg.helpers", "scale")
    assert index.resolve("pkg.models.net", ["blocks", "Base"]) == ("pkg.models.blocks", "Base")
    assert index.resolve("pkg.models.net", ["torch", "zeros"]) is None


def test_what_functions_return(index: ProjectIndex) -> None:
    make, helper, chain = ("pkg.helpers", "make"), ("pkg.helpers", "helper"), ("pkg.helpers", "chain")
    assert index.returns_conf(make, (0,)) == Confidence.HIGH
    assert index.returns_conf(helper, (Confidence.MEDIUM,)) == Confidence.MEDIUM
    assert index.returns_conf(helper, (0,)) == 0  # a slice of a list is a list
    assert index.returns_conf(chain, (Confidence.HIGH,)) == Confidence.MEDIUM
    assert index.returns_conf(("pkg.helpers", "words"), (0,)) == 0


def test_parameters_every_caller_passes_a_tensor(index: ProjectIndex) -> None:
    assert index.param_tensors[("pkg.helpers", "scale")] == {"y": Confidence.MEDIUM}
    assert ("pkg.helpers", "words") not in index.param_tensors  # called with a string
    assert ("pkg.helpers", "passed_around") not in index.param_tensors  # passed as a value


def _method_uses(text: str, planner: Planner, index: ProjectIndex | None, module: str) -> dict[str, Confidence]:
    facts = index.facts(module) if index is not None else None
    analysis = analyze(text, planner.rules, project=facts)
    return {
        analysis.source.line_text(analysis.source.position(u.focus_start)[0]).strip()
        + f" @{analysis.source.position(u.focus_start)[1]}": u.confidence
        for u in analysis.uses
        if u.kind is UseKind.METHOD_CALL
    }


def test_receivers_typed_from_other_files(project: Path, index: ProjectIndex, shipped_planner: Planner) -> None:
    text = (project / "pkg" / "models" / "net.py").read_text(encoding="utf-8")
    alone = _method_uses(text, shipped_planner, None, "pkg.models.net")
    indexed = _method_uses(text, shipped_planner, index, "pkg.models.net")
    assert sorted(alone.values()) == [Confidence.LOW] * 4 + [Confidence.MEDIUM]  # only self.block(x) is known
    assert all(conf >= Confidence.MEDIUM for conf in indexed.values()), indexed
    assert len(indexed) == 5  # y.reshape, z.view, w.view, c.view, self.cls_token.expand


def test_untyped_parameter_typed_by_its_callers(project: Path, index: ProjectIndex,
                                                shipped_planner: Planner) -> None:  # fmt: skip
    text = (project / "pkg" / "helpers.py").read_text(encoding="utf-8")
    uses = _method_uses(text, shipped_planner, index, "pkg.helpers")
    assert uses["return y.reshape(-1) @13"] == Confidence.MEDIUM
    assert uses["return z.reshape(-1) @13"] == Confidence.LOW  # passed to run(): callers unknown
    assert 'return s.split(".") @13' not in uses  # text as the separator: str.split, never a tensor's


@pytest.mark.parametrize("jobs", [1, 2])
def test_convert_many_uses_the_index(project: Path, jobs: int) -> None:
    files = sorted((project / "pkg").rglob("*.py"))
    results = {r.path.name: r for r in convert_many(files, jobs=jobs)}
    net = results["net.py"].code
    assert net is not None
    assert "y.reshape([2, -1])" in net
    assert "z.reshape([-1])" in net and "w.reshape([-1])" in net and "c.reshape([-1])" in net
    assert "self.cls_token.expand([2, -1, -1])" in net
    helpers = results["helpers.py"].code
    assert helpers is not None
    assert "y.reshape([-1])" in helpers and "z.reshape(-1)" in helpers and 's.split(".")' in helpers
    alone = {r.path.name: r for r in convert_many(files, jobs=jobs, use_index=False)}
    assert "y.reshape(2, -1)" in (alone["net.py"].code or "")
    assert [r.path for r in convert_many(files, jobs=jobs)] == files  # input order


def test_local_inference_without_the_index(shipped_planner: Planner) -> None:
    text = dedent("""
        import torch
        from typing import Optional

        def f(mask: Optional[torch.Tensor] = None, other: torch.Tensor | None = None):
            def n2p(w):
                return torch.from_numpy(w)
            a = mask.view(2, -1)
            b = other.view(2, -1)
            c = n2p(w).flatten(1)
            std = (mask + 1).sqrt()
            d = (mask / std).reshape(-1)
        """)
    uses = _method_uses(text, shipped_planner, None, "m")
    assert all(conf >= Confidence.MEDIUM for conf in uses.values()), uses
    assert len(uses) == 5


def test_few_files_read_the_rest_of_the_package_on_demand(project: Path, shipped_planner: Planner) -> None:
    index = build_index([project / "pkg" / "models" / "net.py"], shipped_planner)
    text = (project / "pkg" / "models" / "net.py").read_text(encoding="utf-8")
    uses = _method_uses(text, shipped_planner, index, "pkg.models.net")
    assert all(conf >= Confidence.MEDIUM for conf in uses.values()), uses
    assert {"pkg.helpers", "pkg.models.blocks"} <= set(index.modules)
    assert "pkg.models" not in index.modules  # no name was resolved through it


def _processes_with(marker: str) -> list[str]:
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes():
                found.append(environ.parent.name)
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_no_process_outlives_convert_with_jedi(project: Path, tmp_path: Path) -> None:
    """jedi's inference subprocess (one per pool worker) is stopped when the conversion ends."""
    marker = f"PADDLEPORT_TEST_{uuid.uuid4().hex}"
    env = {**os.environ, marker: "1"}
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "paddleport", "convert", str(project / "pkg"), "-o", str(out),
                    "--jedi", "-j", "2", "-q"], check=True, env=env, capture_output=True, timeout=600)  # fmt: skip
    assert (out / "models" / "net.py").is_file()
    # Checked at once: the shutdown waits for jedi's subprocess before the workers exit,
    # while a subprocess left to notice its closed pipe could still be running (for seconds
    # when it was busy, as over timm).
    assert _processes_with(marker) == []


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_star_import_brings_the_other_modules_torch_names(tmp_path: Path, jobs: int) -> None:
    """`from .a import *` copies a's public `torch`, `F`, `nn` (no `__all__`): they convert too."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("import torch\nimport torch.nn.functional as F\nfrom torch import nn\n")
    (pkg / "b.py").write_text("from .a import *\n\nhas_silu = 'silu' in dir(torch.nn.functional)\n"
                              "act = F.silu\n\ndef make():\n    return nn.ReLU()\n")  # fmt: skip
    (pkg / "c.py").write_text("__all__ = ['x']\nimport torch\nx = 1\n")
    (pkg / "d.py").write_text("from .c import *\ntorch = None\n")
    (pkg / "e.py").write_text("import math\n")
    (pkg / "f.py").write_text("x = 1\n")  # convert_many runs workers from 4 files on
    results = {r.path.name: r.code for r in convert_many(sorted(pkg.glob("*.py")), jobs=jobs)}
    assert results["b.py"] == ("from .a import *\nimport paddle\n\nhas_silu = hasattr(paddle.nn.functional, 'silu')\n"
                               "act = paddle.nn.functional.silu\n\ndef make():\n    return paddle.nn.ReLU()\n")  # fmt: skip
    assert results["d.py"] in (None, "from .c import *\ntorch = None\n")  # c exports only x
