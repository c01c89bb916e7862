"""Diagnostics over a real stdio connection: content, severities, versions, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_helpers import TORCH_FILE, change_doc, open_doc, wait_for, wait_version
from lsprotocol import types
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_open_reports_each_torch_use_with_rule_link_and_fix(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    uri = (shared_workspace / "net.py").as_uri()
    diags = await open_doc(shared, uri, TORCH_FILE)
    conv = next(d for d in diags if d.code == "torch.nn.Conv2d")
    assert conv.source == "paddleport"
    assert conv.message.startswith("torch.nn.Conv2d → paddle.nn.Conv2D (bias → bias_attr")
    assert conv.code_description is not None
    assert conv.code_description.href.endswith("docs/rules.md#torchnnconv2d")
    assert conv.severity == types.DiagnosticSeverity.Warning
    assert conv.range.start == types.Position(line=7, character=20)
    fix = conv.data["fix"]
    assert fix["title"] == "Paddleport (torch.nn.Conv2d): Replace with paddle.nn.Conv2D"
    assert fix["edits"], "the fix travels with the diagnostic"
    codes = {d.code for d in diags}
    assert {"torch.nn.Module", "torch.nn.ReLU", "torch.flatten", "torch.cat"} <= codes


async def test_change_republishes_for_the_new_version_and_sends_status(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    uri = (shared_workspace / "m.py").as_uri()
    await open_doc(shared, uri, "import torch\nx = torch.zeros(2)\n")
    diags = await change_doc(shared, uri, "import torch\nx = torch.zeros(2)\ny = torch.cat([x, x])\n", 2)
    assert [d.code for d in diags if d.code != "torch"] == ["torch.zeros", "torch.cat"]
    await wait_for(lambda: any(s["version"] == 2 for s in shared.statuses))
    status = next(s for s in shared.statuses if s["version"] == 2)
    assert status == {"uri": uri, "version": 2, "uses": 2, "fixable": 2, "onSave": 2}


async def test_low_confidence_use_is_information_with_a_conditional_message(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    uri = (shared_workspace / "low.py").as_uri()
    text = "import torch\ndef f(a):\n    return a.view(2, 3)\n"
    diags = await open_doc(shared, uri, text)
    view = next(d for d in diags if d.code == "torch.Tensor.view")
    assert view.message.startswith("if `a` is a torch.Tensor: ")
    assert view.severity == types.DiagnosticSeverity.Information
    assert view.data["confidence"] == "low"


async def test_ignore_comment_hides_the_line(shared: LanguageClient, shared_workspace: Path) -> None:
    uri = (shared_workspace / "ign.py").as_uri()
    text = "import torch\na = torch.zeros(2)  # paddleport: ignore\nb = torch.ones(2)\n"
    diags = await open_doc(shared, uri, text)
    assert [d.code for d in diags if d.code != "torch"] == ["torch.ones"]


async def test_syntax_error_keeps_last_good_diagnostics_shifted(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    uri = (shared_workspace / "broken.py").as_uri()
    good = "import torch\n\nx = torch.zeros(2)\ny = torch.ones(3)\n"
    await open_doc(shared, uri, good)
    broken = "import torch\nprint((\n\nx = torch.zeros(2)\ny = torch.ones(3)\n"
    diags = await change_doc(shared, uri, broken, 2)
    syntax = [d for d in diags if d.code == "syntax-error"]
    assert len(syntax) == 1 and "cannot analyse" in syntax[0].message
    kept = {d.code: d.range.start.line for d in diags if d.code != "syntax-error"}
    assert kept["torch.zeros"] == 3 and kept["torch.ones"] == 4  # moved down one line
    assert all(d.data["fix"] is None for d in diags if d.code == "torch.zeros"), "stale fixes go"
    fixed = await change_doc(shared, uri, good.replace("\n\n", "\nprint(1)\n"), 3)
    assert not [d for d in fixed if d.code == "syntax-error"]
    assert next(d for d in fixed if d.code == "torch.zeros").data["fix"] is not None


async def test_a_burst_of_edits_ends_with_the_last_version(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    uri = (shared_workspace / "burst.py").as_uri()
    await open_doc(shared, uri, "import torch\n")
    text = "import torch\n"
    for version in range(2, 52):
        text += f"v{version} = torch.zeros({version})\n"
        shared.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
    diags = await wait_version(shared, uri, 51)
    assert len([d for d in diags if d.code == "torch.zeros"]) == 50
    versions = [p.version for p in shared.published if p.uri == uri]
    assert versions == sorted(versions), "never an older version after a newer one"
    assert len(versions) < 50, "debounced: not one analysis per keystroke"


async def test_binary_junk_and_huge_documents_get_one_clear_message(
    shared: LanguageClient, shared_workspace: Path
) -> None:
    junk = (shared_workspace / "junk.py").as_uri()
    diags = await open_doc(shared, junk, "import torch\x00\x01\x02torch.zeros(")
    assert len(diags) == 1 and "NUL bytes" in diags[0].message
    huge = (shared_workspace / "huge.py").as_uri()
    diags = await open_doc(shared, huge, "x = 1\n" * 1_000_000)
    assert len(diags) == 1 and "paddleport check" in diags[0].message


async def test_positions_count_utf16_code_units(shared: LanguageClient, shared_workspace: Path) -> None:
    uri = (shared_workspace / "emoji.py").as_uri()
    diags = await open_doc(shared, uri, 'import torch\ns = "😀"; x = torch.zeros(2)\n')
    zeros = next(d for d in diags if d.code == "torch.zeros")
    assert zeros.range.start == types.Position(line=1, character=14)  # 😀 is two UTF-16 units


async def test_uris_with_escaped_characters(shared: LanguageClient, shared_workspace: Path) -> None:
    uri = (shared_workspace / "my model ü.py").as_uri()
    assert "%20" in uri
    diags = await open_doc(shared, uri, "import torch\nx = torch.zeros(2)\n")
    assert "torch.zeros" in {d.code for d in diags}


async def test_torchvision_uses_are_diagnosed_like_torch_uses(shared: LanguageClient, shared_workspace: Path) -> None:
    uri = (shared_workspace / "vision.py").as_uri()
    text = ("import torchvision.transforms as T\nfrom torchvision import models\n\n"
            "t = T.Compose([T.Resize(32), T.ToTensor()])\nnet = models.resnet18(pretrained=True)\n"
            "x = models.some_new_net()\n")  # fmt: skip
    diags = await open_doc(shared, uri, text)
    by_code = {d.code: d for d in diags}
    assert by_code["torchvision.transforms.Compose"].severity == types.DiagnosticSeverity.Warning
    assert by_code["torchvision.transforms.ToTensor"].message == (
        "torchvision.transforms.ToTensor → paddle.vision.transforms.ToTensor")
    assert by_code["torchvision.transforms.ToTensor"].data["fix"]["edits"]
    assert "Paddle's own ImageNet weights" in by_code["torchvision.models.resnet18"].message
    assert by_code["torchvision.models.some_new_net"].message.startswith(
        "`torchvision.models.some_new_net` has no paddleport rule yet")
    assert by_code["torchvision.models.some_new_net"].data["fix"] is None
