"""The diagnostics of top-level statements an edit left alone, reused whole.

An incremental analysis (``analysis.incremental``) hands back each untouched
statement's walk; the fixes, diagnostics and counts made from those uses are the
same as last time too, once the statement's lines are where they were (a keystroke
moves the statements below it by characters, never by lines). A statement moved by
lines gets its diagnostics back with their line numbers moved. Only the edited
statements go through planning and the diagnostics memo, which cost ~10 µs per use
and a dense file has hundreds.

What a statement's diagnostics depend on: its walk (the ``Segment``'s token stands
for the walk and its moved copies, so for the statement's text and everything the
analysis read), its first line, the planner, the settings and the position encoding.
A statement is made afresh when its uses are not exactly its walk's (a device/dtype
dict that another statement splats adds one) or when a fix inserts a class where the
whole file decides (``diagnostics.whole_text``).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from paddleport.analysis.finder import Analysis
from paddleport.lsp.diagnostics import Built, DiagnosticMemo, Json, TextLocator, build, whole_text
from paddleport.lsp.settings import Settings
from paddleport.rewrite.convert import UseCounts, count_uses, plan_uses
from paddleport.rewrite.fixes import Planner


@dataclass(frozen=True)
class Region:
    """One statement's diagnostics, as JSON data and as JSON text, and its counts."""

    line: int  # the statement's first line (0-based) when they were made
    diagnostics: tuple[Json, ...]
    serialised: tuple[str, ...]
    counts: UseCounts

    def moved(self, line: int) -> Region:
        delta = line - self.line
        if not delta:
            return self
        # `"line":` with an unescaped quote is only ever a key: a quote inside a string is `\"`
        texts = tuple(_LINE.sub(lambda m: f'"line":{int(m.group(1)) + delta}', s) for s in self.serialised)
        return Region(line, tuple(_moved(d, delta) for d in self.diagnostics), texts, self.counts)


_LINE = re.compile(r'"line":(\d+)')


def _moved_range(rng: Json, delta: int) -> Json:
    start, end = rng["start"], rng["end"]
    return {"start": {"line": start["line"] + delta, "character": start["character"]},
            "end": {"line": end["line"] + delta, "character": end["character"]}}  # fmt: skip


def _moved(diagnostic: Json, delta: int) -> Json:
    out = {**diagnostic, "range": _moved_range(diagnostic["range"], delta)}
    data = diagnostic.get("data")
    fix = data.get("fix") if isinstance(data, dict) else None
    if isinstance(data, dict) and fix:
        edits = [{**e, "range": _moved_range(e["range"], delta)} for e in fix["edits"]]
        out["data"] = {**data, "fix": {**fix, "edits": edits}}
    return out


def build_by_statement(analysis: Analysis, planner: Planner, settings: Settings, locator: TextLocator,
                       previous: DiagnosticMemo) -> tuple[Built, UseCounts]:  # fmt: skip
    """What ``build(plan(analysis))`` and ``count_uses`` give for a plain file, statement by statement."""
    assert analysis.regions is not None
    text = analysis.source.text
    uses = analysis.uses
    made_with = (planner, settings)
    made_before = previous.made_with
    same = len(made_before) == 2 and made_before[0] is planner and made_before[1] == settings
    old = previous.regions if same else {}
    memo = DiagnosticMemo(previous.encoding, made_with=made_with)
    starts = locator.positions.line_starts
    diagnostics: list[Json] = []
    serialised: list[str] = []
    counts = UseCounts()
    i = 0
    bounds = [start for start, _ in analysis.regions]
    # the uses before the first statement (none), then each statement's
    for k in range(-1, len(bounds)):
        end = bounds[k + 1] if k + 1 < len(bounds) else len(text) + 1
        j = i
        while j < len(uses) and uses[j].start < end:
            j += 1
        if j == i:
            continue
        part = uses[i:j]
        i = j
        key: tuple[object, bool] | None = None
        line = 0
        if k >= 0:
            start, segment = analysis.regions[k]
            walked = len(segment.uses) + (len(segment.factory_uses) if analysis.imports_torch else 0)
            if len(part) == walked:  # exactly the walk's uses: nothing from elsewhere
                key = (segment.token, analysis.imports_torch)
                line = bisect.bisect_right(starts, start) - 1
        region = old.get(key) if key is not None else None
        if region is not None:
            region = region.moved(line)
        else:
            fixes = plan_uses(part, text, planner)
            built = build(fixes, text, settings, locator, previous, into=memo, tree=analysis.tree)
            made = built.diagnostics.get(locator.uri, [])
            region = Region(line, tuple(made),
                            tuple(built.serialised.get(locator.uri, [])), count_uses(fixes))  # fmt: skip
            if any(whole_text(f) for f in fixes):
                key = None
        if key is not None:
            memo.regions[key] = region
        diagnostics.extend(region.diagnostics)
        serialised.extend(region.serialised)
        counts = counts + region.counts
    return Built({locator.uri: diagnostics}, {locator.uri: serialised}, memo), counts
