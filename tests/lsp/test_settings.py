"""Settings over a real connection: severities, run mode, rule folders, encodings, pull."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from lsp_helpers import TORCH_FILE, actions_at, apply, open_doc, wait_for, wait_version
from lsprotocol import types
from pytest_lsp import LanguageClient


async def test_severity_follows_tier_and_rule_settings(client: LanguageClient, workspace: Path) -> None:
    uri = (workspace / "sev.py").as_uri()
    await open_doc(client, uri, TORCH_FILE)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={
                "paddleport": {
                    "severity": {"exact": "error", "review": "hint", "manual": "off"},
                    "ruleSeverity": {"torch.cat": "information"},
                    "debounceMs": 5,
                }
            }
        )
    )
    await wait_for(
        lambda: any(d.severity == types.DiagnosticSeverity.Error for d in client.diagnostics.get(uri, []))
    )
    by_code = {d.code: d.severity for d in client.diagnostics[uri]}
    assert by_code["torch.nn.Conv2d"] == types.DiagnosticSeverity.Error
    assert by_code["torch.cat"] == types.DiagnosticSeverity.Information
    assert by_code["torch"] == types.DiagnosticSeverity.Hint  # imports are only a hint


async def test_bad_settings_warn_by_name_and_fall_back(client: LanguageClient, workspace: Path) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"paddleport": {"run": "sometimes", "severity": {"exact": "loud"}, "debounceMs": 5}}
        )
    )
    await wait_for(lambda: any("paddleport.run" in m.message for m in client.messages))
    message = next(m for m in client.messages if "paddleport.run" in m.message)
    assert message.type == types.MessageType.Warning
    assert "paddleport.severity.exact" in message.message
    uri = (workspace / "after.py").as_uri()
    diags = await open_doc(client, uri, "import torch\nx = torch.zeros(2)\n")
    assert next(d for d in diags if d.code == "torch.zeros").severity == (types.DiagnosticSeverity.Warning)


async def test_utf8_positions_when_the_client_prefers_them(
    utf8_client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "emoji8.py").as_uri()
    diags = await open_doc(utf8_client, uri, 'import torch\ns = "é"; x = torch.zeros(2)\n')
    zeros = next(d for d in diags if d.code == "torch.zeros")
    assert zeros.range.start == types.Position(line=1, character=14)  # é is two UTF-8 bytes


async def test_run_on_save_waits_for_save(client: LanguageClient, workspace: Path) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"paddleport": {"run": "onSave", "debounceMs": 5}})
    )
    uri = (workspace / "save.py").as_uri()
    await open_doc(client, uri, "import torch\n")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangeWholeDocument(text="import torch\nx = torch.zeros(2)\n")
            ],
        )
    )
    await asyncio.sleep(0.3)
    assert not [p for p in client.published if p.uri == uri and p.version == 2]
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    diags = await wait_version(client, uri, 2)
    assert "torch.zeros" in {d.code for d in diags}


async def test_pull_diagnostics(pull_client: LanguageClient, workspace: Path) -> None:
    uri = (workspace / "pull.py").as_uri()
    pull_client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=TORCH_FILE)
        )
    )
    report = await pull_client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
    assert "torch.nn.Conv2d" in {d.code for d in report.items}
    await wait_for(lambda: any(s["uri"] == uri for s in pull_client.statuses))
    assert not [p for p in pull_client.published if p.uri == uri], "no duplicate push"


async def test_broken_user_rule_file_gets_a_diagnostic_and_the_rest_works(
    client: LanguageClient, workspace: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "myrules"
    rules.mkdir()
    (rules / "mine.toml").write_text(
        '[[rule]]\napi = "torch.special.foo"\npaddle = "paddle.foo"\ntier = "sometimes"\n'
    )
    rule_uri = (rules / "mine.toml").as_uri()
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"paddleport": {"extraRuleFolders": [str(rules)], "debounceMs": 5}}
        )
    )
    await wait_for(lambda: rule_uri in client.diagnostics)
    [problem] = client.diagnostics[rule_uri]
    assert problem.severity == types.DiagnosticSeverity.Error
    assert "torch.special.foo" in problem.message and "tier" in problem.message
    assert problem.range.start.line == 3  # the `tier = ...` line
    uri = (workspace / "still.py").as_uri()
    diags = await open_doc(client, uri, TORCH_FILE)
    assert "torch.nn.Conv2d" in {d.code for d in diags}
    # Fixing the rule file and saving: the rules reload and its diagnostic goes away.
    (rules / "mine.toml").write_text(
        '[[rule]]\napi = "torch.special.foo"\npaddle = "paddle.foo"\n'
        'tier = "manual"\nguide = "port by hand"\n'
    )
    os.utime(rules / "mine.toml", (time.time() + 5, time.time() + 5))
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await wait_for(lambda: len(client.diagnostics.get(rule_uri, [None])) == 0)


async def test_clients_without_resolve_get_edits_inline(utf8_client: LanguageClient, workspace: Path) -> None:
    uri = (workspace / "inline.py").as_uri()
    text = 'import torch\ns = "é"; x = torch.zeros(2)\n'
    diags = await open_doc(utf8_client, uri, text)
    zeros = next(d for d in diags if d.code == "torch.zeros")
    actions = await actions_at(utf8_client, uri, [zeros])
    assert all(a.edit is not None for a in actions)
    [fix_all] = [a for a in actions if a.kind == "source.fixAll.paddleport"]
    fixed = apply(text, list((fix_all.edit.changes or {})[uri]), encoding="utf-8")
    assert fixed.startswith('import paddle\ns = "é"; x = paddle.zeros(')


async def test_missing_rule_folder_is_a_warning(client: LanguageClient, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-rules"
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"paddleport": {"extraRuleFolders": [str(missing)]}})
    )
    await wait_for(lambda: any(str(missing) in m.message for m in client.messages))
    message = next(m for m in client.messages if str(missing) in m.message)
    assert "does not exist" in message.message and message.type == types.MessageType.Warning


async def test_disabling_clears_diagnostics_and_actions(client: LanguageClient, workspace: Path) -> None:
    uri = (workspace / "off.py").as_uri()
    assert await open_doc(client, uri, TORCH_FILE)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"paddleport": {"enable": False}})
    )
    await wait_for(lambda: len(client.diagnostics.get(uri, [None])) == 0)
    assert await actions_at(client, uri, []) == []
