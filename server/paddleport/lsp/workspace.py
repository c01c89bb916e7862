"""pygls's document store with LSP's idea of a line, and no errors for unknown documents.

pygls splits lines with ``str.splitlines``, which also breaks at form feeds,
U+2028 and other characters that LSP does not treat as line ends, so every
incremental change after one lands on the wrong text. LSP (like Python) ends a
line at ``\\r\\n``, ``\\r`` or ``\\n`` only. And a client may send ``didChange``
after ``didClose`` (VS Code does, on close-without-save): that notification is
about a document the server no longer holds, and is dropped with a debug line.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

from paddleport.analysis.source import split_lines_keepends

log = logging.getLogger(__name__)


class LspTextDocument(TextDocument):
    @property
    def lines(self) -> Sequence[str]:
        return tuple(split_lines_keepends(self.source))


class PaddleportWorkspace(Workspace):
    def _create_text_document(self, doc_uri: str, source: str | None = None, version: int | None = None,
                              language_id: str | None = None) -> TextDocument:  # fmt: skip
        return LspTextDocument(doc_uri, source=source, version=version, language_id=language_id,
                               sync_kind=self._sync_kind, position_codec=self._position_codec)  # fmt: skip

    def update_text_document(self, text_doc: types.VersionedTextDocumentIdentifier,
                             change: types.TextDocumentContentChangeEvent) -> None:  # fmt: skip
        if unquote(text_doc.uri) not in self._text_documents:
            log.debug("didChange for %s, which is not open: ignored", text_doc.uri)
            return
        super().update_text_document(text_doc, change)

    def update_notebook_document(self, params: types.DidChangeNotebookDocumentParams) -> None:
        if unquote(params.notebook_document.uri) not in self._notebook_documents:
            log.debug("notebook change for %s, which is not open: ignored", params.notebook_document.uri)
            return
        super().update_notebook_document(params)


def adopt(workspace: Any) -> None:
    """Make the workspace pygls created at ``initialize`` ours; documents are opened after it."""
    if isinstance(workspace, Workspace) and not isinstance(workspace, PaddleportWorkspace):
        workspace.__class__ = PaddleportWorkspace
