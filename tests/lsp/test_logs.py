"""Log levels mean what they say: a routine protocol event is no error, a warning is a warning."""

from __future__ import annotations

import logging

from lsprotocol import types
from pytest_lsp import LanguageClient

from paddleport.lsp.logs import ClientLogHandler, _Routine


async def test_a_cancel_for_a_finished_request_is_no_error(client: LanguageClient) -> None:
    client.protocol.notify("$/cancelRequest", types.CancelParams(id=987654))
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="paddleport.debugInfo")
    )
    bad = [m for m in client.log_messages if m.type in (types.MessageType.Error, types.MessageType.Warning)]
    assert bad == []
    assert not any("Error" in m.message and "[error]" in m.message for m in client.log_messages)


def test_records_become_log_messages_of_their_level() -> None:
    sent: list[types.LogMessageParams] = []

    class Server:
        def window_log_message(self, params: types.LogMessageParams) -> None:
            sent.append(params)

    handler = ClientLogHandler(Server())  # type: ignore[arg-type]
    handler.addFilter(_Routine())
    logger = logging.getLogger("paddleport.test_logs")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.warning("a real warning")
    logger.info("an info line")
    logger.error("an error")
    logging.getLogger("paddleport.test_logs").warning("Cancel notification for unknown message id 3")
    assert [(p.type, p.message.split(": ", 1)[1]) for p in sent] == [
        (types.MessageType.Warning, "a real warning"),
        (types.MessageType.Info, "an info line"),
        (types.MessageType.Error, "an error"),
    ]


def test_the_server_writes_nothing_to_stderr_on_a_routine_session(tmp_path) -> None:
    """Clients show a server's stderr as errors: a clean session leaves it empty."""
    import json
    import subprocess
    import sys

    def frame(message: dict[str, object]) -> bytes:
        body = json.dumps(message).encode()
        return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)

    uri = (tmp_path / "a.py").as_uri()
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 12345}},
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": "import torch\nx = torch.zeros(2)\n"}}},
        {"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": uri}}},
        {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ]  # fmt: skip
    result = subprocess.run([sys.executable, "-P", "-m", "paddleport", "lsp"],
                            input=b"".join(frame(m) for m in messages), capture_output=True,
                            timeout=120, cwd=tmp_path)  # fmt: skip
    assert b'"capabilities"' in result.stdout
    assert result.stderr.decode() == ""
