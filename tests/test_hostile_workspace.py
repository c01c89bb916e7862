"""A workspace nobody trusts: opening it runs none of its code, its rule files inject none.

Editors start the server with the workspace as the working directory; a file
there named like a module the server imports must never run. Project rule
files are written into the user's code by fixes and ``convert``: a field that
claims to be a name must be a name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SHADOWED = ["argparse", "pygls", "libcst", "tomllib", "uuid", "json", "logging", "lsprotocol", "attrs",
            "cattrs", "asyncio", "typing_extensions", "concurrent", "threading", "selectors"]
EVIL_RULE = '''[[rule]]
api = "torch.nn.functional.relu"
paddle = "paddle.nn.functional.relu if __import__('os').system('touch {marker}') == 0 else paddle.nn.functional.relu"
'''


def hostile_workspace(root: Path, names: list[str]) -> Path:
    ws = root / "ws"
    ws.mkdir()
    for name in names:
        (ws / f"{name}.py").write_text(f"open({str(ws / ('RAN-' + name))!r}, 'w').close()\n")
    return ws


def frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def initialize_and_exit(argv: list[str], cwd: Path) -> str:
    """Start the server as an editor does, initialize, shut down; the server's stdout."""
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"processId": None, "rootUri": cwd.as_uri(), "capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ]  # fmt: skip
    result = subprocess.run(argv, input=b"".join(frame(m) for m in messages), cwd=cwd,
                            capture_output=True, timeout=120)  # fmt: skip
    return result.stdout.decode(errors="replace")


def test_server_started_in_the_workspace_runs_none_of_its_files(tmp_path: Path) -> None:
    """`python -m paddleport lsp` with the workspace as cwd, as the README's Neovim config once did."""
    ws = hostile_workspace(tmp_path, SHADOWED)
    out = initialize_and_exit([sys.executable, "-m", "paddleport", "lsp"], ws)
    assert '"capabilities"' in out  # the server answered initialize
    assert sorted(p.name for p in ws.glob("RAN-*")) == []


def test_the_editor_command_line_never_imports_paddleport_from_the_workspace(tmp_path: Path) -> None:
    """With `-P` (what the VS Code client and the README use) even a workspace `paddleport.py` is inert."""
    ws = hostile_workspace(tmp_path, [*SHADOWED, "paddleport"])
    out = initialize_and_exit([sys.executable, "-P", "-m", "paddleport", "lsp"], ws)
    assert '"capabilities"' in out
    assert sorted(p.name for p in ws.glob("RAN-*")) == []


def test_an_injecting_project_rule_is_refused_by_convert(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    rules = tmp_path / ".paddleport" / "rules"
    rules.mkdir(parents=True)
    (rules / "evil.toml").write_text(EVIL_RULE.format(marker=marker))
    src = tmp_path / "m.py"
    src.write_text("import torch\nimport torch.nn.functional as F\ny = F.relu(torch.ones(2))\n")
    result = subprocess.run([sys.executable, "-m", "paddleport", "convert", "m.py", "--in-place"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)  # fmt: skip
    converted = src.read_text()
    assert "__import__" not in converted and "system" not in converted
    assert "paddle.nn.functional.relu(" in converted  # the built-in rule still applies
    assert "evil.toml:torch.nn.functional.relu:paddle: must be a dotted name" in result.stderr
    subprocess.run([sys.executable, str(src)], cwd=tmp_path, capture_output=True, timeout=120)
    assert not marker.exists()


@pytest.mark.parametrize("command", ["check", "rules validate"])
def test_an_injecting_project_rule_is_named_by_check_and_validate(tmp_path: Path, command: str) -> None:
    rules = tmp_path / ".paddleport" / "rules"
    rules.mkdir(parents=True)
    (rules / "evil.toml").write_text(EVIL_RULE.format(marker=tmp_path / "PWNED"))
    (tmp_path / "m.py").write_text("import torch\n")
    args = [*command.split(), "m.py"] if command == "check" else [*command.split(), str(rules)]
    result = subprocess.run([sys.executable, "-m", "paddleport", *args], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert "must be a dotted name" in result.stderr + result.stdout


def test_a_project_rule_may_not_carry_a_statement_template(tmp_path: Path) -> None:
    """Statement templates are code: only the shipped rules have them."""
    from paddleport.rewrite.transforms import TRANSFORMS
    from paddleport.rules.loader import load_rules

    (tmp_path / "evil.toml").write_text('''[[rule]]
api = "torch.backends.cudnn.benchmark"
kind = "attribute"
statement = "__import__('os').system('touch pwned')"
''')
    rules = load_rules([tmp_path], known_transforms=TRANSFORMS.keys())
    assert any(":statement: a statement template is code" in str(e) for e in rules.errors)
    assert rules.get("torch.backends.cudnn.benchmark").statement != "__import__('os').system('touch pwned')"
