"""Code actions: quick fixes from diagnostic data, fix-all (file or rule), ignore-this-line.

Pure functions over a ``DocumentView`` and the client's diagnostics; the
server only routes requests here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lsprotocol import types

from paddleport.analysis.finder import IGNORE_MARK
from paddleport.analysis.uses import Confidence
from paddleport.lsp.diagnostics import SOURCE
from paddleport.lsp.documents import DocumentView
from paddleport.rewrite.convert import Conversion, convert_source, exact_fix
from paddleport.rewrite.fixes import Fix, Planner
from paddleport.rewrite.imports import IMPORTABLE, module_import_edit
from paddleport.rules.model import Tier

FIX_ALL_KIND = "source.fixAll.paddleport"
IGNORE_COMMENT = f"  # {IGNORE_MARK}"


exact_only = exact_fix  # what fix-all applies: one definition with the status bar's count


def of_rule(rule_id: str) -> Callable[[Fix], bool]:
    def select(fix: Fix) -> bool:
        return fix.use.api == rule_id and fix.use.confidence >= Confidence.MEDIUM

    return select


def convert_view(
    view: DocumentView,
    planner: Planner,
    select: Callable[[Fix], bool] | None,
    annotate: bool = False,
) -> tuple[Conversion, types.WorkspaceEdit | None]:
    """Convert the view's text; the edit is None when nothing changes or the conversion failed."""
    conv = convert_source(view.text, planner, select=select, annotate=annotate)
    if conv.error is not None or not conv.changed:
        return conv, None
    changes = view.changes_for(conv.code)
    return conv, (types.WorkspaceEdit(changes=changes) if changes else None)


def _edits_from_data(data: Any) -> list[types.TextEdit]:
    """The edits a diagnostic carries; none when the data is missing or not ours (a client
    may hand back anything)."""
    fix = data.get("fix") if isinstance(data, dict) else None
    if not isinstance(fix, dict):
        return []
    out = []
    try:
        for e in fix.get("edits") or []:
            r = e["range"]
            start = types.Position(line=int(r["start"]["line"]), character=int(r["start"]["character"]))
            end = types.Position(line=int(r["end"]["line"]), character=int(r["end"]["character"]))
            out.append(types.TextEdit(range=types.Range(start=start, end=end), new_text=str(e["newText"])))
    except (KeyError, TypeError, ValueError):
        return []
    return out


def is_ours(diagnostic: types.Diagnostic) -> bool:
    return diagnostic.source == SOURCE and isinstance(diagnostic.data, dict)


ImportEdit = tuple[str, types.TextEdit]  # the document (uri) the import goes into, and the edit
Imports = Callable[[tuple[str, ...]], ImportEdit | None]  # the import edit for these modules, if any


def quick_fix(uri: str, diagnostic: types.Diagnostic,
              imports: Imports | None = None) -> types.CodeAction | None:  # fmt: skip
    """The fix carried in the diagnostic's data, as a code action (no recomputation), with the
    imports its text needs (``import paddle``, ``import typing``: from ``imports``, see ``import_edit``)."""
    if not is_ours(diagnostic):
        return None
    edits = _edits_from_data(diagnostic.data)
    if not edits:
        return None
    data = diagnostic.data
    assert isinstance(data, dict)
    changes: dict[str, list[types.TextEdit]] = {uri: edits}
    listed = data["fix"].get("imports") if isinstance(data.get("fix"), dict) else None
    # the modules the whole replacement names (its edits may be a minimal diff of it: `orch.jit` → `yping`)
    needed = tuple(m for m in IMPORTABLE if isinstance(listed, list) and m in listed)
    added = imports(needed) if imports is not None and needed else None
    if added is not None:
        changes.setdefault(added[0], []).insert(0, added[1])
    return types.CodeAction(
        title=data["fix"]["title"],
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=types.WorkspaceEdit(changes=changes),
        is_preferred=data.get("tier") == Tier.EXACT.value,
    )


def import_edit(view: DocumentView, modules: tuple[str, ...] = ("paddle",)) -> ImportEdit | None:
    """Where the imports of ``modules`` the document lacks go (a file, or a notebook's first cell
    that fits), or None when it has them all."""
    edit = module_import_edit(view.text, modules)
    if edit is None:
        return None
    located = view.locator.locate(edit.start, edit.end)
    if located is None:
        return None
    where, r = located
    rng = types.Range(start=types.Position(line=r["start"]["line"], character=r["start"]["character"]),
                      end=types.Position(line=r["end"]["line"], character=r["end"]["character"]))  # fmt: skip
    return where, types.TextEdit(range=rng, new_text=edit.text)


def ignore_line(uri: str, diagnostic: types.Diagnostic, view: DocumentView) -> types.CodeAction | None:
    """Append ``# paddleport: ignore`` to the diagnostic's line (not after a ``\\``)."""
    where = view.positions_for(uri)
    if where is None or not is_ours(diagnostic):
        return None
    positions, _ = where
    line = diagnostic.range.start.line
    if line >= positions.line_count:
        return None
    start, end = positions.line_starts[line], positions.line_end(line)
    text = positions.text[start:end]
    if IGNORE_MARK in text or text.rstrip().endswith("\\"):
        return None
    stripped = len(text.rstrip())
    at = positions.position(start + stripped)
    api = diagnostic.code
    return types.CodeAction(
        title=f"Paddleport ({api}): Ignore torch uses on this line",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=types.WorkspaceEdit(
            changes={
                uri: [
                    types.TextEdit(
                        range=types.Range(start=at, end=positions.position(end)),
                        new_text=IGNORE_COMMENT,
                    )
                ]
            }
        ),
    )


def wants(only: Sequence[str] | None, kind: str) -> bool:
    """Whether ``context.only`` (a list of kind prefixes) asks for ``kind``."""
    if not only:
        return True
    return any(kind == k or kind.startswith(k + ".") for k in only)


def lazy(
    title: str, kind: str, data: dict[str, Any], diagnostics: list[types.Diagnostic] | None = None
) -> types.CodeAction:
    """An action whose edit is filled in by ``codeAction/resolve``."""
    return types.CodeAction(title=title, kind=kind, data=data, diagnostics=diagnostics)


def fix_all_title() -> str:
    return "Paddleport: Convert all torch uses in this file (exact fixes)"


def rule_fix_title(rule_id: str) -> str:
    return f"Paddleport ({rule_id}): Fix all `{rule_id}` in this file"


def resolve_edit(view: DocumentView, planner: Planner, data: dict[str, Any]) -> types.WorkspaceEdit | None:
    """The edit of a lazy action: ``{"action": "fixAll"}`` or ``{"action": "fixRule", ...}``."""
    if data.get("action") == "fixAll":
        return convert_view(view, planner, exact_only)[1]
    if data.get("action") == "fixRule" and isinstance(data.get("ruleId"), str):
        return convert_view(view, planner, of_rule(data["ruleId"]))[1]
    return None


def code_actions(
    view: DocumentView,
    uri: str,
    diagnostics: Sequence[types.Diagnostic],
    only: Sequence[str] | None,
    planner: Planner,
    *,
    can_resolve: bool,
    offer_fix_all: bool = True,
) -> list[types.CodeAction]:
    """All actions for a range: a quick fix and an ignore per diagnostic, fix-all of each rule
    present, and fix-all of the file. Lazy where the client resolves, eager otherwise."""
    actions: list[types.CodeAction] = []
    if wants(only, types.CodeActionKind.QuickFix):
        rules_seen: dict[str, list[types.Diagnostic]] = {}
        memo: dict[tuple[str, ...], ImportEdit | None] = {}

        def imports(modules: tuple[str, ...]) -> ImportEdit | None:
            if modules not in memo:
                memo[modules] = import_edit(view, modules)
            return memo[modules]

        for d in diagnostics:
            action = quick_fix(uri, d, imports)
            if action is not None:
                actions.append(action)
                rules_seen.setdefault(str(d.code), []).append(d)
        for rule_id, ds in rules_seen.items():
            data = {"action": "fixRule", "ruleId": rule_id, "uri": uri, "version": view.version}
            action = lazy(rule_fix_title(rule_id), types.CodeActionKind.QuickFix, data, ds)
            if not can_resolve:
                action.edit = resolve_edit(view, planner, data)
                action.data = None
                if action.edit is None:
                    continue
            actions.append(action)
        for d in diagnostics:
            action = ignore_line(uri, d, view)
            if action is not None:
                actions.append(action)
    if (offer_fix_all or only) and wants(only, FIX_ALL_KIND):
        data = {"action": "fixAll", "uri": uri, "version": view.version}
        action = lazy(fix_all_title(), FIX_ALL_KIND, data)
        # Eager for codeActionsOnSave (context.only names the kind) and for clients without resolve.
        if only or not can_resolve:
            action.edit = resolve_edit(view, planner, data)
            action.data = None
            if action.edit is None:
                return actions
        actions.append(action)
    return actions
