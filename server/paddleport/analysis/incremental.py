"""Analyse again only the top-level statements an edit touched; reuse the walk of the rest.

The editor analyses the whole document on every keystroke, and walking a dense file's
statements is most of that time. A top-level statement's walk depends on its own text
and on module-wide facts only: the module's names (imports, aliases, what each is
bound to, inferred tensors, object types and dtypes), its classes' bases, attribute
types and the members each defines, and whether torch is imported before it. ``_Finder.context`` gathers those
facts as plain values after every parse (a cheap pass over the module); while they
are equal to the last analysis's, a statement whose text (its lines up to the next
top-level statement, comments included) was seen with the same ``imports_torch``
before it gets the same uses, moved by however far its text moved. Anything else
(a changed import, a renamed binding, a class whose attributes changed type) changes
the context and the whole module is walked again, so the result is always exactly
what ``analyze(text, rules)`` gives (``tests/test_incremental.py`` checks it on random edits).
A statement walked again to the same uses as before keeps its walk's ``token``, so
what the editor made from them (``lsp.regions``) is still reused.
"""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass, field

from paddleport.analysis.reparse import FUTURE_SYNTAX, ParseCache
from paddleport.analysis.uses import Use
from paddleport.rules.loader import RuleSet


@dataclass(frozen=True, slots=True)
class Segment:
    """What the walk of one top-level statement found."""

    uses: tuple[Use, ...]  # in the order the walk found them
    factory_uses: tuple[Use, ...]  # device/dtype dicts of the functions in it (kept if torch is imported)
    splats: frozenset[str]  # module-level device/dtype dicts it splats (`**dd`): their uses come last
    imports_torch: bool  # torch is imported once it has run (by it or a statement before)
    # the same for this walk, its moved copies and equal walks of the same text: what is made
    # from the uses can be kept by it
    token: object = field(default_factory=object, compare=False)

    def shifted(self, delta: int) -> Segment:
        """The same walk for the statement's text moved ``delta`` characters."""
        return Segment(_shift(self.uses, delta), _shift(self.factory_uses, delta), self.splats,
                       self.imports_torch, self.token)  # fmt: skip


def _shift(uses: tuple[Use, ...], delta: int) -> tuple[Use, ...]:
    d = delta
    # every field, spelled out: `dataclasses.replace` costs ten times more (tests check the fields)
    return tuple(Use(u.api, u.rule, u.kind, u.start + d, u.end + d, u.focus_start + d, u.focus_end + d,
                     u.confidence, u.via_alias, u.store, u.via_default, u.plain_class, u.splats,
                     u.statement, u.keep_layout, u.open_files, u.promote_to, u.promote_runtime)
                 for u in uses)  # fmt: skip


def _first_line(stmt: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(stmt, "decorator_list", [])
    return min([stmt.lineno, *(d.lineno for d in decorators)])


def regions(text: str, body: list[ast.stmt], starts: list[int]) -> list[tuple[int, str]] | None:
    """Where each top-level statement's text starts, and the text itself: its lines, and the
    comment and blank lines after it, up to the next statement (``starts``: where the text's
    lines start). None when statements share a line or a ``__future__`` import may parse the
    same text differently: walk everything."""
    if FUTURE_SYNTAX in text or any(s.col_offset != 0 for s in body):
        return None
    if not body:  # nothing but comments, or nothing at all
        return []
    firsts = [starts[_first_line(s) - 1] for s in body]
    return [(a, text[a:b]) for a, b in zip(firsts, [*firsts[1:], len(text)], strict=True)]


Key = tuple[str, bool]  # a statement's text, and whether torch is imported before it


@dataclass
class _Slot:
    rules: RuleSet
    context: tuple[object, ...]
    segments: dict[Key, tuple[int, Segment]]  # -> where the text started, and its walk
    members: dict[str, frozenset[str]]  # a class's text -> the members it defines (`_Finder.class_members`)


class AnalysisCache:
    """The last analysis's walks per statement, and its parse: one slot, like ``ParseCache``.

    Reuse is decided by text and context alone, never by which document they came
    from, so another document's analysis only costs a full walk.
    """

    def __init__(self) -> None:
        self.parses = ParseCache()
        self._lock = threading.Lock()
        self._last: _Slot | None = None

    def last(self, rules: RuleSet) -> tuple[tuple[object, ...] | None, dict[Key, tuple[int, Segment]]]:
        """The last analysis's context and walks, if it was made with these rules (a walk can be
        reused in an equal context only)."""
        with self._lock:
            last = self._last
        if last is None or last.rules is not rules:
            return None, {}
        return last.context, last.segments

    def members(self) -> dict[str, frozenset[str]]:
        """What each class of the last analysis defines, by the class's text."""
        with self._lock:
            last = self._last
        return {} if last is None else last.members

    def store(self, rules: RuleSet, context: tuple[object, ...], segments: dict[Key, tuple[int, Segment]],
              members: dict[str, frozenset[str]]) -> None:  # fmt: skip
        with self._lock:
            self._last = _Slot(rules, context, segments, members)

    def clear(self) -> None:
        self.parses.clear()
        with self._lock:
            self._last = None
