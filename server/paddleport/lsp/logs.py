"""The server's Python logging, sent to the client as ``window/logMessage`` at the right level.

Logging to stderr made every pygls warning a red ``[error]`` line in VS Code's
output channel (clients show a server's stderr as errors). Records go out as log
messages typed by level instead; stderr is kept for what cannot be sent.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading

from lsprotocol import types
from pygls.lsp.server import LanguageServer

LEVELS = [
    (logging.ERROR, types.MessageType.Error),
    (logging.WARNING, types.MessageType.Warning),
    (logging.INFO, types.MessageType.Info),
]
# Normal protocol traffic that pygls reports as warnings: a cancel that arrives after its
# request finished is expected, not a problem.
ROUTINE = ("Cancel notification for unknown message id",)


class ClientLogHandler(logging.Handler):
    def __init__(self, server: LanguageServer) -> None:
        super().__init__(logging.DEBUG)
        self.server = server
        self._sending = threading.local()
        self.loop: asyncio.AbstractEventLoop | None = None  # set by the first record on the loop

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._sending, "active", False):
            return  # a record logged while sending one would loop
        self._sending.active = True
        try:
            kind = next((t for level, t in LEVELS if record.levelno >= level), types.MessageType.Log)
            params = types.LogMessageParams(type=kind, message=f"{record.name}: {self.format(record)}")
            try:
                self.loop = asyncio.get_running_loop()
            except RuntimeError:  # a worker thread: the transport belongs to the loop's thread
                if self.loop is not None and self.loop.is_running():
                    self.loop.call_soon_threadsafe(self.server.window_log_message, params)
                    return
            self.server.window_log_message(params)
        except Exception:  # the connection is gone: fall back to stderr
            sys.stderr.write(self.format(record) + "\n")
        finally:
            self._sending.active = False


class _Routine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and record.getMessage().startswith(ROUTINE):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def send_logs_to_client(server: LanguageServer, level: int = logging.INFO) -> None:
    """Route the root logger to the client; pygls's own chatter only from warnings up."""
    handler = ClientLogHandler(server)
    handler.addFilter(_Routine())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("pygls").setLevel(max(level, logging.WARNING))
