"""The equivalence command and code lens over a real stdio language server (pytest-lsp)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.kernel.conftest import RULES

pytestmark = pytest.mark.asyncio(loop_scope="module")

SOURCE = """\
import torch


def plain(a, b):
    return a + b


# paddleport: example pairs(randn(3, 4))
def pairs(x):
    y = torch.matmul(x, x.transpose(0, 1))
    return y * 2


def spin(x):
    while True:
        x = torch.matmul(x, x)
"""


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "paddleport", "--rules", str(RULES), "lsp"]
    ),
)
async def client(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[None]:
    root = tmp_path_factory.mktemp("lsp_equiv")
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(work_done_progress=True),
                notebook_document=types.NotebookDocumentClientCapabilities(
                    synchronization=types.NotebookDocumentSyncClientCapabilities()
                ),
            ),
            root_uri=root.as_uri(),
            initialization_options={"paddleport": {"equivalence": {"timeout": 2}}},
        )
    )
    lsp_client.root = root  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def _open(client: LanguageClient, name: str, text: str) -> str:
    uri = (client.root / name).as_uri()  # type: ignore[attr-defined]
    (client.root / name).write_text(text)  # type: ignore[attr-defined]
    waiting = client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )
    await asyncio.wait_for(waiting, 20)
    return uri


async def _check(client: LanguageClient, uri: str, line: int, **extra: Any) -> dict[str, Any]:
    arg = {"uri": uri, "position": {"line": line, "character": 4}, **extra}
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="paddleport.checkEquivalence", arguments=[arg])
    )
    assert isinstance(result, dict)
    return result


async def test_code_lens_marks_definitions_that_use_torch(client: LanguageClient) -> None:
    uri = await _open(client, "lens.py", SOURCE)
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(types.TextDocumentIdentifier(uri))
    )
    assert [lens.range.start.line for lens in lenses] == [8, 13]  # pairs, spin; not plain
    assert lenses[0].command is not None
    assert lenses[0].command.command == "paddleport.checkEquivalence"
    assert list(lenses[0].command.arguments or []) == [{"uri": uri, "position": {"line": 8, "character": 0}}]


async def test_check_reports_a_diagnostic_a_log_table_and_json(client: LanguageClient) -> None:
    uri = await _open(client, "check.py", SOURCE)
    result = await _check(client, uri, 10)  # inside pairs: its example comment is used
    assert result["status"] == "equal", result
    assert result["call"] == "pairs(randn(3, 4))"
    ours = [d for d in client.diagnostics[uri] if d.source == "paddleport-equivalence"]
    assert len(ours) == 1
    assert ours[0].severity == types.DiagnosticSeverity.Information
    assert ours[0].range.start == types.Position(8, 0)
    assert ours[0].message.startswith("Equivalence ✓ (pairs(randn(3, 4))): equal: 1 output(s) match")
    assert any(d.source == "paddleport" for d in client.diagnostics[uri]), "merged, not replaced"
    assert any("out" in m.message and "float32" in m.message for m in client.log_messages)
    assert any(reports for reports in client.progress_reports.values())


async def test_server_answers_while_a_check_runs(client: LanguageClient) -> None:
    uri = await _open(client, "spin.py", SOURCE)
    running = asyncio.ensure_future(_check(client, uri, 14, example="spin(randn(2, 2))"))
    await asyncio.sleep(0.5)
    started = time.perf_counter()
    await client.text_document_code_lens_async(types.CodeLensParams(types.TextDocumentIdentifier(uri)))
    assert time.perf_counter() - started < 1.0
    result = await running
    assert result["status"] == "error"
    assert "longer than 2 s and was interrupted" in result["message"]
    again = await _check(client, uri, 9)
    assert again["status"] == "equal"


async def test_refused_when_equivalence_is_disabled(client: LanguageClient) -> None:
    uri = await _open(client, "off.py", SOURCE)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams({"paddleport": {"equivalenceEnabled": False}})
    )
    try:
        result = await _check(client, uri, 9)
        assert result["status"] == "refused"
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(types.TextDocumentIdentifier(uri))
        )
        assert list(lenses) == []
    finally:
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams({"paddleport": {"equivalence": {"timeout": 2}}})
        )


CELLS = [
    "import torch\n%matplotlib inline",
    "def double(x):\n    return torch.matmul(x, x.transpose(0, 1)) * 2",
    "raise RuntimeError('a training loop: must not run during a check')",
]


async def test_notebook_cells_are_checked_as_one_module_without_running_top_level_work(
    client: LanguageClient,
) -> None:
    root = client.root  # type: ignore[attr-defined]
    nb = root / "model.ipynb"
    cells = [f"vscode-notebook-cell:{nb}#C{i}" for i in range(len(CELLS))]
    waiting = client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    client.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=nb.as_uri(),
                notebook_type="jupyter-notebook",
                version=1,
                cells=[types.NotebookCell(kind=types.NotebookCellKind.Code, document=u) for u in cells],
            ),
            cell_text_documents=[
                types.TextDocumentItem(uri=u, language_id="python", version=1, text=t)
                for u, t in zip(cells, CELLS, strict=True)
            ],
        )
    )
    await asyncio.wait_for(waiting, 20)
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(types.TextDocumentIdentifier(cells[1]))
    )
    assert [lens.range.start.line for lens in lenses] == [0]
    result = await _check(client, cells[1], 1, example="double(randn(2, 3))")
    assert result["status"] == "equal", result
    ours = [d for d in client.diagnostics[cells[1]] if d.source == "paddleport-equivalence"]
    assert [d.range.start for d in ours] == [types.Position(0, 0)]


VERDICTS = """\
import torch
import torch.nn as nn


# paddleport: example act(randn(3, 4))
def act(x):
    return torch.relu(x) * 2


# paddleport: example noisy(randn(3, 4))
def noisy(x):
    return x + torch.rand(3, 4)


class Head(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, 2)

    def forward(self, x):
        return self.fc(x)
"""


def _verdicts(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    return [d for d in client.diagnostics.get(uri, []) if d.source == "paddleport-equivalence"]


async def test_pass_mismatch_and_error_are_distinct_and_hints_speak_the_editors_terms(
    client: LanguageClient,
) -> None:
    """Issue 12.6: a failure must not look like a pass; the hint is a comment to write, with a shape that fits."""
    uri = await _open(client, "verdicts.py", VERDICTS)
    assert (await _check(client, uri, 5))["status"] == "equal"
    assert (await _check(client, uri, 10))["status"] == "mismatch"
    failed = await _check(client, uri, 18)
    assert failed["status"] == "error"
    by_target = {d.data["target"]: d for d in _verdicts(client, uri) if d.range.start.line in (5, 10, 14)}
    assert by_target["act"].severity == types.DiagnosticSeverity.Information
    assert by_target["noisy"].severity == types.DiagnosticSeverity.Warning
    assert by_target["Head"].severity == types.DiagnosticSeverity.Error
    assert [by_target[t].code for t in ("act", "noisy", "Head")] == ["equal", "mismatch", "error"]
    hint = by_target["Head"].message
    assert "--example" not in hint, hint
    assert "# paddleport: example Head(16)(randn(2, 16))" in hint, hint
    assert "line 15" in hint, hint
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=by_target["Head"].range,
            context=types.CodeActionContext(diagnostics=[by_target["Head"]]),
        )
    )
    add = [a for a in actions or [] if "add the example comment" in a.title]
    assert len(add) == 1, [a.title for a in actions or []]
    assert isinstance(add[0], types.CodeAction) and add[0].edit and add[0].edit.changes
    (edit,) = add[0].edit.changes[uri]
    assert edit.range.start == types.Position(14, 0)
    assert edit.new_text == "# paddleport: example Head(16)(randn(2, 16))\n"


async def test_results_move_with_their_code_and_clear_when_it_changes(client: LanguageClient) -> None:
    """Issue 12.6: a verdict follows its definition when lines are added above, and goes once the definition changes."""
    uri = await _open(client, "moving.py", VERDICTS)
    assert (await _check(client, uri, 5))["status"] == "equal"
    assert (await _check(client, uri, 10))["status"] == "mismatch"
    assert sorted(d.range.start.line for d in _verdicts(client, uri)) == [5, 10]

    async def change(version: int, edit: types.TextDocumentContentChangePartial) -> None:
        waiting = client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(types.VersionedTextDocumentIdentifier(version=version, uri=uri), [edit])
        )
        await asyncio.wait_for(waiting, 10)
        await asyncio.sleep(0.3)  # the debounced run after the leading one

    at_top = types.Range(types.Position(2, 0), types.Position(2, 0))
    await change(2, types.TextDocumentContentChangePartial(range=at_top, text="\n\n"))
    assert sorted(d.range.start.line for d in _verdicts(client, uri)) == [7, 12]
    inside_act = types.Range(types.Position(8, 27), types.Position(8, 28))  # `* 2` → `* 3`
    await change(3, types.TextDocumentContentChangePartial(range=inside_act, text="3"))
    assert [d.data["target"] for d in _verdicts(client, uri)] == ["noisy"]
    assert [d.range.start.line for d in _verdicts(client, uri)] == [12]
