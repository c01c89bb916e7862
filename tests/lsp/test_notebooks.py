"""Notebooks: Python cells analysed together (imports in one cell resolve uses in the next)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_helpers import actions_at, apply, wait_for, wait_version
from lsprotocol import types
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

CELLS = [
    "import torch\nimport torch.nn as nn\n%matplotlib inline",
    "# Markdown cells are skipped",
    "layer = nn.Conv2d(3, 8, 3, bias=False)\n!pip list\nx = torch.zeros(2)",
]


def open_notebook(client: LanguageClient, root: Path) -> tuple[str, list[str]]:
    nb_uri = (root / "model.ipynb").as_uri()
    cell_uris = [f"vscode-notebook-cell:{root / 'model.ipynb'}#C{i}" for i in range(len(CELLS))]
    kinds = [types.NotebookCellKind.Code, types.NotebookCellKind.Markup, types.NotebookCellKind.Code]
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(
            uri=nb_uri, notebook_type="jupyter-notebook", version=1,
            cells=[types.NotebookCell(kind=k, document=u) for k, u in zip(kinds, cell_uris, strict=True)],
        ),
        cell_text_documents=[
            types.TextDocumentItem(uri=u, language_id="python" if k == types.NotebookCellKind.Code
                                   else "markdown", version=1, text=t)
            for u, k, t in zip(cell_uris, kinds, CELLS, strict=True)
        ],
    ))  # fmt: skip
    return nb_uri, cell_uris


async def test_cells_get_diagnostics_in_their_own_coordinates(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    nb_uri, cells = open_notebook(shared, shared_workspace)
    third = await wait_version(shared, cells[2], 1)
    conv = next(d for d in third if d.code == "torch.nn.Conv2d")
    assert conv.range.start == types.Position(line=0, character=8)
    zeros = next(d for d in third if d.code == "torch.zeros")
    assert zeros.range.start.line == 2
    await wait_for(lambda: any(s["uri"] == nb_uri for s in shared.statuses))
    status = next(s for s in shared.statuses if s["uri"] == nb_uri)
    assert status["uses"] == 2
    assert cells[1] not in shared.diagnostics, "markdown cells are not analysed"

    [fix_all] = await actions_at(shared, cells[2], [], only=["source.fixAll"])
    assert fix_all.edit is not None and fix_all.edit.changes is not None
    first = apply(CELLS[0], list(fix_all.edit.changes[cells[0]]))
    last = apply(CELLS[2], list(fix_all.edit.changes[cells[2]]))
    assert first == "import paddle\n%matplotlib inline"
    assert last.startswith("layer = paddle.nn.Conv2D(3, 8, 3, bias_attr=False)\n!pip list\n")


async def test_editing_a_cell_reanalyses_the_notebook(shared: LanguageClient, shared_workspace: Path) -> None:
    nb_uri, cells = open_notebook(shared, shared_workspace / "..")
    await wait_version(shared, cells[2], 1)
    shared.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        notebook_document=types.VersionedNotebookDocumentIdentifier(uri=nb_uri, version=2),
        change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
            text_content=[types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=cells[2], version=2),
                changes=[types.TextDocumentContentChangeWholeDocument(text="y = torch.ones(3)")],
            )],
        )),
    ))  # fmt: skip
    diags = await wait_version(shared, cells[2], 2)
    assert [d.code for d in diags] == ["torch.ones"]


async def test_convert_file_on_a_notebook_edits_each_cell(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    (shared_workspace / "conv").mkdir()
    nb_uri, cells = open_notebook(shared, shared_workspace / "conv")
    await wait_version(shared, cells[2], 1)
    before = len(shared.applied_edits)
    result = await shared.workspace_execute_command_async(
        types.ExecuteCommandParams(command="paddleport.convertFile", arguments=[nb_uri])
    )
    assert result["changed"] is True
    changes = shared.applied_edits[before].changes
    assert set(changes) == {cells[0], cells[2]}
    assert apply(CELLS[0], list(changes[cells[0]])) == "import paddle\n%matplotlib inline"
