"""One analysis of a document into what the editor shows: diagnostics per uri and the status counts.

Pure: given a ``DocumentView``, the planner, the settings and the previous
state, it never touches the connection, so tests call it directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from paddleport.analysis.finder import analyze
from paddleport.analysis.incremental import AnalysisCache
from paddleport.lsp.diagnostics import (
    DiagnosticMemo,
    Json,
    TextLocator,
    build,
    line_range,
    problem_diagnostic,
    shift_diagnostics,
    syntax_diagnostic,
    syntax_offset,
)
from paddleport.lsp.documents import MAX_CHARS, ON_TYPE_MAX_CHARS, DocumentView
from paddleport.lsp.positions import PositionMap
from paddleport.lsp.regions import build_by_statement
from paddleport.lsp.settings import Settings
from paddleport.rewrite.convert import UseCounts, count_uses, plan
from paddleport.rewrite.fixes import Planner


@dataclass
class DocState:
    key: str  # the file or notebook uri
    version: int | None
    text: str  # the analysed text this state describes
    texts: dict[str, str]  # per document uri (cells of a notebook), for shifting after an error
    diagnostics: dict[str, list[Json]] = field(default_factory=dict)  # LSP Diagnostic objects
    counts: UseCounts = field(default_factory=UseCounts)
    parsed: bool = True  # False: a syntax error; diagnostics are carried over from before
    serialised: dict[str, list[str]] = field(default_factory=dict)  # per uri, when all are memoised
    memo: DiagnosticMemo | None = None  # what the next analysis of this document may reuse


# The document being edited: its next analysis parses and walks only the top-level statements an
# edit touched (and everything when an edit changes what the whole module knows).
_ANALYSES = AnalysisCache()


class Cancelled(Exception):
    """A newer version of the document arrived while it was being analysed."""


def _never() -> bool:
    return False


def diagnose(
    view: DocumentView,
    planner: Planner,
    settings: Settings,
    previous: DocState | None = None,
    cancelled: Callable[[], bool] = _never,
) -> DocState:
    """The document's diagnostics and counts; raises ``Cancelled`` between phases once ``cancelled()``."""
    texts = {uri: view.text_of(uri) or "" for uri in view.uris}
    state = DocState(view.uri, view.version, view.text, texts, {uri: [] for uri in view.uris})
    first = view.uris[0]
    if len(view.text) > MAX_CHARS:
        state.diagnostics[first] = [
            problem_diagnostic(
                f"paddleport skips this document: {len(view.text) // 1_000_000} MB of text is more "
                f"than the {MAX_CHARS // 1_000_000} MB it analyses while editing; "
                "use `paddleport check` / `paddleport convert` on it instead"
            )
        ]
        return state
    if "\0" in view.text:
        state.diagnostics[first] = [
            problem_diagnostic("paddleport skips this document: it holds NUL bytes (binary data, not Python)")
        ]
        return state
    analysis = analyze(view.text, planner.rules, cache=_ANALYSES)
    if cancelled():
        raise Cancelled
    if analysis.syntax_error is not None:
        state.parsed = False
        if previous is not None:
            state.counts = previous.counts
            state.memo = previous.memo  # still valid: its keys hold everything its entries depend on
            for uri in view.uris:
                old = previous.diagnostics.get(uri, [])
                if old:
                    state.diagnostics[uri] = shift_diagnostics(previous.texts.get(uri, ""), texts[uri], old)
        offset = syntax_offset(analysis.syntax_error, PositionMap(view.text))
        where = view.locator.locate(offset, offset)
        if where is None:  # between cells: put it at the start of the next cell
            where = view.locator.locate(offset + 1, offset + 1) or (first, line_range(0))
        state.diagnostics.setdefault(where[0], []).append(syntax_diagnostic(analysis.syntax_error, where[1]))
        return state
    memo = previous.memo if previous is not None else None
    if memo is None or memo.encoding != view.encoding:
        memo = DiagnosticMemo(view.encoding)
    if analysis.regions is not None and isinstance(view.locator, TextLocator):
        built, state.counts = build_by_statement(analysis, planner, settings, view.locator, memo)
    else:
        fixes = plan(analysis, planner)
        if cancelled():
            raise Cancelled
        built = build(fixes, view.text, settings, view.locator, memo, tree=analysis.tree)
        state.counts = count_uses(fixes)
    state.diagnostics.update(built.diagnostics)
    state.serialised = {uri: built.serialised.get(uri, []) for uri in state.diagnostics}
    state.memo = built.memo
    if len(view.text) > ON_TYPE_MAX_CHARS:
        note = problem_diagnostic(
            f"paddleport analyses this large document ({len(view.text) // 1000:,} K characters, over "
            f"{ON_TYPE_MAX_CHARS // 1000:,} K) when it is saved, not while you type"
        )
        state.diagnostics[first] = [note, *state.diagnostics.get(first, [])]
        state.serialised.pop(first, None)
    return state
