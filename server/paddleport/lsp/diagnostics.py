"""Diagnostics for torch uses, built from fixes: pure functions the server and tests both call.

Each diagnostic carries its fix in ``data`` (edits as LSP ranges and new text),
so a quick fix is a lookup, never a recomputation. Diagnostics are plain JSON
data (LSP's shape), not lsprotocol objects: a file has hundreds of them and
building and serialising attrs objects cost more than the analysis itself.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from paddleport.analysis.finder import SyntaxProblem
from paddleport.analysis.source import split_lines
from paddleport.analysis.uses import Confidence, UseKind
from paddleport.files import ReadProblem, read_regular
from paddleport.lsp.notebooks import JoinedCells
from paddleport.lsp.positions import PositionMap
from paddleport.lsp.settings import Settings
from paddleport.rewrite.adapters import LAYERS
from paddleport.rewrite.dynamic import NAMESPACE_PREFIX, class_insertion
from paddleport.rewrite.edits import TextEdit, minimal_edits
from paddleport.rewrite.fixes import Fix
from paddleport.rewrite.helpers import VISION, helper_insertion
from paddleport.rewrite.imports import needed_modules
from paddleport.rules.loader import RuleError

SOURCE = "paddleport"
DOCS_URL = "https://github.com/paddleport/paddleport/blob/main/docs/rules.md"
SYNTAX_CODE = "syntax-error"
RULE_ERROR_CODE = "rule-error"
SEVERITY = {"error": 1, "warning": 2, "information": 3, "hint": 4}  # LSP DiagnosticSeverity

Json = dict[str, Any]  # an LSP object as plain JSON data


def rule_anchor(api: str) -> str:
    """GitHub's anchor for the heading ``## `torch.nn.Conv2d` `` that ``rule_markdown`` writes."""
    return re.sub(r"[^\w\- ]", "", api.lower()).replace(" ", "-")


@functools.lru_cache(maxsize=4096)
def rule_href(api: str) -> str:
    return f"{DOCS_URL}#{rule_anchor(api)}"


Span = tuple[str, int, int, int, int]  # uri, start line, start character, end line, end character


class Locator(Protocol):
    """Maps offsets of the analysed text to (document uri, LSP range)."""

    def locate(self, start: int, end: int) -> tuple[str, Json] | None: ...

    def span(self, start: int, end: int) -> Span | None:
        """``locate`` as a hashable tuple (a memo key), without building JSON."""
        ...


def span_range(span: Span) -> Json:
    return {
        "start": {"line": span[1], "character": span[2]},
        "end": {"line": span[3], "character": span[4]},
    }


@dataclass
class TextLocator:
    uri: str
    positions: PositionMap

    def locate(self, start: int, end: int) -> tuple[str, Json] | None:
        return self.uri, self.positions.json_range(start, end)

    def span(self, start: int, end: int) -> Span | None:
        return (self.uri, *self.positions.line_chars(start, end))


@dataclass
class CellLocator:
    """Offsets in a notebook's joined text → the cell's uri and a range inside the cell."""

    joined: JoinedCells
    positions: list[PositionMap]  # one per cell, over the cell's (masked) text

    def locate(self, start: int, end: int) -> tuple[str, Json] | None:
        i = self.joined.cell_at(start, end)
        if i is None:
            return None
        base = self.joined.cells[i].start
        return self.joined.cells[i].uri, self.positions[i].json_range(start - base, end - base)

    def span(self, start: int, end: int) -> Span | None:
        i = self.joined.cell_at(start, end)
        if i is None:
            return None
        base = self.joined.cells[i].start
        return (self.joined.cells[i].uri, *self.positions[i].line_chars(start - base, end - base))


_EDIT_MEMO: dict[tuple[str, str], list[TextEdit]] = {}


def relative_edits(span: str, replacement: str) -> list[TextEdit]:
    """``minimal_edits`` from a use's span to its replacement, in offsets of the span (memoised)."""
    key = (span, replacement)
    rel = _EDIT_MEMO.get(key)
    if rel is None:
        rel = minimal_edits(span, replacement)
        if len(_EDIT_MEMO) > 20_000:
            _EDIT_MEMO.clear()
        _EDIT_MEMO[key] = rel
    return rel


def fix_edits(fix: Fix, text: str, tree: ast.Module | None = None) -> list[TextEdit]:
    """The fix as small edits in offsets of ``text`` (``tree``: ``text`` parsed, if at hand)."""
    assert fix.replacement is not None
    base = fix.use.start
    rel = relative_edits(text[base : fix.use.end], fix.replacement)
    edits = [TextEdit(e.start + base, e.end + base, e.text) for e in rel]
    helper = helper_insertion(text, fix.replacement, tree) if VISION in fix.replacement else None
    if helper is not None:  # the helper class the new text calls (`_paddleport_vision.mnist`)
        edits = sorted([*edits, TextEdit(helper[0], helper[0], helper[1])], key=lambda e: e.start)
    adapter = class_insertion(text, LAYERS, fix.block, tree) if fix.block else None
    if adapter is not None:  # the adapter class the new text names (`_paddleport_layers.ReLU`)
        edits = sorted([*edits, TextEdit(adapter[0], adapter[0], adapter[1])], key=lambda e: e.start)
    return edits


def whole_text(fix: Fix) -> bool:
    """The fix's edits depend on the whole text, not only its span's: it inserts a helper or
    adapter class where the file decides (or not at all, when the file has it already)."""
    return VISION in (fix.replacement or "") or bool(fix.block)


def fix_title(fix: Fix) -> str:
    """``Paddleport (torch.nn.Conv2d): Replace with paddle.nn.Conv2D``."""
    rule = fix.use.rule
    member = fix.use.kind in (UseKind.METHOD_CALL, UseKind.TENSOR_ATTRIBUTE)
    if rule is None or not rule.paddle:
        shown = " ".join((fix.replacement or "?").split())  # a statement may span lines
        return f"Paddleport ({fix.use.api}): Replace with {shown if len(shown) <= 80 else shown[:77] + '...'}"
    return _title(fix.use.api, rule.paddle, rule.short_paddle if member else None)


@functools.lru_cache(maxsize=4096)
def _title(api: str, paddle: str, member: str | None) -> str:
    return f"Paddleport ({api}): Replace with {f'`.{member}`' if member else paddle}"


_CONFIDENCE = {c: c.name.lower() for c in Confidence}


def severity_name(fix: Fix, settings: Settings) -> str:
    """Tier severity, overridden per rule; low-confidence uses at most Information, imports Hint."""
    name = settings.severity_for(fix.use.api, fix.tier)
    if name == "off":
        return name
    if fix.use.kind is UseKind.IMPORT:
        return "hint"
    if fix.use.confidence is Confidence.LOW and name in ("error", "warning"):
        return "information"
    return name


@dataclass
class DiagnosticMemo:
    """Each diagnostic built before, with its JSON text, by everything that goes into it.

    A keystroke moves few uses' ranges (none above the edit, and none at all within a
    line), so nearly every diagnostic of the next analysis is found here and neither
    rebuilt nor serialised again: serialising a dense file's ~500 KB of diagnostics
    cost more than building them.
    """

    encoding: str  # positions in the keys are in this encoding's units
    entries: dict[tuple[Any, ...], tuple[Json, str]] = field(default_factory=dict)
    # whole statements' diagnostics (``lsp.regions``), and the planner and settings they were made with
    regions: dict[Any, Any] = field(default_factory=dict)
    made_with: tuple[object, ...] = ()


@dataclass
class Built:
    diagnostics: dict[str, list[Json]]  # per document uri
    serialised: dict[str, list[str]]  # the same diagnostics as JSON texts
    memo: DiagnosticMemo  # only this analysis's diagnostics: the memo never outgrows the document


def dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def build_diagnostics(
    fixes: Iterable[Fix], text: str, settings: Settings, locator: Locator
) -> dict[str, list[Json]]:
    """Diagnostics per document uri (a plain file has one; a notebook one per cell)."""
    return build(fixes, text, settings, locator, DiagnosticMemo("")).diagnostics


def build(
    fixes: Iterable[Fix], text: str, settings: Settings, locator: Locator, previous: DiagnosticMemo,
    into: DiagnosticMemo | None = None, tree: ast.Module | None = None,
) -> Built:
    """``build_diagnostics`` with their JSON texts, reusing what ``previous`` holds; the new memo
    (``into``, when given) holds what this build made. ``tree``: ``text`` parsed, if at hand."""
    memo = DiagnosticMemo(previous.encoding) if into is None else into
    old, new = previous.entries, memo.entries
    out: dict[str, list[Json]] = {}
    texts: dict[str, list[str]] = {}
    for fix in fixes:
        if fix.is_noop:
            continue
        sev = severity_name(fix, settings)
        if sev == "off":
            continue
        use = fix.use
        focus = locator.span(use.focus_start, use.focus_end)
        if focus is None:
            continue
        uri = focus[0]
        api = use.api
        rule = use.rule is not None
        plain = (focus, sev, api, fix.message, fix.tier, use.confidence, rule)
        key: tuple[Any, ...] | None = plain
        # a runtime lookup's name map is defined by whole-file conversion, not by a span edit
        with_edits = (fix.fixable and use.kind is not UseKind.IMPORT
                      and not (use.kind is UseKind.LOOKUP and NAMESPACE_PREFIX in (fix.replacement or "")))
        if with_edits:
            # the edits' positions follow from where the span starts and what it holds
            span = locator.span(use.start, use.end)
            edits = (span, text[use.start : use.end], fix.replacement, fix_title(fix))
            key = None if span is None else (*plain, *edits)
            if whole_text(fix):  # its class goes where the file decides
                key = None
        hit = old.get(key) if key is not None else None
        if hit is None:
            diagnostic = _diagnostic(fix, text, sev, focus, locator, with_edits, tree)
            hit = diagnostic, dump(diagnostic)
        if key is not None:
            new[key] = hit
        out.setdefault(uri, []).append(hit[0])
        texts.setdefault(uri, []).append(hit[1])
    return Built(out, texts, memo)


def _diagnostic(fix: Fix, text: str, sev: str, focus: Span, locator: Locator, with_edits: bool,
                tree: ast.Module | None) -> Json:  # fmt: skip
    uri = focus[0]
    fix_data: Json | None = None
    if with_edits:
        edits: list[Json] = []
        for edit in fix_edits(fix, text, tree):
            located = locator.locate(edit.start, edit.end)
            if located is None or located[0] != uri:
                edits = []
                break
            edits.append({"range": located[1], "newText": edit.text})
        if edits:
            fix_data = {"title": fix_title(fix), "edits": edits,
                        "imports": needed_modules(fix.replacement or "")}
    api = fix.use.api
    diagnostic: Json = {
        "range": span_range(focus),
        "severity": SEVERITY[sev],
        "code": api,
        "source": SOURCE,
        "message": fix.message,
        "data": {
            "ruleId": api,
            "tier": fix.tier.value,
            "confidence": _CONFIDENCE[fix.use.confidence],
            "fix": fix_data,
        },
    }
    if fix.use.rule is not None:
        diagnostic["codeDescription"] = {"href": rule_href(api)}
    return diagnostic


def syntax_offset(problem: SyntaxProblem, positions: PositionMap) -> int:
    """Offset of a syntax error's (1-based line, character column) in the analysed text."""
    line = min(max(problem.line - 1, 0), positions.line_count - 1)
    return min(positions.line_starts[line] + problem.col, positions.line_end(line))


def syntax_diagnostic(problem: SyntaxProblem, rng: Json) -> Json:
    return {
        "range": rng,
        "severity": SEVERITY["information"],
        "code": SYNTAX_CODE,
        "source": SOURCE,
        "message": f"paddleport cannot analyse this file: {problem.message} (line {problem.line}); "
        "the torch uses shown are from the last version that parsed",
    }


def line_range(line: int, start: int = 0, end: int = 0) -> Json:
    return {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}}


def problem_diagnostic(message: str) -> Json:
    """One diagnostic at the top of a document that cannot be analysed at all (binary, huge)."""
    return {
        "range": line_range(0),
        "severity": SEVERITY["information"],
        "code": "unreadable",
        "source": SOURCE,
        "message": message,
    }


def shift_diagnostics(old_text: str, new_text: str, diagnostics: list[Json]) -> list[Json]:
    """Carry diagnostics over an edit that broke parsing: lines above the edit stay, lines below
    move with it, the edited lines lose theirs. Their fixes are dropped (they are stale)."""
    old_lines = split_lines(old_text)
    new_lines = split_lines(new_text)
    limit = min(len(old_lines), len(new_lines))
    prefix = 0
    while prefix < limit and old_lines[prefix] == new_lines[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old_lines[-1 - suffix] == new_lines[-1 - suffix]:
        suffix += 1
    first_after = len(old_lines) - suffix  # first old line of the unchanged tail
    delta = len(new_lines) - len(old_lines)
    out = []
    for d in diagnostics:
        if d.get("code") == SYNTAX_CODE:
            continue
        start, end = d["range"]["start"], d["range"]["end"]
        if end["line"] < prefix:
            moved = d["range"]
        elif start["line"] >= first_after:
            moved = {
                "start": {"line": start["line"] + delta, "character": start["character"]},
                "end": {"line": end["line"] + delta, "character": end["character"]},
            }
        else:
            continue
        data = dict(d.get("data") or {})
        data["fix"] = None
        data["stale"] = True
        out.append({**d, "range": moved, "data": data})
    return out


def rule_error_diagnostics(errors: Iterable[RuleError]) -> dict[str, list[Json]]:
    """``file:rule:field`` errors of user rule files as diagnostics on those files (by path)."""
    out: dict[str, list[Json]] = {}
    texts: dict[str, list[str]] = {}
    for err in errors:
        path = err.file
        if path not in texts:
            try:
                texts[path] = split_lines(read_regular(Path(path)).decode("utf-8", errors="replace"))
            except ReadProblem:
                texts[path] = []
        line = _error_line(err, texts[path])
        length = len(texts[path][line]) if line < len(texts[path]) else 0
        where = f"rule {err.rule}" if err.rule != "-" else "file"
        field = f", field `{err.field}`" if err.field != "-" else ""
        out.setdefault(path, []).append(
            {
                "range": line_range(line, 0, length),
                "severity": SEVERITY["error"],
                "code": RULE_ERROR_CODE,
                "source": SOURCE,
                "message": f"paddleport {where}{field}: {err.message} (this rule is not loaded)",
            }
        )
    return out


def _error_line(err: RuleError, lines: list[str]) -> int:
    """Best line for a rule error: TOML's own line, else the rule's api line, then its field."""
    m = re.search(r"at line (\d+)", err.message)
    if m:
        return max(int(m.group(1)) - 1, 0)
    start = 0
    if err.rule != "-":
        pattern = re.compile(r"^\s*api\s*=\s*[\"']" + re.escape(err.rule) + r"[\"']")
        start = next((i for i, line in enumerate(lines) if pattern.match(line)), 0)
        if err.rule.startswith("#") and err.rule[1:].isdigit():
            heads = [i for i, line in enumerate(lines) if line.strip() == "[[rule]]"]
            n = int(err.rule[1:]) - 1
            start = heads[n] if 0 <= n < len(heads) else 0
    if err.field not in ("-", ""):
        head = err.field.split(".")[0].split("[")[0]
        pattern = re.compile(r"^\s*" + re.escape(head) + r"\s*=")
        for i in range(start, len(lines)):
            if i > start and lines[i].strip() == "[[rule]]":
                break
            if pattern.match(lines[i]):
                return i
    return start

