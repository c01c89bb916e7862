"""What the server analyses: a Python file or a notebook's Python cells, seen as one text.

``DocumentView`` hides the difference: it maps offsets of the analysed text to
(uri, range) and turns a converted text back into LSP edits per document.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lsprotocol import types

from paddleport.lsp.diagnostics import CellLocator, Locator, TextLocator
from paddleport.lsp.notebooks import JoinedCells, join_cells, split_cells
from paddleport.lsp.positions import UTF16, PositionMap
from paddleport.lsp.textdiff import fast_edits

MAX_CHARS = 5_000_000  # beyond this a document is not analysed (the message says why)
ON_TYPE_MAX_CHARS = 1_000_000  # beyond this (~25,000 lines) a document is analysed on save only


@dataclass
class DocumentView:
    uri: str  # the file, or the notebook
    text: str  # what is analysed: the file, or the joined cells
    version: int | None
    encoding: str = UTF16
    cells: JoinedCells | None = None  # set for notebooks
    cell_texts: list[str] = field(default_factory=list)  # original cell texts (magics unmasked)
    versions: dict[str, int | None] = field(default_factory=dict)  # per cell, for notebooks
    locator: Locator = field(init=False)
    _maps: list[PositionMap] = field(init=False)

    def __post_init__(self) -> None:
        if self.cells is None:
            self._maps = [PositionMap(self.text, self.encoding)]
            self.locator = TextLocator(self.uri, self._maps[0])
        else:
            self._maps = [PositionMap(t, self.encoding) for t in self.cell_texts]
            self.locator = CellLocator(self.cells, self._maps)

    @classmethod
    def for_notebook(
        cls,
        uri: str,
        version: int | None,
        cells: list[tuple[str, str, int | None]],
        encoding: str = UTF16,
    ) -> DocumentView:
        """``cells``: (uri, text, version) of each Python cell, in order."""
        joined = join_cells([(u, t) for u, t, _ in cells])
        return cls(
            uri,
            joined.text,
            version,
            encoding,
            joined,
            [t for _, t, _ in cells],
            {u: v for u, _, v in cells},
        )

    def version_of(self, uri: str) -> int | None:
        return self.versions.get(uri, self.version) if self.cells is not None else self.version

    def text_of(self, uri: str) -> str | None:
        """The current text of the file or of one cell."""
        if self.cells is None:
            return self.text if uri == self.uri else None
        i = self.cells.index_of(uri)
        return None if i is None else self.cell_texts[i]

    @property
    def uris(self) -> list[str]:
        """Documents that receive diagnostics: the file, or every Python cell."""
        return [self.uri] if self.cells is None else [c.uri for c in self.cells.cells]

    def positions_for(self, uri: str) -> tuple[PositionMap, int] | None:
        """The position map of ``uri`` and where its text starts in the analysed text."""
        if self.cells is None:
            return (self._maps[0], 0) if uri == self.uri else None
        i = self.cells.index_of(uri)
        return None if i is None else (self._maps[i], self.cells.cells[i].start)

    def changes_for(self, new_text: str) -> dict[str, list[types.TextEdit]] | None:
        """Minimal LSP edits per document that turn the analysed text into ``new_text``."""
        if self.cells is None:
            edits = fast_edits(self.text, new_text)
            pm = self._maps[0]
            out = [types.TextEdit(range=pm.range(e.start, e.end), new_text=e.text) for e in edits]
            return {self.uri: out} if out else {}
        parts = split_cells(new_text, len(self.cells.cells))
        if parts is None:
            return None
        changes: dict[str, list[types.TextEdit]] = {}
        for i, (cell, new) in enumerate(zip(self.cells.cells, parts, strict=True)):
            old = self.text[cell.start : cell.end]
            pm = self._maps[i]
            cell_edits = [
                types.TextEdit(range=pm.range(e.start, e.end), new_text=e.text) for e in fast_edits(old, new)
            ]
            if cell_edits:
                changes[cell.uri] = cell_edits
        return changes
