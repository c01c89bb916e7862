"""The `paddleport` command as a user runs it: real processes, real files."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

RULES = ["--rules", str(FIXTURES / "rules")]
TORCH_FILE = "import torch\nimport torch.nn as nn\n\nm = nn.Conv2d(3, 8, 3, bias=False)  # stem\ny = torch.sum(x, dim=1)\nz = torch.some_new_api(x)\n"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "paddleport", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    src = tmp_path / "proj"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "model.py").write_text(TORCH_FILE, encoding="utf-8")
    (src / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (src / "README.txt").write_text("not python", encoding="utf-8")
    (src / "pkg" / "plain.py").write_text("import os\nprint(os.sep)\n", encoding="utf-8")
    return src


def test_check_prints_linter_lines_and_exits_1(project: Path) -> None:
    result = run(*RULES, "check", str(project))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    model = str(project / "pkg" / "model.py")
    assert f"{model}:4:5: PP100 torch.nn.Conv2d → paddle.nn.Conv2D (bias → bias_attr)" in lines
    assert any(line.startswith(f"{model}:6:5: PP400 `torch.some_new_api` has no paddleport rule") for line in lines)


def test_check_json_fields(project: Path) -> None:
    result = run(*RULES, "check", "--format", "json", str(project / "pkg" / "model.py"))
    data = json.loads(result.stdout)
    conv = next(d for d in data if d["api"] == "torch.nn.Conv2d")
    assert conv == {
        "path": str(project / "pkg" / "model.py"), "line": 4, "col": 5, "end_line": 4,
        "end_col": 14, "code": "PP100", "api": "torch.nn.Conv2d", "tier": "exact",
        "message": conv["message"], "fixable": True,
    }  # fmt: skip
    assert next(d for d in data if d["api"] == "torch.some_new_api")["fixable"] is False


def test_check_clean_file_exits_0(project: Path) -> None:
    result = run("check", str(project / "pkg" / "plain.py"))
    assert result.returncode == 0 and result.stdout == ""


def test_convert_tree_to_tree(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(*RULES, "convert", str(project), "-o", str(out))
    assert result.returncode == 3, result.stderr  # torch.some_new_api stays: still needs torch
    converted = (out / "pkg" / "model.py").read_text(encoding="utf-8")
    assert "paddle.nn.Conv2D(3, 8, 3, bias_attr=False)  # stem" in converted
    assert "torch.some_new_api(x)" in converted
    assert (out / "README.txt").read_text(encoding="utf-8") == "not python"
    assert (out / "pkg" / "plain.py").exists()
    assert "conversion rate:" in result.stdout and "torch.some_new_api" in result.stdout
    assert not list(out.rglob("*.tmp"))


def test_convert_refuses_to_overwrite_without_force(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(*RULES, "convert", str(project), "-o", str(out)).returncode == 3
    again = run(*RULES, "convert", str(project), "-o", str(out))
    assert again.returncode == 2 and "--force" in again.stderr
    assert run(*RULES, "convert", str(project), "-o", str(out), "--force").returncode == 3


def test_convert_in_place_and_diff(project: Path) -> None:
    model = project / "pkg" / "model.py"
    diff = run(*RULES, "convert", str(model), "--diff")
    assert "-y = torch.sum(x, dim=1)" in diff.stdout and "+y = paddle.sum(x, axis=1)" in diff.stdout
    assert model.read_text(encoding="utf-8") == TORCH_FILE  # --diff alone writes nothing
    assert run(*RULES, "convert", str(model), "--in-place").returncode == 3
    assert "paddle.sum(x, axis=1)" in model.read_text(encoding="utf-8")


def test_convert_annotate(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.py"
    run(*RULES, "convert", str(project / "pkg" / "model.py"), "-o", str(out), "--annotate")
    text = out.read_text(encoding="utf-8")
    assert "z = torch.some_new_api(x)  # paddleport: manual — " in text
    ast.parse(text)
    again = tmp_path / "again.py"
    run(*RULES, "convert", str(out), "-o", str(again), "--annotate")
    assert again.read_text(encoding="utf-8") == text


def test_convert_json_summary(project: Path, tmp_path: Path) -> None:
    result = run(*RULES, "convert", str(project), "-o", str(tmp_path / "o"), "--format", "json")
    assert result.returncode == 3
    summary = json.loads(result.stdout)
    assert summary["files"] == 3 and summary["manual"] == 1
    assert summary["top_unconverted"][0]["api"] == "torch.some_new_api"
    model = str(tmp_path / "o" / "pkg" / "model.py")
    assert list(summary)[:3] == ["needs_torch", "verdict", "torch_files"] and summary["needs_torch"] is True
    assert summary["torch_files"] == [{
        "path": model,
        "imports": [{"line": 1, "col": 1, "kind": "import", "api": "torch",
                     "message": "`import torch` runs: the file needs torch"}],
        "blockers": [{"line": 6, "col": 5, "kind": "blocking", "api": "torch.some_new_api",
                      "message": summary["torch_files"][0]["blockers"][0]["message"]}],
    }]  # fmt: skip
    assert summary["blockers"] == 2 and summary["optional"] == []
    assert summary["blocking_apis"] == [{"api": "torch.some_new_api", "count": 1}]
    per_file = {Path(f["path"]).name: f for f in summary["per_file"]}
    assert per_file["model.py"]["needs_torch"] is True and per_file["plain.py"]["needs_torch"] is False
    assert per_file["model.py"]["exact"] == 2 and per_file["model.py"]["blockers"] == 2


def test_convert_lists_blockers_first_and_exits_3(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(*RULES, "convert", str(project), "-o", str(out))
    assert result.returncode == 3, result.stderr
    model = out / "pkg" / "model.py"
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "still need torch:    1 of 3 files",
        f"  {model}:1:1 torch: `import torch` runs: the file needs torch",
        f"  {model}:6:5 torch.some_new_api: `torch.some_new_api` has no paddleport rule yet: port it by "
        "hand, or add a rule in a project rule folder (see `paddleport rules show`)",
        "The converted project will NOT run without torch: 1 of 3 files still import torch "
        "(1 import, 1 torch use left).",
    ]
    assert lines.index(lines[3]) < lines.index("files:               3 (1 changed)")
    assert model.read_text(encoding="utf-8").splitlines()[5] == "z = torch.some_new_api(x)"


def test_convert_torch_free_project_exits_0(tmp_path: Path) -> None:
    src = tmp_path / "clean"
    src.mkdir()
    (src / "m.py").write_text("import torch\nimport torchvision\ny = torchvision.some_new_api(torch.sum(x, dim=1))\n",
                              encoding="utf-8")  # fmt: skip
    (src / "opt.py").write_text("try:\n    import torch\nexcept ImportError:\n    torch = None\n", encoding="utf-8")
    result = run(*RULES, "convert", str(src / "m.py"), "--diff")
    assert result.returncode == 3 and "m.py:2:1 torchvision: `import torchvision` runs" in result.stderr
    (src / "m.py").write_text("import torch\ny = torch.sum(x, dim=1)\n", encoding="utf-8")
    result = run(*RULES, "convert", str(src), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[0].startswith("No file imports or uses torch any more. (1 optional use")


def test_convert_report_lists_every_item(project: Path, tmp_path: Path) -> None:
    (project / "pkg" / "more.py").write_text(
        "import torch.nn as nn\n\ndef f(t):\n    return nn.Linear(2, 3), t.view(2, 3)\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run(*RULES, "convert", str(project), "-o", str(out))
    report = (out / "paddleport-report.md").read_text(encoding="utf-8")
    assert f"report:              {out / 'paddleport-report.md'} (1 to review, 1 left as written)" in result.stdout
    model, more = out / "pkg" / "model.py", out / "pkg" / "more.py"
    assert report.startswith("# paddleport conversion report\n\nThe converted project will NOT run without torch")
    assert f"- `{model}:6:5` blocking `torch.some_new_api`: " in report
    assert f"- `{more}:4:12` review `torch.nn.Linear`: torch.nn.Linear → paddle.nn.Linear" in report
    assert f"- `{more}:4:38` manual `torch.Tensor.view`: if `t` is a torch.Tensor" in report
    assert more.read_text(encoding="utf-8").splitlines()[3][37:].startswith("view(2, 3)")
    again = run(*RULES, "convert", str(project), "-o", str(out))
    assert again.returncode == 2 and "--force" in again.stderr
    as_json = tmp_path / "r.json"
    run(*RULES, "convert", str(project / "pkg" / "more.py"), "--diff", "--report", str(as_json))
    data = json.loads(as_json.read_text(encoding="utf-8"))
    assert [(i["line"], i["col"], i["kind"], i["api"]) for i in data["items"]] == [
        (4, 12, "review", "torch.nn.Linear"), (4, 38, "manual", "torch.Tensor.view")]
    assert data["needs_torch"] is False and data["review_items"] == 1
    run(*RULES, "convert", str(project), "-o", str(tmp_path / "none"), "--no-report")
    assert not (tmp_path / "none" / "paddleport-report.md").exists()


def test_parallel_and_serial_runs_agree(tmp_path: Path) -> None:
    src = tmp_path / "many"
    src.mkdir()
    for i in range(8):
        (src / f"m{i}.py").write_text(TORCH_FILE.replace("dim=1", f"dim={i}"), encoding="utf-8")
    a = run(*RULES, "convert", str(src), "-o", str(tmp_path / "a"), "--jobs", "1", "--format", "json")
    b = run(*RULES, "convert", str(src), "-o", str(tmp_path / "b"), "--jobs", "2", "--format", "json")
    assert json.loads(a.stdout.replace(str(tmp_path / "a"), "OUT")) == json.loads(
        b.stdout.replace(str(tmp_path / "b"), "OUT"))  # paths name the output files
    for i in range(8):
        assert (tmp_path / "a" / f"m{i}.py").read_text() == (tmp_path / "b" / f"m{i}.py").read_text()


def test_bad_input_gets_a_message_and_the_run_goes_on(tmp_path: Path) -> None:
    src = tmp_path / "bad"
    src.mkdir()
    (src / "good.py").write_text(TORCH_FILE, encoding="utf-8")
    (src / "syntax.py").write_text("import torch\ny = torch.sum(x\n", encoding="utf-8")
    (src / "latin1.py").write_bytes("import torch\n# caf\xe9\n".encode("latin-1"))
    (src / "empty.py").write_text("", encoding="utf-8")
    (src / "binary.py").write_bytes(b"\x00\x01\x02torch")
    big = "import torch\n" + "y = torch.sum(x, dim=1)  # line\n" * 50_000
    (src / "big.py").write_text(big, encoding="utf-8")
    broken_rules = tmp_path / "rules"
    broken_rules.mkdir()
    (broken_rules / "broken.toml").write_text('[[rule]]\napi = "torch.sum"\npaddle = 1\n', encoding="utf-8")
    out = tmp_path / "out"
    result = run("--rules", str(broken_rules), "convert", str(src), "-o", str(out), "--no-jedi")
    assert result.returncode == 3, result.stderr
    report = result.stdout
    assert "syntax.py: line 2" in report
    assert "latin1.py: skipped: not UTF-8" in report
    assert "binary.py: skipped: binary file" in report
    assert "paddle.nn.Conv2D" in (out / "good.py").read_text(encoding="utf-8")
    assert (out / "empty.py").read_text(encoding="utf-8") == ""
    assert (out / "big.py").read_text(encoding="utf-8").count("paddle.sum(x, axis=1)") == 50_000
    assert (out / "syntax.py").read_text(encoding="utf-8") == "import torch\ny = torch.sum(x\n"
    checked = run("--rules", str(broken_rules), "check", str(src / "good.py"))
    assert f"rule error: {broken_rules / 'broken.toml'}:torch.sum:paddle: must be a string" in checked.stderr


def test_missing_path(tmp_path: Path) -> None:
    result = run("convert", str(tmp_path / "nope.py"), "--diff")
    assert result.returncode == 2 and "no such file" in result.stderr


def test_rules_commands(tmp_path: Path) -> None:
    listed = run("rules", "list")
    assert "torch.nn.Conv2d" in listed.stdout and listed.returncode == 0
    shown = run("rules", "show", "torch.nn.Conv2d")
    assert "paddle.nn.Conv2D" in shown.stdout and "```python" in shown.stdout
    assert run("rules", "show", "torch.nope").returncode == 1
    assert run("rules", "validate").returncode == 0
    (tmp_path / "bad.toml").write_text('[[rule]]\napi = "torch.x"\n', encoding="utf-8")
    bad = run("rules", "validate", str(tmp_path))
    assert bad.returncode == 1 and ":torch.x:paddle: required" in bad.stdout


def test_project_rule_folder_is_discovered(project: Path) -> None:
    rules = project / ".paddleport" / "rules"
    rules.mkdir(parents=True)
    (rules / "ours.toml").write_text(
        '[[rule]]\napi = "torch.some_new_api"\npaddle = "paddle.our_api"\n', encoding="utf-8")
    result = run("convert", "pkg/model.py", "--diff", cwd=project)
    assert "+z = paddle.our_api(x)" in result.stdout
