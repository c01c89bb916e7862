"""The stdio message loop: pygls' framing, plus recovery from a wrong ``Content-Length``.

pygls reads exactly ``Content-Length`` bytes. When a client (or a broken pipe in between)
announces more bytes than the message has, those reads swallow the next messages and wait
for bytes that never come: the server goes deaf. Here a body that does not parse, or a body
still incomplete after ``STALL_S`` without new bytes, is searched for the start of the next
message (``Content-Length:``); the broken message is dropped (logged) and reading goes on
from there, so every later message is answered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

STALL_S = 1.0  # a body this long without new bytes is checked for the next message's header
HEADER = re.compile(rb"Content-Length: *(\d+)\r\n(?:[^\r\n]+\r\n)*\r\n", re.IGNORECASE)
NEXT = re.compile(rb"Content-Length: *\d+\r\n", re.IGNORECASE)


class MessageReader:
    """Splits a byte stream into JSON-RPC bodies, resynchronising after a broken frame."""

    def __init__(self, read: Callable[[], Awaitable[bytes]]) -> None:
        self._read = read
        self._buffer = bytearray()
        self._pending: asyncio.Future[bytes] | None = None
        self.eof = False
        self.dropped = 0  # broken messages skipped (for tests and logs)

    async def _more(self, timeout: float | None) -> bool:
        """Append the next chunk; False on a timeout (the read stays pending) or at EOF."""
        if self.eof:
            return False
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._read())
        done, _ = await asyncio.wait({self._pending}, timeout=timeout)
        if not done:
            return False
        chunk = self._pending.result()
        self._pending = None
        if not chunk:
            self.eof = True
            return False
        self._buffer += chunk
        return True

    def _drop_to_next(self, start: int) -> bool:
        """Skip to the next ``Content-Length:`` at or after ``start``; False when there is none."""
        found = NEXT.search(self._buffer, start)
        if found is None:
            return False
        log.warning("dropped %d bytes of a malformed message (wrong Content-Length?)", found.start())
        del self._buffer[: found.start()]
        self.dropped += 1
        return True

    async def next_body(self) -> bytes | None:
        """The next message body, or None at the end of the stream."""
        while True:
            header = HEADER.search(self._buffer)
            if header is None:
                if not await self._more(None):
                    return None
                continue
            if header.start() > 0:  # junk before a header
                log.warning("skipped %d bytes before a message header", header.start())
                del self._buffer[: header.start()]
                continue
            length = int(header.group(1))
            end = header.end() + length
            while len(self._buffer) < end:
                if await self._more(STALL_S):
                    continue
                # Stalled or at EOF with a short body: a later message may have started inside it.
                if self._drop_to_next(header.end()):
                    break
                if self.eof:
                    return None
            else:
                body = bytes(self._buffer[header.end() : end])
                if _parses(body) or not self._drop_to_next(header.end()):
                    del self._buffer[:end]
                    return body
            # resynchronised: read the header that now starts the buffer


def _parses(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


async def serve(
    stdin: BinaryIO,
    executor: Executor,
    handle: Callable[[Any], None],
    structure: Callable[[dict[str, Any]], Any],
    stop: threading.Event,
    on_error: Callable[[Exception], None],
) -> None:
    """Read messages from ``stdin`` (in ``executor``) and hand each to ``handle`` until EOF or ``stop``."""
    loop = asyncio.get_running_loop()
    read1 = getattr(stdin, "read1", None)

    def chunk() -> bytes:
        return bytes(read1(65536) if read1 is not None else stdin.read(1))

    reader = MessageReader(lambda: loop.run_in_executor(executor, chunk))
    while not stop.is_set():
        body = await reader.next_body()
        if body is None:
            break
        try:
            message = json.loads(body, object_hook=structure)
        except ValueError as exc:
            log.warning("dropped a message that is not JSON: %s", exc)
            continue
        try:
            handle(message)
        except Exception as exc:
            log.exception("Unable to handle message")
            on_error(exc)
