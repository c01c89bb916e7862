"""Convert a whole source text, a range of it, or chosen uses.

Uses are rewritten innermost-first, right to left, so each rewrite sees its
nested uses already converted and no offset goes stale. The result must parse;
if a bug ever made it not parse, the original text is returned with an error
rather than broken code.
"""

from __future__ import annotations

import ast
import bisect
import difflib
import io
import tokenize
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from paddleport.analysis.finder import Analysis, analyze
from paddleport.analysis.project import ModuleFacts
from paddleport.analysis.source import SourceText, split_lines, split_lines_keepends
from paddleport.analysis.uses import Confidence, Use, UseKind
from paddleport.rewrite.adapters import add_adapters
from paddleport.rewrite.dynamic import add_namespaces, namespace_name
from paddleport.rewrite.fixes import HOLE_MIN, Fix, Planner
from paddleport.rewrite.helpers import add_helpers
from paddleport.rewrite.imports import fix_imports, rename_modules
from paddleport.rewrite.statements import split_scheduler_attachments
from paddleport.rules.model import Tier

ANNOTATION_MARK = "# paddleport: manual"
REVIEW_MARK = "# paddleport: review"


@dataclass
class Outcome:
    """What happened to one use during a conversion."""

    fix: Fix
    applied: bool
    at: tuple[int, int] | None = None  # (1-based line, 0-based column) in the converted code

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
        c = {"found": 0, "compatible": 0, "exact": 0, "review": 0, "manual": 0, "torchvision": 0}
        for o in self.outcomes:
            if o.use.kind is UseKind.IMPORT:
                continue
            c["found"] += 1
            c["torchvision"] += o.use.api.startswith("torchvision.")  # found like torch uses, also told apart
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


@dataclass(frozen=True)
class UseCounts:
    """The one definition of the numbers the CLI, the status bar and the tooltip show.

    ``uses``: reported torch uses (imports and uses already valid in Paddle not counted);
    ``convertible``: what Convert File / ``paddleport convert`` rewrites (confident fixes);
    ``on_save``: what fix-all on save rewrites (exact fixes only, see ``exact_fix``).
    """

    uses: int = 0
    convertible: int = 0
    on_save: int = 0

    def __add__(self, other: UseCounts) -> UseCounts:
        return UseCounts(self.uses + other.uses, self.convertible + other.convertible,
                         self.on_save + other.on_save)  # fmt: skip


def exact_fix(fix: Fix) -> bool:
    """What fix-all (on save) applies: exact rewrites of uses that are surely torch."""
    return fix.fixable and fix.tier is Tier.EXACT and fix.use.confidence >= Confidence.MEDIUM


def count_uses(fixes: Iterable[Fix]) -> UseCounts:
    uses = convertible = on_save = 0
    for fix in fixes:
        if fix.is_noop or fix.use.kind is UseKind.IMPORT:
            continue
        uses += 1
        convertible += fix.fixable and fix.use.confidence >= Confidence.MEDIUM
        on_save += exact_fix(fix)
    return UseCounts(uses, convertible, on_save)


def plan(analysis: Analysis, planner: Planner, *, keep_noops: bool = False) -> list[Fix]:
    """A fix (or reason) for every use; no-ops (already valid Paddle) only when asked."""
    return plan_uses(analysis.uses, analysis.source.text, planner, keep_noops=keep_noops)


def plan_uses(uses: list[Use], text: str, planner: Planner, *, keep_noops: bool = False) -> list[Fix]:
    """``plan`` for some of a text's uses (sorted, with every use nested in them)."""
    children, _ = forest(uses)
    fixes = []
    for i, use in enumerate(uses):
        nested = children[i]
        if nested and any(uses[c].end - uses[c].start >= HOLE_MIN for c in nested):
            holes = [(uses[c].start - use.start, uses[c].end - use.start) for c in nested]
            focus = (use.focus_start - use.start, use.focus_end - use.start)
            fixes.append(planner.fix_nested(use, text[use.start : use.end], focus, holes))
        else:
            fixes.append(planner.fix(use, text))
    return fixes if keep_noops else [f for f in fixes if not f.is_noop]


def forest(uses: list[Use]) -> tuple[list[list[int]], list[int]]:
    """Each use's directly nested uses, and the outermost ones (spans from ``ast`` nest properly)."""
    order = sorted(range(len(uses)), key=lambda i: (uses[i].start, -uses[i].end))
    children: list[list[int]] = [[] for _ in uses]
    roots: list[int] = []
    stack: list[int] = []
    for i in order:
        while stack and uses[stack[-1]].end <= uses[i].start:
            stack.pop()
        (children[stack[-1]] if stack else roots).append(i)
        stack.append(i)
    return children, roots


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
    code, outcomes, offsets = _apply(text, fixes, chosen, planner)  # nesting depth < ast's own limit
    rewritten = code
    # A whole-file conversion also drops torch imports nothing uses (any more, or ever): the
    # converted program must not import torch for nothing. Chosen fixes only touch imports they free.
    has_import = select is None and any(o.use.kind is UseKind.IMPORT for o in outcomes)
    if has_import or any(o.applied for o in outcomes):
        code = split_scheduler_attachments(code)
        code = add_namespaces(code, _namespaces(outcomes), planner.rules)
        code = add_helpers(code)
        code = add_adapters(code, planner)
        for _ in range(3):  # dropping one import can free another (`try: from torch.hub import x`)
            fixed = fix_imports(code)
            if fixed == code:
                break
            code = fixed
    if select is None and planner.rules.modules:
        code = rename_modules(code, planner.rules.modules)
    _locate(outcomes, offsets, rewritten, code)
    if annotate:
        code = _annotate(code, planner, outcomes)
    try:
        ast.parse(code)
    except SyntaxError as exc:  # a paddleport bug: never hand out broken code
        original = SourceText(text)
        for o in outcomes:
            o.applied = False
            o.at = original.position(o.use.focus_start)
        return Conversion(text, text, outcomes, f"internal error, file left unchanged: {exc}")
    return Conversion(text, code, outcomes)


def _locate(outcomes: list[Outcome], offsets: list[int], rewritten: str, final: str) -> None:
    """Give each outcome its place in the final code, so reports point where the user looks.

    ``offsets`` are positions in the text right after the per-use rewrites; the
    import and statement tidying after that only adds, drops or splits whole
    lines, so a line alignment carries the positions over.
    """
    if not outcomes:
        return
    src = SourceText(rewritten)
    line_of = _line_map(rewritten, final) if final != rewritten else None
    for o, offset in zip(outcomes, offsets, strict=True):
        line, col = src.position(offset)
        o.at = (line_of(line) if line_of else line, col)


def _line_map(a: str, b: str) -> Callable[[int], int]:
    """Map 1-based lines of ``a`` to the lines of ``b`` they became (nearest for changed ones)."""
    la, lb = split_lines(a), split_lines(b)
    head = 0
    while head < min(len(la), len(lb)) and la[head] == lb[head]:
        head += 1
    tail = 0
    while tail < min(len(la), len(lb)) - head and la[-1 - tail] == lb[-1 - tail]:
        tail += 1
    mid_a, mid_b = la[head : len(la) - tail], lb[head : len(lb) - tail]
    matcher = difflib.SequenceMatcher(None, mid_a, mid_b)  # autojunk: frequent lines cannot go quadratic
    blocks = matcher.get_opcodes() if mid_a and mid_b else []
    starts = [a1 for _, a1, _, _, _ in blocks]

    def line_of(line: int) -> int:
        i = line - 1
        if i < head:
            return line
        if i >= len(la) - tail:
            return line + len(lb) - len(la)
        k = i - head
        n = bisect.bisect_right(starts, k) - 1
        if n >= 0 and blocks[n][1] <= k < blocks[n][2]:
            _, a1, _, b1, b2 = blocks[n]
            return head + b1 + min(k - a1, max(b2 - b1 - 1, 0)) + 1
        return head + 1  # its lines were all dropped: the line that follows them
    return line_of


def _namespaces(outcomes: list[Outcome]) -> set[str]:
    """The torch modules whose generated name maps the applied runtime lookups refer to."""
    return {o.use.api for o in outcomes
            if o.applied and o.use.kind is UseKind.LOOKUP and o.fix.replacement
            and namespace_name(o.use.api) in o.fix.replacement}  # fmt: skip


def _apply(text: str, fixes: list[Fix], select: Selector,
           planner: Planner) -> tuple[str, list[Outcome], list[int]]:  # fmt: skip
    """Apply chosen fixes innermost first; a use whose nested uses changed is recomputed.

    Spans from ``ast`` nest properly, so the uses form a forest; each node's new
    text is its span with its children's new texts spliced in. Linear in the text.
    Also returns each use's focus offset in the new text (a rewritten use: where it starts).
    """
    outcomes = [Outcome(f, False) for f in fixes]
    children, roots = forest([f.use for f in fixes])
    rel = [0] * len(fixes)  # start in the parent's new text (a root: in the new text)
    focus_at = [f.use.focus_start - f.use.start for f in fixes]  # focus offset in its own new text

    def replaced(i: int, new: str, rendered: dict[int, str]) -> str:
        """``i`` became ``new``: its nested uses move to where their text is in it (else its start)."""
        focus_at[i] = 0
        for c in children[i]:
            found = new.find(rendered[c]) if rendered[c] else -1
            rel[c] = max(found, 0)
            if found < 0 and rendered[c] and not outcomes[c].applied:
                # `resnet18(weights=ResNet18_Weights.DEFAULT)` → `...(pretrained=True)`: the nested
                # use's text went with its parent's conversion, so it shares that outcome
                parent = outcomes[i].fix
                outcomes[c].fix = replace(outcomes[c].fix, replacement="", tier=parent.tier,
                                          message=f"converted with `{parent.use.api}`: {parent.message}")
                outcomes[c].applied = True
        return new

    def render(i: int) -> str:
        fix = fixes[i]
        use = fix.use
        pieces: list[str] = []
        rendered: dict[int, str] = {}
        pos = use.start
        changed = False
        holes: list[tuple[int, int]] = []  # where the nested uses' new texts sit in the new span
        length = 0
        focus_shift = [0, 0]
        for c in children[i]:
            child = fixes[c].use
            new_child = rendered[c] = render(c)
            pieces.append(text[pos : child.start])
            length += child.start - pos
            pieces.append(new_child)
            rel[c] = length
            holes.append((length, length + len(new_child)))
            length += len(new_child)
            delta = len(new_child) - (child.end - child.start)
            focus_shift[0] += delta if child.end <= use.focus_start else 0
            focus_shift[1] += delta if child.end <= use.focus_end else 0
            changed = changed or new_child != text[child.start : child.end]
            pos = child.end
        pieces.append(text[pos : use.end])
        span = "".join(pieces)
        focus_at[i] += focus_shift[0]
        if fix.keeps_text:
            outcomes[i].applied = True
            return span
        if fix.replacement is None or use.kind is UseKind.IMPORT or not select(fix):
            return span
        if changed:  # nested uses changed: recompute this one on its new text
            focus = (use.focus_start - use.start + focus_shift[0], use.focus_end - use.start + focus_shift[1])
            fresh = planner.fix_nested(use, span, focus, holes)
            outcomes[i].fix = fresh
            if fresh.replacement is None or fresh.keeps_text:
                outcomes[i].applied = fresh.keeps_text
                return span
            outcomes[i].applied = True
            return replaced(i, fresh.replacement, rendered)
        outcomes[i].applied = True
        return replaced(i, fix.replacement, rendered)

    out: list[str] = []
    pos = 0
    length = 0
    for r in roots:
        use = fixes[r].use
        out.append(text[pos : use.start])
        length += use.start - pos
        out.append(render(r))
        rel[r] = length
        length += len(out[-1])
        pos = use.end
    out.append(text[pos:])
    at = list(rel)  # parents before children: each start becomes absolute
    todo = list(roots)
    while todo:
        i = todo.pop()
        for c in children[i]:
            at[c] += at[i]
            todo.append(c)
    return "".join(out), outcomes, [a + f for a, f in zip(at, focus_at, strict=True)]


def _annotate(code: str, planner: Planner, outcomes: Sequence[Outcome] = ()) -> str:
    """Mark each statement that keeps an unconverted use, or holds a conversion to review.

    `# paddleport: manual — why` comes from the converted text, so whatever is
    still torch there is exactly what needs a human; `# paddleport: review — why`
    from this conversion's review outcomes. A line gets one mark, and a marked
    line is never marked again, so annotating twice adds nothing.
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

    def statement_end(line: int) -> int:
        return max((e for s, e in stmt_spans if s <= line <= e), default=line)

    notes: dict[int, tuple[str, list[str]]] = {}  # statement end line -> mark, reasons

    def note(line: int, mark: str, fix: Fix) -> None:
        kind, reasons = notes.setdefault(statement_end(line), (mark, []))
        if kind == mark:
            reasons.append(fix.use.api if reasons else _why(fix.message))

    for fix in plan(analysis, planner):
        if fix.use.kind is not UseKind.IMPORT and fix.tier is Tier.MANUAL:
            note(analysis.source.position(fix.use.focus_start)[0], ANNOTATION_MARK, fix)
    for o in outcomes:
        if o.applied and o.at is not None and o.fix.tier is Tier.REVIEW and not o.fix.is_noop:
            note(o.at[0], REVIEW_MARK, o.fix)
    lines = split_lines_keepends(code)
    unsafe = _lines_without_room(code) if notes else set()
    for end_line, (mark, reasons) in notes.items():
        i = end_line - 1
        if end_line in unsafe:
            continue
        if 0 <= i < len(lines) and ANNOTATION_MARK not in lines[i] and REVIEW_MARK not in lines[i]:
            more = f" (also {', '.join(dict.fromkeys(reasons[1:]))})" if len(reasons) > 1 else ""
            body = lines[i].rstrip("\r\n")
            lines[i] = f"{body.rstrip()}  {mark} — {reasons[0]}{more}{lines[i][len(body):]}"
    return "".join(lines)


def _lines_without_room(code: str) -> set[int]:
    """Lines where a trailing comment would land inside a string or after a backslash continuation."""
    unsafe = {n for n, line in enumerate(split_lines(code), 1) if line.rstrip().endswith("\\")}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.start[0] < tok.end[0] and tok.type != tokenize.NL:
                unsafe.update(range(tok.start[0], tok.end[0]))
    except (tokenize.TokenError, SyntaxError):
        pass
    return unsafe


def _why(message: str) -> str:
    return " ".join(message.replace("`", "").split())[:160]
