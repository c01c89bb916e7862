"""Commands over a real connection: convert a file, show a rule, debug info."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_helpers import TORCH_FILE, apply, open_doc
from lsprotocol import types
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def run(client: LanguageClient, command: str, *args: object) -> object:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(args))
    )


async def test_convert_file_applies_all_confident_fixes_including_review(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    uri = (shared_workspace / "conv.py").as_uri()
    text = TORCH_FILE + "\nlayer = torch.nn.Linear(4, 3)\n"  # Linear is a review-tier rule
    await open_doc(shared, uri, text)
    before = len(shared.applied_edits)
    result = await run(shared, "paddleport.convertFile", uri)
    assert result["changed"] is True
    edit = shared.applied_edits[before]
    converted = apply(text, list(edit.changes[uri]))
    assert "paddle.nn.Conv2D" in converted and "paddle.nn.Linear(4, 3)" in converted
    assert "import torch\n" not in converted


async def test_convert_file_reads_a_closed_file_from_disk(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    path = shared_workspace / "closed.py"
    path.write_text("import torch\nx = torch.zeros(2)\n")
    before = len(shared.applied_edits)
    result = await run(shared, "paddleport.convertFile", path.as_uri())
    assert result["changed"] is True
    converted = apply(path.read_text(), list(shared.applied_edits[before].changes[path.as_uri()]))
    assert converted.startswith("import paddle\nx = paddle.zeros(")


async def test_convert_file_on_a_fifo_or_device_answers_at_once(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    """A named pipe once blocked the server for 16 s; /dev/zero grew it to 22 GB."""
    import os
    import time

    pipe = shared_workspace / "pipe.py"
    os.mkfifo(pipe)
    zero = shared_workspace / "zero.py"
    zero.symlink_to("/dev/zero")
    for path, kind in ((pipe, "named pipe"), (zero, "character device")):
        started = time.monotonic()
        try:
            result = await run(shared, "paddleport.convertFile", path.as_uri())
        except Exception as exc:  # an error response is a fine answer too, if it says why
            result = {"error": str(exc)}
        assert time.monotonic() - started < 5
        assert kind in str(result)


async def test_show_rule_returns_markdown(shared: LanguageClient) -> None:
    result = await run(shared, "paddleport.showRule", "torch.nn.Conv2d")
    assert result["markdown"].startswith("## `torch.nn.Conv2d`")
    assert "paddle.nn.Conv2D" in result["markdown"]
    missing = await run(shared, "paddleport.showRule", "torch.no.such.thing")
    assert "No paddleport rule" in missing["markdown"]


async def test_debug_info(shared: LanguageClient, shared_workspace: Path) -> None:
    uri = (shared_workspace / "dbg.py").as_uri()
    await open_doc(shared, uri, TORCH_FILE)
    info = await run(shared, "paddleport.debugInfo")
    assert info["rules"] > 100
    assert info["positionEncoding"] == "utf-16"
    assert info["settings"]["debounceMs"] == 5
    assert uri in [d["uri"] for d in info["openDocuments"]]
    assert info["torchImported"] is False and info["paddleImported"] is False
