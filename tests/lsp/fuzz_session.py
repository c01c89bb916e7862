"""A random editing session against the real server: the test runs a short one, bench/ a long one.

Each step is a random incremental edit (separators, emoji, CR/CRLF, torch code,
deletions), sometimes interleaved with code actions, resolves and commands.
After each checked step: the server's text equals the client's (by hash, via
Debug Info), every diagnostic range lies inside the document, and every quick
fix applied to a text that parsed leaves text that parses.
"""

from __future__ import annotations

import ast
import hashlib
import random
from collections import Counter
from typing import Any

from lsp_helpers import LINE_BREAK, apply, offset, wait_version
from lsprotocol import types
from pytest_lsp import LanguageClient

START = """import torch
import torch.nn as nn


class Block(nn.Module):  # a comment
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.sum(x, dim=1, keepdim=True).view(-1, 1)
        return self.norm(self.fc(x)) + y
"""
PIECES = ["a", "x", " ", "(", ")", ",", "torch.", "torch.zeros(2, 3)", "nn.Conv2d(3, 8, 3)", ".view(2, -1)",
          "\n", "\r\n", "\r", "\x0c", "\u2028", "\u2029", "\x85", "é", "😀", "\t", "#", "'", "\"\"\"", "\\"]
VALID_TAILS = ["", "z = torch.zeros(2, 3).view(3, 2)\n", "m = nn.Conv2d(3, 8, 3, bias=False)  # c\n",
               "s = '\x0c\u2028'\nw = torch.cat([torch.ones(2), torch.ones(2)], dim=0)\n",
               "def f(x):\n    return torch.sum(x, dim=0) + x.max(1)[1]\n"]


def units(line: str) -> int:
    return sum(2 if ord(c) > 0xFFFF else 1 for c in line)


def parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def random_range(rng: random.Random, text: str) -> types.Range:
    lines = LINE_BREAK.split(text)

    def pos() -> types.Position:
        line = rng.randrange(len(lines))
        return types.Position(line=line, character=rng.randint(0, units(lines[line])))

    a, b = pos(), pos()
    if (a.line, a.character) > (b.line, b.character):
        a, b = b, a
    if rng.random() < 0.6:  # mostly small edits, as typing is
        b = a
    return types.Range(start=a, end=b)


def inside(text: str, r: types.Range) -> bool:
    lines = LINE_BREAK.split(text)
    return all(p.line < len(lines) and p.character <= units(lines[p.line]) for p in (r.start, r.end))


async def run_session(client: LanguageClient, uri: str, steps: int, seed: int, check_every: int = 5) -> Counter[str]:
    rng = random.Random(seed)
    seen: Counter[str] = Counter()
    text = START
    version = 1
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))  # fmt: skip
    await wait_version(client, uri, version)
    for step in range(steps):
        rng_range = random_range(rng, text)
        new = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 3)))
        if step % 20 == 0 or len(text) > 4000:  # back to a valid program now and then, as after an undo
            lines = LINE_BREAK.split(text)
            rng_range = types.Range(start=types.Position(0, 0),
                                    end=types.Position(len(lines) - 1, units(lines[-1])))  # fmt: skip
            new = START.replace("\n", rng.choice(["\n", "\r\n", "\r"])) + rng.choice(VALID_TAILS)
        text = text[: offset(text, rng_range.start)] + new + text[offset(text, rng_range.end):]
        version += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(range=rng_range, text=new)]))  # fmt: skip
        seen["edits"] += 1
        if step % check_every:
            continue
        diagnostics = await wait_version(client, uri, version, timeout=30)
        seen["checks"] += 1
        for d in diagnostics:
            assert inside(text, d.range), (step, d.range, repr(text))
        info: Any = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="paddleport.debugInfo"))  # fmt: skip
        [held] = [d for d in info["documents"] if d["uri"] == uri]
        assert held["sha256"] == hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), step
        ours = [d for d in diagnostics if d.source == "paddleport" and isinstance(d.data, dict)]
        if not ours:
            continue
        target = rng.choice(ours)
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=target.range,
            context=types.CodeActionContext(diagnostics=[target])))  # fmt: skip
        for action in actions or []:
            if not isinstance(action, types.CodeAction):
                continue
            if action.edit is None and action.data is not None and rng.random() < 0.5:
                action = await client.code_action_resolve_async(action)
                seen["resolves"] += 1
            if action.edit is None or not action.edit.changes:
                continue
            edits = list(action.edit.changes.get(uri, []))
            for e in edits:
                assert inside(text, e.range), (step, action.title, e.range)
            seen["fixes"] += 1
            if parses(text):
                fixed = apply(text, edits)
                assert parses(fixed), (step, action.title, fixed)
    return seen
