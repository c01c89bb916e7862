"""The server over a raw stdio pipe: broken framing must not leave it deaf (issue 12.13)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from lsp_helpers import SERVER

SERVER_DIR = str(Path(__file__).resolve().parents[2] / "server")


def frame(message: dict[str, Any], length: int | None = None) -> bytes:
    body = json.dumps(message).encode()
    return f"Content-Length: {len(body) if length is None else length}\r\n\r\n".encode() + body


class RawClient:
    """Writes bytes to the server's stdin; parses what it writes back into a queue."""

    def __init__(self, workspace: Path) -> None:
        env = dict(os.environ, PYTHONPATH=SERVER_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(
            SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=workspace
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, out: IO[bytes]) -> None:
        while True:
            length = 0
            while True:
                line = out.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                if line == b"\r\n":
                    break
            self.messages.put(json.loads(out.read(length)))

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def response(self, request_id: int, timeout: float) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                message = self.messages.get(timeout=max(end - time.monotonic(), 0.01))
            except queue.Empty:
                break
            if message.get("id") == request_id and "method" not in message:
                return message
        raise AssertionError(f"no answer to request {request_id} within {timeout} s: the server is deaf")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def raw(tmp_path: Path) -> Iterator[RawClient]:
    client = RawClient(tmp_path)
    client.send(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                       "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}}))
    client.response(1, 60)
    client.send(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
    yield client
    client.close()


DEBUG_INFO = {"method": "workspace/executeCommand", "params": {"command": "paddleport.debugInfo", "arguments": []}}


def test_a_content_length_larger_than_the_message_does_not_leave_the_server_deaf(raw: RawClient) -> None:
    broken = frame({"jsonrpc": "2.0", "method": "$/setTrace", "params": {"value": "off"}}, length=4000)
    raw.send(broken + frame({"jsonrpc": "2.0", "id": 2, **DEBUG_INFO}))
    answer = raw.response(2, 15)
    assert answer["result"]["pid"] == raw.proc.pid
    raw.send(frame({"jsonrpc": "2.0", "id": 3, **DEBUG_INFO}))  # and the stream stays in step
    assert raw.response(3, 10)["result"]["pid"] == raw.proc.pid


def test_a_short_length_and_junk_between_messages_are_skipped(raw: RawClient) -> None:
    good = frame({"jsonrpc": "2.0", "id": 4, **DEBUG_INFO})
    raw.send(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}, length=10) + b"garbage\r\n" + good)
    assert raw.response(4, 15)["id"] == 4
