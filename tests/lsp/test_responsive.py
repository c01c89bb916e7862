"""A slow analysis must not stop the server answering, and a newer version cancels it (issue 12.13)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from lsp_helpers import open_doc
from lsprotocol import types
from pytest_lsp import LanguageClient

# ~3,000 dense lines: seconds of analysis on this machine (a real 4 MB file took 47 s before).
BIG = "import torch\n" + "".join(f"x{i} = torch.relu(torch.zeros(2, 3)).view(3, 2)\n" for i in range(3000))
SMALL = "import torch\n\ny = torch.ones(3)\n"


async def test_a_slow_document_does_not_stop_other_requests_and_a_newer_version_cancels_it(
    client: LanguageClient, workspace: Path
) -> None:
    small = (workspace / "small.py").as_uri()
    big = (workspace / "big.py").as_uri()
    await open_doc(client, small, SMALL)
    published: list[types.PublishDiagnosticsParams] = []
    first_big = asyncio.get_running_loop().create_future()
    features = client.protocol.fm.features
    original = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(*args: object) -> object:  # pytest-lsp's own handler, wrapped to see versions
        params = args[-1]
        assert isinstance(params, types.PublishDiagnosticsParams)
        published.append(params)
        if params.uri == big and not first_big.done():
            first_big.set_result(time.perf_counter())
        return original(*args)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record

    opened = time.perf_counter()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(big, "python", 1, BIG)))
    await asyncio.sleep(0.3)
    asked = time.perf_counter()
    hover = await asyncio.wait_for(
        client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(small),
                range=types.Range(types.Position(2, 4), types.Position(2, 14)),
                context=types.CodeActionContext(diagnostics=client.diagnostics[small]),
            )
        ),
        30,
    )
    answered_at = time.perf_counter()
    answered = answered_at - asked
    assert hover, "the code action for the small file"
    blocked = first_big.done() and first_big.result() < answered_at
    assert not blocked, f"the request waited {answered:.1f} s for the big document's analysis"
    assert answered < 1.5, f"the server answered after {answered:.1f} s while analysing the big document"

    # A newer version while the first is still being analysed: version 1 is never published.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(version=2, uri=big),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=BIG + "z = torch.ones(1)\n")],
        )
    )
    await asyncio.wait_for(first_big, 180)
    versions = [p.version for p in published if p.uri == big]
    assert versions and versions[0] == 2, versions
    assert time.perf_counter() - opened > answered
