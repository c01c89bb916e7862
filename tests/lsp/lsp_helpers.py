"""Helpers for the language-server tests: client capabilities, waiting, applying edits."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from pytest_lsp import LanguageClient

SERVER = [sys.executable, "-P", "-m", "paddleport", "lsp"]  # as the VS Code client starts it

TORCH_FILE = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, bias=False)
        self.act = nn.ReLU()

    def forward(self, x):
        y = torch.flatten(self.act(self.conv(x)), 1)
        return torch.cat([y, y], dim=1)
"""


def capabilities(
    *,
    pull: bool = False,
    resolve: bool = True,
    progress: bool = True,
    encodings: list[str] | None = None,
) -> types.ClientCapabilities:
    code_action = types.CodeActionClientCapabilities(
        code_action_literal_support=types.ClientCodeActionLiteralOptions(
            code_action_kind=types.ClientCodeActionKindOptions(
                value_set=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll]
            )
        ),
        data_support=True,
        resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]) if resolve else None,
    )
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=encodings) if encodings else None,
        text_document=types.TextDocumentClientCapabilities(
            code_action=code_action,
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                version_support=True, data_support=True, code_description_support=True
            ),
            diagnostic=types.DiagnosticClientCapabilities() if pull else None,
        ),
        window=types.WindowClientCapabilities(work_done_progress=progress, show_message=None),
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=True,
            configuration=False,
            diagnostics=types.DiagnosticWorkspaceClientCapabilities(refresh_support=True),
        ),
        notebook_document=types.NotebookDocumentClientCapabilities(
            synchronization=types.NotebookDocumentSyncClientCapabilities()
        ),
    )


def prepare(client: LanguageClient) -> None:
    """Code actions stay CodeActions (see STACK-NOTES), and applyEdit requests are recorded."""
    converter = client.protocol._converter

    def action_or_command(obj: Any, _: Any) -> types.CodeAction | types.Command:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    hook_type = Union[types.Command, types.CodeAction]  # noqa: UP007 - cattrs dispatches on typing.Union
    converter.register_structure_hook(hook_type, action_or_command)
    client.applied_edits = []  # type: ignore[attr-defined]
    client.published = []  # type: ignore[attr-defined]
    client.statuses = []  # type: ignore[attr-defined]

    def record(params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.append(params)  # type: ignore[attr-defined]

    # One list of every publish (pytest-lsp keeps only the latest per uri, without versions).
    client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record

    @client.feature("paddleport/status")
    def status(params: Any) -> None:
        client.statuses.append(params._asdict() if hasattr(params, "_asdict") else params)  # type: ignore[attr-defined]

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        client.applied_edits.append(params.edit)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=True)


async def start(
    client: LanguageClient, root: Path, options: dict[str, Any] | None = None, **caps: Any
) -> None:
    prepare(client)
    uri = root.as_uri()
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(**caps),
            initialization_options=options if options is not None else {"paddleport": {}},
            workspace_folders=[types.WorkspaceFolder(uri=uri, name="ws")],
            root_uri=uri,
        )
    )


LINE_BREAK = re.compile(r"\r\n|\r|\n")


def offset(text: str, pos: types.Position, encoding: str = "utf-16") -> int:
    """LSP's definition, written independently of the server's: lines end at \\r\\n, \\r or \\n."""
    starts = [0, *(m.end() for m in LINE_BREAK.finditer(text))]
    if pos.line >= len(starts):
        return len(text)
    start = starts[pos.line]
    line = LINE_BREAK.split(text[start:], maxsplit=1)[0]
    if encoding == "utf-16":
        units = 0
        for i, ch in enumerate(line):
            if units >= pos.character:
                return start + i
            units += 2 if ord(ch) > 0xFFFF else 1
        return start + len(line)
    if encoding == "utf-8":
        return start + len(line.encode()[: pos.character].decode(errors="ignore"))
    return start + pos.character


def apply(text: str, edits: list[types.TextEdit], encoding: str = "utf-16") -> str:
    spans = sorted(
        (
            (offset(text, e.range.start, encoding), offset(text, e.range.end, encoding), e.new_text)
            for e in edits
        ),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


async def open_doc(client: LanguageClient, uri: str, text: str, version: int = 1) -> list[types.Diagnostic]:
    """Open a document and wait for its diagnostics."""
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)
        )
    )
    return await wait_version(client, uri, version)


async def change_doc(client: LanguageClient, uri: str, text: str, version: int) -> list[types.Diagnostic]:
    """Replace a document's text and wait for the diagnostics of that version."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    return await wait_version(client, uri, version)


async def wait_version(
    client: LanguageClient, uri: str, version: int | None, timeout: float = 10.0
) -> list[types.Diagnostic]:
    """The diagnostics published for ``uri`` at ``version`` (polls what the client recorded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for params in reversed(client.published):  # type: ignore[attr-defined]
            if params.uri == uri and params.version == version:
                return list(params.diagnostics)
        await asyncio.sleep(0.005)
    raise TimeoutError(f"no diagnostics for {uri} version {version}")


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.005)


async def actions_at(
    client: LanguageClient,
    uri: str,
    diagnostics: list[types.Diagnostic],
    only: list[str] | None = None,
) -> list[types.CodeAction]:
    rng = (
        diagnostics[0].range
        if diagnostics
        else types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    )
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=rng,
            context=types.CodeActionContext(diagnostics=diagnostics, only=only),
        )
    )
    out = [a for a in result or [] if isinstance(a, types.CodeAction)]
    return out
