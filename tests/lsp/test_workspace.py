"""Converting the whole workspace: progress, summary, one edit, and cancellation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsp_helpers import apply, wait_for
from lsprotocol import types
from pytest_lsp import LanguageClient

CODE = "import torch\n\nx = torch.zeros(2)\ny = torch.cat([x, x])\n"


def write_files(root: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        path = root / f"pkg{i % 3}" / f"m{i}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(CODE)
        paths.append(path)
    return paths


async def test_convert_workspace_reports_progress_and_a_summary(
    client: LanguageClient, workspace: Path
) -> None:
    paths = write_files(workspace, 5)
    (workspace / "bad.py").write_text("def broken(:\n")
    summary = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="paddleport.convertWorkspace")
    )
    assert summary["files"] == 6 and summary["changed"] == 5 and summary["applied"] is True
    assert len(summary["problems"]) == 1
    [edit] = client.applied_edits
    for path in paths:
        converted = apply(CODE, list(edit.changes[path.as_uri()]))
        assert converted.startswith("import paddle\n") and "paddle.concat(" in converted
    [reports] = client.progress_reports.values()
    assert reports[0].kind == "begin" and reports[-1].kind == "end"
    assert any("converted 5 of 6 files" in m.message for m in client.messages)


async def test_convert_workspace_can_be_cancelled(client: LanguageClient, workspace: Path) -> None:
    write_files(workspace, 40)
    default_progress = client.protocol.fm.features[types.PROGRESS]

    def cancel_on_begin(params: Any) -> None:
        default_progress(params)
        value = params.value
        kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
        if kind == "begin":
            client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=params.token))

    client.protocol.fm.features[types.PROGRESS] = cancel_on_begin
    summary = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="paddleport.convertWorkspace")
    )
    assert summary["cancelled"] is True and summary["applied"] is False
    assert summary["files"] < 40
    assert client.applied_edits == []
    await wait_for(lambda: any("cancelled" in m.message for m in client.messages))


async def test_convert_workspace_summary_carries_the_verdict(client: LanguageClient, workspace: Path) -> None:
    (workspace / "clean.py").write_text(CODE)
    (workspace / "left.py").write_text("import torch\n\ny = torch.zeros(2)\nz = torch.some_new_api(y)\n")
    summary = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="paddleport.convertWorkspace")
    )
    left = str(workspace / "left.py")
    assert summary["needs_torch"] is True
    assert summary["verdict"].startswith("The converted project will NOT run without torch: 1 of 2 files")
    [entry] = summary["torch_files"]
    assert entry["path"] == left
    assert [(i["line"], i["col"], i["api"]) for i in entry["imports"]] == [(2, 1, "torch")]
    assert [(i["line"], i["col"], i["api"]) for i in entry["blockers"]] == [(5, 5, "torch.some_new_api")]
    [edit] = client.applied_edits
    converted = apply((workspace / "left.py").read_text(), list(edit.changes[(workspace / "left.py").as_uri()]))
    assert converted.splitlines()[:2] == ["import paddle", "import torch"]
    assert converted.splitlines()[4] == "z = torch.some_new_api(y)"  # the lines the summary names
    message = next(m for m in client.messages if "Workspace: converted" in m.message)
    assert message.type == types.MessageType.Warning
    assert message.message.startswith("Paddleport: The converted project will NOT run without torch")
    assert f"first blocker: {left}:2:1 torch" in message.message
