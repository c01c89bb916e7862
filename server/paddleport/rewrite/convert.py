"""Convert a whole source text, a range of it, or chosen uses.

Uses are rewritten innermost-first, right to left, so each rewrite sees its
nested uses already converted and no offset goes stale. The result must parse;
if a bug ever made it not parse, the original text is returned with an error
rather than broken code.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from paddleport.analysis.finder import Analysis, analyze
from paddleport.analysis.project import ModuleFacts
from paddleport.analysis.uses import Confidence, Use, UseKind
from paddleport.rewrite.fixes import Fix, Planner
from paddleport.rewrite.imports import fix_imports
from paddleport.rewrite.statements import split_scheduler_attachments
from paddleport.rules.model import Tier

ANNOTATION_MARK = "# paddleport: manual"


@dataclass
class Outcome:
    """What happened to one use during a conversion."""

    fix: Fix
    applied: bool

    @property
    def use(self) -> Use:
        return self.fix.use


@dataclass
class Conversion:
    original: str
    code: str
    outcomes: list[Outcome] = field(default_factory=list)
    error: str | None = None  # a syntax error in the input, or an internal failure

    @property
    def changed(self) -> bool:
        return self.code != self.original

    def counts(self) -> dict[str, int]:
        """Uses found, already valid in Paddle, converted exactly or for review, left for a human."""
        c = {"found": 0, "compatible": 0, "exact": 0, "review": 0, "manual": 0}
        for o in self.outcomes:
            if o.use.kind is UseKind.IMPORT:
                continue
            c["found"] += 1
            if o.fix.is_noop:
                c["compatible"] += 1
            elif not o.applied:
                c["manual"] += 1
            elif o.fix.tier is Tier.EXACT:
                c["exact"] += 1
            else:
                c["review"] += 1
        return c


Selector = Callable[[Fix], bool]


def plan(analysis: Analysis, planner: Planner, *, keep_noops: bool = False) -> list[Fix]:
    """A fix (or reason) for every use; no-ops (already valid Paddle) only when asked."""
    text = analysis.source.text
    fixes = [planner.fix(use, text) for use in analysis.uses]
    return fixes if keep_noops else [f for f in fixes if not f.is_noop]


def default_selector(min_confidence: Confidence = Confidence.MEDIUM) -> Selector:
    def select(fix: Fix) -> bool:
        return fix.use.confidence >= min_confidence

    return select


def convert_source(
    text: str,
    planner: Planner,
    *,
    select: Selector | None = None,
    annotate: bool = False,
    refine: Callable[[Analysis], Analysis] | None = None,
    project: ModuleFacts | None = None,
    analysis: Analysis | None = None,
) -> Conversion:
    """Convert every selected use (default: all of at least medium confidence).

    ``project`` is what the project index knows about this module (batch runs); ``refine``
    may raise the confidence of uses before they are chosen (jedi, when asked). ``analysis``
    is ``text``'s analysis when the caller has it already.
    """
    if analysis is None:
        analysis = analyze(text, planner.rules, project=project)
    if refine is not None and analysis.syntax_error is None:
        analysis = refine(analysis)
    if analysis.syntax_error is not None:
        err = analysis.syntax_error
        return Conversion(text, text, [], f"line {err.line}: {err.message}")
    fixes = plan(analysis, planner, keep_noops=True)
    chosen = select or default_selector()
    code, outcomes = _apply(text, fixes, chosen, planner)  # nesting depth < ast's own limit
    if any(o.applied for o in outcomes):
        code = fix_imports(split_scheduler_attachments(code))
    if annotate:
        code = _annotate(code, planner)
    try:
        ast.parse(code)
    except SyntaxError as exc:  # a paddleport bug: never hand out broken code
        for o in outcomes:
            o.applied = False
        return Conversion(text, text, outcomes, f"internal error, file left unchanged: {exc}")
    return Conversion(text, code, outcomes)


def _apply(text: str, fixes: list[Fix], select: Selector,
           planner: Planner) -> tuple[str, list[Outcome]]:  # fmt: skip
    """Apply chosen fixes innermost first; a use whose nested uses changed is recomputed.

    Spans from ``ast`` nest properly, so the uses form a forest; each node's new
    text is its span with its children's new texts spliced in. Linear in the text.
    """
    outcomes = [Outcome(f, False) for f in fixes]
    order = sorted(range(len(fixes)), key=lambda i: (fixes[i].use.start, -fixes[i].use.end))
    children: dict[int, list[int]] = {i: [] for i in order}
    roots: list[int] = []
    stack: list[int] = []
    for i in order:
        use = fixes[i].use
        while stack and fixes[stack[-1]].use.end <= use.start:
            stack.pop()
        (children[stack[-1]] if stack else roots).append(i)
        stack.append(i)

    def render(i: int) -> str:
        fix = fixes[i]
        use = fix.use
        pieces: list[str] = []
        pos = use.start
        changed = False
        for c in children[i]:
            child = fixes[c].use
            new_child = render(c)
            pieces.append(text[pos : child.start])
            pieces.append(new_child)
            changed = changed or new_child != text[child.start : child.end]
            pos = child.end
        pieces.append(text[pos : use.end])
        span = "".join(pieces)
        if fix.is_noop:
            outcomes[i].applied = True
            return span
        if fix.replacement is None or use.kind is UseKind.IMPORT or not select(fix):
            return span
        if changed:  # nested uses changed: recompute this one on its new text
            moved = dataclasses.replace(use, start=0, end=len(span),
                                        focus_start=use.focus_start - use.start,
                                        focus_end=use.focus_end - use.start)  # fmt: skip
            fresh = planner.fix(moved, span)
            outcomes[i].fix = Fix(use, fresh.replacement, fresh.tier, fresh.message)
            if fresh.replacement is None or fresh.is_noop:
                return span
            outcomes[i].applied = True
            return fresh.replacement
        outcomes[i].applied = True
        return fix.replacement

    out: list[str] = []
    pos = 0
    for r in roots:
        use = fixes[r].use
        out.append(text[pos : use.start])
        out.append(render(r))
        pos = use.end
    out.append(text[pos:])
    return "".join(out), outcomes


def _annotate(code: str, planner: Planner) -> str:
    """Add `# paddleport: manual — why` after each statement that keeps an unconverted use.

    Works on the converted text, so whatever is still torch there is exactly
    what needs a human, and annotating twice adds nothing.
    """
    analysis = analyze(code, planner.rules)
    if analysis.syntax_error is not None:
        return code
    tree = ast.parse(code)
    compound = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.While,
                ast.With, ast.Try, ast.AsyncFor, ast.AsyncWith)  # fmt: skip
    stmt_spans = sorted(
        (n.lineno, n.end_lineno or n.lineno)
        for n in ast.walk(tree)
        if isinstance(n, ast.stmt) and not isinstance(n, compound)
    )
    notes: dict[int, str] = {}
    for fix in plan(analysis, planner):
        if fix.use.kind is UseKind.IMPORT or fix.tier is not Tier.MANUAL:
            continue
        line = analysis.source.position(fix.use.focus_start)[0]
        end = max((e for s, e in stmt_spans if s <= line <= e), default=line)
        notes.setdefault(end, _why(fix.message))
    lines = code.split("\n")
    for end_line, why in notes.items():
        i = end_line - 1
        if 0 <= i < len(lines) and ANNOTATION_MARK not in lines[i]:
            lines[i] = f"{lines[i].rstrip()}  {ANNOTATION_MARK} — {why}"
    return "\n".join(lines)


def _why(message: str) -> str:
    return " ".join(message.replace("`", "").split())[:160]
