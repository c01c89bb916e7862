"""The server's copy of a document stays the client's, whatever the edits and characters.

LSP ends lines at \\r\\n, \\r and \\n only; pygls's own store also broke lines at
form feeds and U+2028, so incremental edits after one landed elsewhere. A
didChange after didClose (VS Code sends one on close-without-save) is ignored.
"""

from __future__ import annotations

import random
import re

import pytest
from lsp_helpers import open_doc
from lsprotocol import types
from pygls.workspace import PositionCodec
from pytest_lsp import LanguageClient

from paddleport.lsp.workspace import LspTextDocument

ALPHABET = ["a", "x", " ", "(", ")", "torch.", "\n", "\r\n", "\r", "\x0c", "\u2028", "\u2029", "\x85",
            "é", "😀", "\x1c", "\t"]


def spec_offset(text: str, line: int, character: int) -> int:
    """LSP's definition, written independently: UTF-16 units within lines ended by \\r\\n|\\r|\\n."""
    pieces = re.split(r"(\r\n|\r|\n)", text)
    lines = pieces[0::2]
    breaks = [*pieces[1::2], ""]
    if line >= len(lines):
        return len(text)
    start = sum(len(lines[i]) + len(breaks[i]) for i in range(line))
    units = 0
    for i, ch in enumerate(lines[line]):
        if units >= character:
            return start + i
        units += 2 if ord(ch) > 0xFFFF else 1
    return start + len(lines[line])


def random_edit(rng: random.Random, text: str) -> tuple[types.Range, str]:
    pieces = re.split(r"(\r\n|\r|\n)", text)
    lines = pieces[0::2]

    def position() -> types.Position:
        line = rng.randrange(len(lines))
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in lines[line])
        return types.Position(line=line, character=rng.randint(0, units))

    a, b = position(), position()
    if (a.line, a.character) > (b.line, b.character):
        a, b = b, a
    new = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 4)))
    return types.Range(start=a, end=b), new


@pytest.mark.parametrize("seed", range(5))
def test_incremental_changes_follow_lsp_lines(seed: int) -> None:
    rng = random.Random(seed)
    text = "import torch\x0cx = 1\u2028y\r\nz\rw\n"
    doc = LspTextDocument("file:///t.py", source=text, sync_kind=types.TextDocumentSyncKind.Incremental,
                          position_codec=PositionCodec(types.PositionEncodingKind.Utf16))  # fmt: skip
    for _ in range(400):
        rng_range, new = random_edit(rng, text)
        start = spec_offset(text, rng_range.start.line, rng_range.start.character)
        end = spec_offset(text, rng_range.end.line, rng_range.end.character)
        text = text[:start] + new + text[end:]
        doc.apply_change(types.TextDocumentContentChangePartial(range=rng_range, text=new))
        assert doc.source == text


async def test_change_after_close_is_ignored_without_an_error(client: LanguageClient, workspace) -> None:
    uri = (workspace / "closed.py").as_uri()
    await open_doc(client, uri, "import torch\nx = torch.zeros(2)\n")
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(0, 0), types.Position(0, 0)), text="#")],
    ))  # fmt: skip
    other = (workspace / "other.py").as_uri()
    diagnostics = await open_doc(client, other, "import torch\ny = torch.ones(2)\n")
    assert diagnostics  # the server still works
    shown = [m.message for m in [*client.messages, *client.log_messages] if m.type == types.MessageType.Error]
    assert shown == []


async def test_server_text_equals_client_text_after_edits_past_separators(client: LanguageClient,
                                                                          workspace) -> None:  # fmt: skip
    """Edits after a form feed and U+2028 used to land a line off; convertFile shows the server's text."""
    from paddleport.catalog import make_planner
    from paddleport.rewrite.convert import convert_source

    uri = (workspace / "sep.py").as_uri()
    text = "import torch\n# page\x0cbreak\nnote = 'a\u2028b'\nx = torch.zeros(2)\n"
    await open_doc(client, uri, text)
    rng = random.Random(7)
    version = 1
    for _ in range(30):  # edits inside the comment line keep the program valid
        comment = re.split(r"\r\n|\r|\n", text)[1]
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in comment)
        a, b = sorted(rng.randint(2, units) for _ in range(2))
        rng_range = types.Range(types.Position(1, a), types.Position(1, b))
        new = "".join(rng.choice(["z", "\x0c", "\u2028", "\u2029", "\x85", "😀", "é"]) for _ in range(2))
        start = spec_offset(text, 1, a)
        end = spec_offset(text, 1, b)
        version += 1
        text = text[:start] + new + text[end:]
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(range=rng_range, text=new)],
        ))  # fmt: skip
    tail = "\ny = torch.ones(3)\n"
    lines = re.split(r"\r\n|\r|\n", text)
    end_pos = types.Position(line=len(lines) - 1, character=sum(2 if ord(c) > 0xFFFF else 1 for c in lines[-1]))
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version + 1),
        content_changes=[types.TextDocumentContentChangePartial(range=types.Range(end_pos, end_pos), text=tail)],
    ))  # fmt: skip
    text += tail
    before = len(client.applied_edits)  # type: ignore[attr-defined]
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="paddleport.convertFile", arguments=[uri])
    )
    expected = convert_source(text, make_planner()).code
    assert expected != text and len(client.applied_edits) == before + 1  # type: ignore[attr-defined]
    edits = sorted(client.applied_edits[before].changes[uri],  # type: ignore[attr-defined]
                   key=lambda e: (e.range.start.line, e.range.start.character), reverse=True)  # fmt: skip
    converted = text
    for e in edits:
        s = spec_offset(converted, e.range.start.line, e.range.start.character)
        t = spec_offset(converted, e.range.end.line, e.range.end.character)
        converted = converted[:s] + e.new_text + converted[t:]
    assert converted == expected
