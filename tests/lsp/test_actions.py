"""Code actions over a real connection: quick fix, fix-all (lazy and eager), fix a rule, ignore."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_helpers import TORCH_FILE, actions_at, apply, open_doc, wait_version
from lsprotocol import types
from pytest_lsp import LanguageClient

from paddleport.catalog import make_planner
from paddleport.rewrite.convert import convert_source
from paddleport.rules.model import Tier

pytestmark = pytest.mark.asyncio(loop_scope="module")


def edits_for(edit: types.WorkspaceEdit | None, uri: str) -> list[types.TextEdit]:
    assert edit is not None and edit.changes is not None
    return list(edit.changes[uri])


async def test_quick_fix_comes_from_the_diagnostic(shared: LanguageClient, shared_workspace: Path) -> None:
    uri = (shared_workspace / "qf.py").as_uri()
    diags = await open_doc(shared, uri, TORCH_FILE)
    conv = next(d for d in diags if d.code == "torch.nn.Conv2d")
    actions = await actions_at(shared, uri, [conv], only=[types.CodeActionKind.QuickFix])
    titles = [a.title for a in actions]
    assert titles[0] == "Paddleport (torch.nn.Conv2d): Replace with paddle.nn.Conv2D"
    assert "Paddleport (torch.nn.Conv2d): Fix all `torch.nn.Conv2d` in this file" in titles
    assert "Paddleport (torch.nn.Conv2d): Ignore torch uses on this line" in titles
    fixed = apply(TORCH_FILE, edits_for(actions[0].edit, uri))
    assert "self.conv = paddle.nn.Conv2D(3, 8, 3, bias_attr=False)" in fixed
    assert actions[0].is_preferred
    assert fixed.count("import paddle\n") == 1  # the fix brings the import it needs
    assert "paddle" in _bound_names(fixed)


def _bound_names(code: str) -> set[str]:
    import ast

    return {a.asname or a.name for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Import) for a in n.names}


async def test_a_quick_fix_in_a_file_that_imports_paddle_adds_no_import(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    uri = (shared_workspace / "qf2.py").as_uri()
    text = "import paddle\nimport torch\nx = torch.zeros(2)\n"
    diags = await open_doc(shared, uri, text)
    zeros = next(d for d in diags if d.code == "torch.zeros")
    [fix, *_] = await actions_at(shared, uri, [zeros], only=[types.CodeActionKind.QuickFix])
    fixed = apply(text, edits_for(fix.edit, uri))
    assert fixed == "import paddle\nimport torch\nx = paddle.zeros([2])\n"


async def test_a_quick_fix_to_a_plain_python_name_brings_its_import(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    """torch.jit.Final becomes typing.Final: the single fix adds `import typing`, as convert does."""
    uri = (shared_workspace / "qf3.py").as_uri()
    text = "import torch\n\n\nclass A:\n    n: torch.jit.Final[int] = 3\n"
    diags = await open_doc(shared, uri, text)
    final = next(d for d in diags if d.code == "torch.jit.Final")
    [fix, *_] = await actions_at(shared, uri, [final], only=[types.CodeActionKind.QuickFix])
    fixed = apply(text, edits_for(fix.edit, uri))
    assert "n: typing.Final[int] = 3" in fixed and "typing" in _bound_names(fixed)
    assert "paddle" not in _bound_names(fixed)  # nothing in the fix needs paddle
    namespace: dict[str, object] = {}
    exec(compile(fixed.replace("import torch\n", ""), "qf3.py", "exec"), namespace)


async def test_fix_all_on_save_is_eager_and_matches_the_cli(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    uri = (shared_workspace / "all.py").as_uri()
    await open_doc(shared, uri, TORCH_FILE)
    [action] = await actions_at(shared, uri, [], only=["source.fixAll"])
    assert action.kind == "source.fixAll.paddleport"
    fixed = apply(TORCH_FILE, edits_for(action.edit, uri))
    planner = make_planner()
    expected = convert_source(
        TORCH_FILE, planner,
        select=lambda f: f.tier is Tier.EXACT and f.use.confidence >= 2,
    ).code  # fmt: skip
    assert fixed == expected
    assert "import paddle" in fixed and "paddle.nn.Conv2D" in fixed


async def test_fix_all_for_the_lightbulb_is_resolved_lazily(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    uri = (shared_workspace / "lazy.py").as_uri()
    await open_doc(shared, uri, TORCH_FILE)
    actions = await actions_at(shared, uri, [])
    [fix_all] = [a for a in actions if a.kind == "source.fixAll.paddleport"]
    assert fix_all.edit is None and fix_all.data is not None
    resolved = await shared.code_action_resolve_async(fix_all)
    fixed = apply(TORCH_FILE, edits_for(resolved.edit, uri))
    assert "paddle.nn.Conv2D" in fixed and "import paddle" in fixed


async def test_fix_all_of_one_rule(shared: LanguageClient, shared_workspace: Path) -> None:
    uri = (shared_workspace / "rule.py").as_uri()
    text = "import torch\na = torch.zeros(2)\nb = torch.zeros(3)\nc = torch.ones(2)\n"
    diags = await open_doc(shared, uri, text)
    zeros = [d for d in diags if d.code == "torch.zeros"]
    actions = await actions_at(shared, uri, zeros[:1], only=[types.CodeActionKind.QuickFix])
    [rule_fix] = [a for a in actions if "Fix all `torch.zeros`" in a.title]
    resolved = await shared.code_action_resolve_async(rule_fix)
    fixed = apply(text, edits_for(resolved.edit, uri))
    assert fixed.count("paddle.zeros(") == 2 and "torch.ones(2)" in fixed


async def test_ignore_this_line(shared: LanguageClient, shared_workspace: Path) -> None:
    uri = (shared_workspace / "ignore.py").as_uri()
    text = "import torch\na = torch.zeros(2)  # keep\n"
    diags = await open_doc(shared, uri, text)
    zeros = next(d for d in diags if d.code == "torch.zeros")
    actions = await actions_at(shared, uri, [zeros], only=[types.CodeActionKind.QuickFix])
    [ignore] = [a for a in actions if "Ignore" in a.title]
    fixed = apply(text, edits_for(ignore.edit, uri))
    assert fixed == "import torch\na = torch.zeros(2)  # keep  # paddleport: ignore\n"
    shared.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
    ))  # fmt: skip
    after = await wait_version(shared, uri, 2)
    assert "torch.zeros" not in {d.code for d in after}


async def test_no_fix_all_when_nothing_is_fixable(shared: LanguageClient, shared_workspace: Path) -> None:
    uri = (shared_workspace / "clean.py").as_uri()
    await open_doc(shared, uri, "import paddle\nx = paddle.zeros([2])\n")
    assert await actions_at(shared, uri, []) == []
