"""Turn one torch use into its Paddle text, or a reason why not.

Each use is rewritten on its own source span with libcst, so comments and
formatting inside it survive. Results are memoised by span text: while a user
types, almost every call is unchanged and costs a dictionary lookup.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from string import Template

import libcst as cst

from paddleport.analysis.uses import Confidence, Use, UseKind
from paddleport.rewrite import adapters, conventions, dynamic, helpers
from paddleport.rewrite.arguments import (
    AlreadyPaddle,
    Bound,
    Unconvertible,
    bind,
    code_of,
    is_atomic,
    join_arguments,
    map_arguments,
)
from paddleport.rewrite.transforms import TRANSFORMS, TransformInput
from paddleport.rewrite.transforms.vision import helper_name
from paddleport.rules.loader import RuleSet, template_names
from paddleport.rules.model import Kind, Rule, Tier

_CACHE_LIMIT = 20_000
# Nested uses at least this long are stood in for by a placeholder while their parent is
# rewritten, so deep nesting (torch.abs(torch.abs(...)), long method chains) costs linear
# time instead of re-parsing every enclosing span; shorter ones stay inline, where rules
# may read them (value maps, literals).
HOLE_MIN = 80


@dataclass(frozen=True)
class Fix:
    """What becomes of one use: new text for its span, or none and a reason."""

    use: Use
    replacement: str | None  # None: leave the span as it is
    tier: Tier
    message: str
    block: str | None = None  # a class the replacement names that the file may lack (rewrite.adapters)

    @property
    def fixable(self) -> bool:
        return self.replacement is not None and not self.keeps_text

    @property
    def is_noop(self) -> bool:
        """The use is already valid Paddle (e.g. ``x.mean()``): nothing to report."""
        return self.replacement == NOOP

    @property
    def keeps_text(self) -> bool:
        """Converting leaves the text as it is: already Paddle, or the same spelling to review."""
        return self.replacement in (NOOP, KEEP)


# A use whose rewrite would not change its text, under an exact rule whose example proves
# the same behaviour: nothing to report.
NOOP = "\0noop"
# The same spelling under a review rule (`x.copy_(src)`, `x.chunk(2)`): the text stays, but
# Paddle behaves differently in cases the note names, so it is reported for review.
KEEP = "\0keep"


class Planner:
    """Computes fixes for uses, against one rule set, with a memo of past results."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._adapters: dict[str, str | None] = {}  # rule api -> adapter class source
        self._adapter_rules: dict[str, Rule] = {}  # adapter member name -> its rule
        self._memo: dict[tuple[str, str, UseKind, bool, bool, bool, tuple[str, ...], str | None, bool,
                               frozenset[str], str | None, bool, bool],
                         tuple[str | None, Tier, str]] = {}  # fmt: skip

    def adapter(self, rule: Rule) -> str | None:
        """The torch-signature subclass of ``rule``'s Paddle class (see rewrite.adapters), if any."""
        if rule.api not in self._adapters:
            self._adapters[rule.api] = None  # a conversion that asks again while generating gets none
            found = adapters.member_source(rule, self)
            self._adapters[rule.api] = found
            if found is not None:
                self._adapter_rules[adapters.member_name(rule)] = rule
        return self._adapters[rule.api]

    def value_class(self, rule: Rule) -> str | None:
        """What a layer class passed as a value becomes: a Paddle class that takes torch's
        arguments (the one keeping torch's weight layout, else an adapter), or None."""
        if rule.torch_layout and adapters.is_layer(rule):
            return rule.torch_layout  # paddle.compat.nn.Linear: torch's arguments and layout
        if self.adapter(rule) is None:
            return None
        return f"{adapters.LAYERS}.{adapters.member_name(rule)}"

    def adapter_by_name(self, name: str) -> str | None:
        rule = self._adapter_rules.get(name)
        return None if rule is None else self.adapter(rule)

    def fix(self, use: Use, text: str) -> Fix:
        span = text[use.start : use.end]
        key = (span, use.api, use.kind, use.via_alias, use.store, use.via_default, use.splats, use.statement,
               use.keep_layout, use.open_files, use.promote_to, use.promote_runtime,
               use.plain_class)  # fmt: skip
        hit = self._memo.get(key)
        if hit is None:
            hit = self._compute(use, span)
            if len(self._memo) > _CACHE_LIMIT:
                self._memo.clear()
            self._memo[key] = hit
        replacement, tier, message = hit
        if replacement is not None and use.confidence is Confidence.LOW and helpers.dispatches(replacement):
            use = replace(use, confidence=Confidence.MEDIUM)  # right for any receiver
        elif replacement is not None and replacement != NOOP and use.confidence is Confidence.LOW:
            receiver = span[: max(use.focus_start - use.start - 1, 0)].strip() or "the receiver"
            tier = tier.worst(Tier.REVIEW)
            message = f"if `{_short(receiver)}` is a torch.Tensor: {message}"
        block = None
        if replacement and adapters.LAYERS in replacement:
            block = adapters.block_for(replacement, self)
        return Fix(use, replacement, tier, message, block)

    def fix_nested(self, use: Use, span: str, focus: tuple[int, int], holes: list[tuple[int, int]]) -> Fix:
        """The fix of ``use`` whose current text is ``span``, its nested uses at ``holes``.

        ``focus`` and ``holes`` are offsets in ``span``. Long nested uses are replaced by a
        call placeholder (never a name, so no transform takes it as safe to repeat), the
        parent is rewritten, and the nested text is put back; a rewrite that drops or
        repeats a placeholder is done again on the full text.
        """
        big = [h for h in holes if h[1] - h[0] >= HOLE_MIN]
        names = [f"_pp_hole{k}_()" for k in range(len(big))]
        if big and not any(n[:-2] in span for n in names):
            pieces, pos = [], 0
            fs, fe = focus
            for (start, end), name in zip(big, names, strict=True):
                pieces += [span[pos:start], name]
                pos = end
                delta = (end - start) - len(name)
                fs -= delta if end <= focus[0] else 0
                fe -= delta if end <= focus[1] else 0
            holed = "".join([*pieces, span[pos:]])
            fix = self.fix(replace(use, start=0, end=len(holed), focus_start=fs, focus_end=fe), holed)
            new = fix.replacement
            if new is None or new in (NOOP, KEEP) or all(new.count(n) == 1 for n in names):
                message = fix.message
                for (start, end), name in zip(big, names, strict=True):
                    new = None if new is None else new.replace(name, span[start:end], 1)
                    message = message.replace(name, "…")
                return Fix(use, new, fix.tier, message)
        fix = self.fix(replace(use, start=0, end=len(span), focus_start=focus[0], focus_end=focus[1]), span)
        return Fix(use, fix.replacement, fix.tier, fix.message)

    def _compute(self, use: Use, span: str) -> tuple[str | None, Tier, str]:
        rule = use.rule
        if use.kind is UseKind.IMPORT:
            return None, Tier.EXACT, (
                f"`{use.api}` import: replaced by `import paddle` once nothing uses it"
            )
        if use.kind is UseKind.FACTORY_KWARGS:
            return dynamic.factory_kwargs(span)
        if use.kind is UseKind.PROMOTE:
            return promotion(use, span)
        if use.kind is UseKind.INPLACE:
            return inplace_assignment(span)
        if use.kind is UseKind.LOOKUP:
            try:
                return dynamic.lookup(use, span, self.rules)
            except (cst.ParserSyntaxError, RecursionError) as exc:
                return None, Tier.MANUAL, f"`{use.api}` left as is: could not rewrite ({exc})"
        helper_only = rule is not None and rule.paddle is None and rule.transform in _HELPER_CALLS
        if (use.kind is UseKind.ANNOTATION and (rule is None or not rule.converts or helper_only)
                and "'" not in span):  # fmt: skip
            # `fmt: F = 'NCHW'` (a module where a type belongs), `opt: torch.optim.Optimizer`
            # (no Paddle class to name; a helper class is not written into the file for an
            # annotation): an annotation takes no part in what the code computes, so it is
            # written as a string and the import can go.
            what = "a module used as an annotation" if self.rules.is_namespace(use.api) else "an annotation"
            return repr(span), Tier.REVIEW, (
                f"`{use.api}` is {what} with no Paddle counterpart: quoted, so the file no longer "
                "imports it — review: put the Paddle type that is meant")
        if rule is None:
            return None, Tier.MANUAL, (
                f"`{use.api}` has no paddleport rule yet: port it by hand, or add a rule "
                "in a project rule folder (see `paddleport rules show`)"
            )
        if rule.type_check is not None and use.kind is UseKind.TYPE_CHECK and not use.via_alias:
            helper = _helper_for_value(replace(use, kind=UseKind.BASE), rule)
            if helper is not None:  # Paddle's own class and the helper that subclasses of torch's become
                return f"({rule.type_check}, {helper})", Tier.EXACT, (
                    f"{rule.api} → ({rule.type_check}, {helper}) (an isinstance test: Paddle's class, and "
                    "the helper written into the file for torch-style subclasses)")
            return rule.type_check, Tier.EXACT, (
                f"{rule.api} → {rule.type_check} (an isinstance test; subclassing it is a manual port)")
        if not rule.converts:
            return None, Tier.MANUAL, f"`{rule.api}` needs a manual port: {rule.guide}"
        if use.kind is UseKind.CALL and use.via_default and (
                not rule.changes_arguments or self.value_class(rule) is not None):  # fmt: skip
            # the default takes torch's arguments (rewrite.adapters): only `**dd` splats go
            new = _without_splats(span, use.splats) if use.splats else span
            if new == span:
                return NOOP, Tier.EXACT, "called with torch's arguments, which its default takes"
            return new, Tier.EXACT, f"drop {', '.join(use.splats)} (device/dtype)"
        note = rule.note if rule.tier is Tier.REVIEW else None
        try:
            if use.keep_layout and rule.torch_layout and use.kind is UseKind.CALL and not use.via_alias:
                # the code assigns this layer's weight (tying): torch's layout and arguments stay
                new, tier, extra, note = _with_callee(span, rule.torch_layout), Tier.EXACT, None, None
                summary = (f"{rule.api} → {rule.torch_layout} (keeps torch's weight layout: the "
                           "class assigns this layer's weight)")  # fmt: skip
            elif rule.statement is not None and use.statement is not None:
                new, tier, extra, summary = statement_for(use, rule, span), rule.tier, None, rule.summary()
            elif (rule.paddle is None and not rule.writes_code) or (rule.statement is not None and use.store):
                raise Unconvertible(_statement_only(use, rule))
            else:
                new, tier, extra, summary = self._rewrite(use, rule, span)
        except AlreadyPaddle:
            return _unchanged(rule, rule.tier, None)
        except Unconvertible as exc:
            return None, Tier.MANUAL, f"`{rule.api}` left as is: {exc}"
        except (cst.ParserSyntaxError, RecursionError) as exc:
            return None, Tier.MANUAL, f"`{rule.api}` left as is: could not rewrite ({exc})"
        except Exception as exc:  # a bug in a transform costs this use, never the file or the session
            return None, Tier.MANUAL, (
                f"`{rule.api}` left as is: paddleport failed on this use ({type(exc).__name__}: {exc}); "
                "port it by hand and please report it")
        if new == span:
            return _unchanged(rule, tier, extra)
        message = summary
        if note:
            message += f" — review: {note}"
        if extra:
            message += f" — review: {extra}"
        return new, tier, message

    def _rewrite(self, use: Use, rule: Rule, span: str) -> tuple[str, Tier, str | None, str]:
        """New text, tier, an extra review note, and the summary of what this use gets."""
        tier = rule.tier
        kind = use.kind
        if kind is UseKind.INHERITED_INIT:
            return self._inherited_init(use, rule, span)
        if kind in (UseKind.CALL, UseKind.METHOD_CALL):
            code, summary, review_dropped, call_notes = self._rewrite_call(use, rule, span)
            if review_dropped or call_notes:  # an argument Paddle cannot take went: a human decides
                dropped_notes = [f"`{name}` dropped: {rule.drop_review.get(name, _STAR_SPLAT)}"
                                 for name in review_dropped]  # fmt: skip
                notes = "; ".join([*dropped_notes, *call_notes])
                return code, tier.worst(Tier.REVIEW), notes, summary
            if use.via_default:
                callee = span.split("(", 1)[0].strip()
                note = (f"`{callee}` defaults to {rule.api}, so its arguments are mapped for that "
                        "class; a different class passed in may need others")  # fmt: skip
                return code, tier.worst(Tier.REVIEW), note, summary
            return code, tier, None, summary
        if kind is UseKind.ATTRIBUTE and rule.transform and rule.writes_code and not use.store:
            node = cst.parse_expression(span)  # `InterpolationMode.BILINEAR` → `'bilinear'`
            new = code_of(TRANSFORMS[rule.transform](TransformInput(node, node, Bound(), rule)))
            return new, tier, None, rule.summary(used=())
        helper = _helper_for_value(use, rule)
        if helper is not None:  # `ds_class = CIFAR10`, `class C(CIFAR10)`: the helper takes torch's arguments
            return helper, tier, None, f"{rule.api} → {helper}"
        if rule.paddle is None and not (rule.formula and use.kind is UseKind.TENSOR_ATTRIBUTE):
            raise Unconvertible("only a call converts: its Paddle code is written from the call")
        new, tier, extra = self._rewrite_name(use, rule, span)
        return new, tier, extra, rule.summary(used=())

    def _inherited_init(self, use: Use, rule: Rule, span: str) -> tuple[str, Tier, str | None, str]:
        """The first statement of a subclass body with the ``__init__`` torch's base implies: its
        callers pass torch's arguments through, mapped as ``super().__init__(*args, **kwargs)`` is."""
        assert use.statement is not None
        call = "super().__init__(*args, **kwargs)"
        as_call = replace(use, kind=UseKind.CALL, via_alias=True, start=0, end=len(call), statement=None)
        mapped, tier, extra, summary = self._rewrite(as_call, rule, call)
        if mapped == call:
            raise AlreadyPaddle
        indent = use.statement
        init = (f"def __init__(self, *args, **kwargs):  # what torch's {rule.api.rsplit('.', 1)[-1]} "
                f"constructor implies\n{indent}    {mapped}")  # fmt: skip
        try:
            docstring = ast.get_docstring(ast.parse(span.strip()), clean=False) is not None
        except SyntaxError:  # an indented block out of its class: a method, not a docstring
            docstring = False
        new = f"{span}\n\n{indent}{init}\n" if docstring else f"{init}\n\n{indent}{span}"
        return new, tier, extra, f"{rule.api}'s constructor, inherited: {summary}"

    def _rewrite_name(self, use: Use, rule: Rule, span: str) -> tuple[str, Tier, str | None]:
        tier = rule.tier
        kind = use.kind
        if kind is UseKind.TENSOR_ATTRIBUTE:
            if rule.transform:
                statement: cst.BaseStatement | None = None
                try:
                    original: cst.BaseExpression = cst.parse_expression(span)
                except cst.ParserSyntaxError:  # a use that spans a statement: `g['lr'] = v`
                    statement = cst.parse_statement(span)
                    original = cst.Name("_")
                if use.store and statement is None:
                    raise Unconvertible(
                        f"assigning to `.{rule.api.rsplit('.', 1)[-1]}` needs a hand edit: "
                        f"{rule.note or rule.summary()}"
                    )
                out = TRANSFORMS[rule.transform](
                    TransformInput(original, original, Bound(), rule, statement))
                return code_of(out), tier, None
            attr = rule.api.rsplit(".", 1)[-1]
            return span[: len(span) - len(attr)] + (rule.short_paddle or attr), tier, None
        if use.via_alias:
            return span, tier, None  # the alias's own assignment carries the rename
        if kind is UseKind.BASE and use.keep_layout and rule.torch_layout:
            return rule.torch_layout, Tier.EXACT, None  # the subclass reads its weight in torch's layout
        extra = None
        if kind is UseKind.TYPE_CHECK and rule.torch_layout:
            # a tied layer became the class that keeps torch's layout: isinstance tests take both
            return f"({rule.paddle}, {rule.torch_layout})", tier, None
        if (kind is UseKind.REFERENCE and rule.kind is Kind.CALLABLE and rule.changes_arguments
                and not use.plain_class and (value := self.value_class(rule)) is not None):  # fmt: skip
            return value, tier, None
        if kind is UseKind.REFERENCE and rule.kind is Kind.CALLABLE and rule.changes_arguments:
            tier = tier.worst(Tier.REVIEW)
            extra = (
                "passed as a value, so calls made elsewhere still use torch's arguments "
                f"({rule.summary()}); check them"
            )
        if rule.paddle is None:
            raise Unconvertible("only a call converts: its Paddle code is written from the call")
        return rule.paddle, tier, extra

    def _rewrite_call(self, use: Use, rule: Rule, span: str) -> tuple[str, str, list[str], list[str]]:
        """The call's new text, a summary naming only the changes this call gets, the
        ``drop_review`` arguments it passed, and its transform's review notes."""
        try:
            node = cst.parse_expression(span)
            wrapped = False
        except cst.ParserSyntaxError:
            # a call split over lines inside outer brackets: `(x\n .reshape(2, 3))`
            node = cst.parse_expression(f"({span})")
            wrapped = True
        if wrapped:
            node = node.with_changes(lpar=[], rpar=[])
        if not isinstance(node, cst.Call):
            raise Unconvertible("not a plain call")
        dropped = ""
        if use.splats:  # `**dd` of a device/dtype dict: emptied where it is built, so dropped here
            kept = [a for a in node.args if not (a.star in ("*", "**") and isinstance(a.value, cst.Name)
                                                 and _splat_name(a) in use.splats)]  # fmt: skip
            if len(kept) < len(node.args):
                dropped = ", ".join(n if n.startswith("*") else f"**{n}" for n in use.splats)
                node = node.with_changes(args=join_arguments(node.args, kept))
        try:
            prepared = conventions.prepare(node, rule, use.kind is UseKind.METHOD_CALL)
            node = prepared.call
            bound = bind(node, rule)
        except AlreadyPaddle:
            if use.kind is UseKind.METHOD_CALL or use.via_alias or rule.paddle is None:
                raise
            # `torch.sum(x, axis=1)`: the arguments are Paddle's already, the name is not
            new = code_of(node.with_changes(func=cst.parse_expression(rule.paddle)))
            return new, _with_dropped(rule.summary(used=()), dropped), [], []
        opened = _opened_file(use, rule, bound)
        if opened is not None:  # `with open(p) as f: torch.save(x, f)`: Paddle takes p, which is f.name
            arg = bound.by_name[opened]
            path = cst.Attribute(value=arg.value, attr=cst.Name("name"))
            node = node.with_changes(args=[a.with_changes(value=path) if a is arg else a for a in node.args])
            bound = bind(node, rule)
        review_dropped = [name for name in rule.drop_review if name in bound.by_name]
        review_dropped += [name for name in use.splats if name.startswith("*")]
        args = join_arguments(node.args, map_arguments(node, rule, bound))
        if use.kind is UseKind.METHOD_CALL and rule.paddle is not None:
            assert isinstance(node.func, cst.Attribute)
            func: cst.BaseExpression = node.func.with_changes(attr=cst.Name(rule.short_paddle or ""))
        elif use.via_alias or rule.paddle is None:  # its transform writes the whole call
            func = node.func
        else:
            func = cst.parse_expression(rule.paddle)
        mapped = node.with_changes(func=func, args=args)
        summary = rule.summary(used=set(bound.by_name), packed=len(bound.var_positional) > 0)
        summary = _with_dropped(summary, dropped)
        if opened is not None:
            summary += " (the file opened by `with open(...)` → its path, `.name`: Paddle takes no file)"
        plain = code_of(mapped)
        notes: list[str] = []
        if rule.transform:
            given = TransformInput(node, mapped, bound, rule)
            transformed = code_of(TRANSFORMS[rule.transform](given))
            if transformed != plain:  # name what the transform did, e.g. "batchnorm momentum"
                summary = _with_detail(summary, rule.transform.replace("_", " "))
            plain = transformed
            notes = given.notes
        if rule.index_flag is not None and (flag := bound.value(rule.index_flag)) is not None:
            if not isinstance(flag, cst.Name) or flag.value not in ("True", "False"):
                raise Unconvertible(
                    f"`{rule.index_flag}={code_of(flag)}` is not a literal: Paddle's indices are int32 where "
                    "torch's are int64, and only a literal says whether to cast them")
            if flag.value == "True":  # torch returns int64 indices, Paddle int32
                plain = f"(lambda _r: (_r[0], _r[1].astype('int64')))({plain})"
                summary = _with_detail(summary, "indices cast to int64")
        if prepared.legacy is not None:
            summary = _with_detail(summary, f"size_average/reduce → reduction='{prepared.legacy}'")
        if prepared.removed:
            summary = _with_detail(summary, "drop " + ", ".join(prepared.removed) + " (torch's default)")
        if prepared.out is not None:
            plain = conventions.assign_to(plain, prepared.out)
            summary = _with_detail(summary, "out= → paddle.assign")
        return plain, summary, review_dropped, notes


def _with_detail(summary: str, detail: str) -> str:
    """The summary with one more change named in its parentheses."""
    return f"{summary[:-1]}, {detail})" if summary.endswith(")") else f"{summary} ({detail})"


def _unchanged(rule: Rule, tier: Tier, extra: str | None) -> tuple[str, Tier, str]:
    """A use whose text stays: silent only when an exact rule's example proves the behaviour."""
    if tier is Tier.EXACT and extra is None:
        return NOOP, Tier.EXACT, "already valid Paddle"
    notes = [n for n in (rule.note, extra) if n]
    return KEEP, tier.worst(Tier.REVIEW), (
        f"{rule.api}: stays as written (the same spelling in Paddle) — review: " + "; ".join(notes)
    )


_STAR_SPLAT = ("it spread a device/dtype dict's keys ('device', 'dtype') as positional arguments, "
               "which torch takes as the next parameters: `**` was probably meant")


def _without_splats(span: str, splats: tuple[str, ...]) -> str:
    """The call ``span`` without its ``**dd`` arguments of device/dtype dicts."""
    try:
        node = cst.parse_expression(span)
    except cst.ParserSyntaxError:
        return span
    if not isinstance(node, cst.Call):
        return span
    kept = [a for a in node.args if not (a.star in ("*", "**") and isinstance(a.value, cst.Name)
                                         and _splat_name(a) in splats)]  # fmt: skip
    if len(kept) == len(node.args):
        return span
    return code_of(node.with_changes(args=join_arguments(node.args, kept)))


def _splat_name(arg: cst.Arg) -> str:
    """``dd`` for ``**dd``, ``*dd`` for ``*dd`` (how the analysis names a splatted factory dict)."""
    assert isinstance(arg.value, cst.Name)
    return arg.value.value if arg.star == "**" else "*" + arg.value.value


def _with_dropped(summary: str, dropped: str) -> str:
    """Name the device/dtype dict splats a call lost in its summary."""
    if not dropped:
        return summary
    note = f"drop {dropped} (device/dtype)"
    return f"{summary[:-1]}, {note})" if summary.endswith(")") else f"{summary} ({note})"


def _opened_file(use: Use, rule: Rule, bound: Bound) -> str | None:
    """The rule's file parameter when the call passes it a file from an enclosing ``with open(...)``."""
    if not use.open_files or rule.file_arg is None:
        return None
    value = bound.value(rule.file_arg)
    return rule.file_arg if isinstance(value, cst.Name) and value.value in use.open_files else None


def _with_callee(span: str, callee: str) -> str:
    """The call in ``span`` with only its callee replaced."""
    node = cst.parse_expression(span)
    if not isinstance(node, cst.Call):
        raise Unconvertible("not a plain call")
    return code_of(node.with_changes(func=cst.parse_expression(callee)))


def _statement_only(use: Use, rule: Rule) -> str:
    """Why a rule that rewrites whole statements cannot rewrite this use."""
    what = (f"an assignment `{rule.api} = ...`" if rule.kind is Kind.ATTRIBUTE
            else f"a call `{rule.api}(...)` standing as a statement")  # fmt: skip
    where = "" if use.store or use.kind is UseKind.CALL else "; reading it has no Paddle counterpart"
    return (f"Paddle has no expression for it: only {what} on a line of its own converts "
            f"(to `{rule.statement_code}`){where}")


def statement_for(use: Use, rule: Rule, span: str) -> str:
    """The rule's statement template filled from the statement ``span`` and indented like it."""
    assert rule.statement is not None and use.statement is not None
    module = cst.parse_module(span)
    line = module.body[0] if len(module.body) == 1 else None
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
        raise Unconvertible("not a single statement")
    node = line.body[0]
    given: dict[str, cst.BaseExpression] = {}
    defaults: dict[str, str] = {}
    if isinstance(node, cst.Assign):
        given["value"] = node.value
    elif isinstance(node, cst.Expr) and isinstance(node.value, cst.Call):
        bound = bind(node.value, rule)
        if bound.extra_keywords or bound.var_positional or bound.passthrough_star:
            raise Unconvertible("*args, **kwargs or unknown keywords cannot be placed in the statement")
        given = {name: arg.value for name, arg in bound.by_name.items()}
        if rule.signature is not None:
            defaults = {p.name: p.default for p in rule.signature.params if p.default is not None}
    else:
        raise Unconvertible("not an assignment or a call statement")
    used = template_names(rule.statement)
    values: dict[str, str] = {}
    for name, value in given.items():
        text = code_of(value)
        if name not in used:
            if any(isinstance(n, ast.Call) for n in ast.walk(ast.parse(text.strip(), mode="eval"))):
                raise Unconvertible(f"Paddle needs no `{name}` here, but its value calls a function "
                                    "that would no longer run: compute it in a statement of its own")
            continue
        values[name] = text if is_atomic(value) else f"({text})"
    for name in used - values.keys():
        if name not in defaults:
            raise Unconvertible(f"missing argument `{name}`")
        values[name] = defaults[name]
    lines = Template(rule.statement.strip("\n")).substitute(values).split("\n")
    return "\n".join([lines[0], *(use.statement + ln if ln.strip() else ln for ln in lines[1:])])


def promotion(use: Use, span: str) -> tuple[str | None, Tier, str]:
    """The operand torch promotes to a floating dtype, cast to it (Paddle refuses to mix kinds).

    Known to be an integer or bool tensor: ``b.astype(<dtype>)``. Of unknown dtype:
    ``_paddleport_vision.promote(x, <dtype>)``, which casts only an integer or bool tensor and
    returns anything else unchanged. Either way the result is torch's: the integer operand
    becomes the floating operand's dtype before the operation.
    """
    assert use.promote_to is not None
    try:
        node = cst.parse_expression(span)
    except cst.ParserSyntaxError:
        node = cst.parse_expression(f"({span})")
    target = use.promote_to
    short = _short(span)
    if use.promote_runtime:
        new = f"{helpers.VISION}.promote({span}, {target})"
        return new, Tier.EXACT, (
            f"`{short}` meets a floating tensor: torch casts an integer or bool tensor to `{target}` there, "
            f"Paddle raises — `{helpers.VISION}.promote` does torch's cast at run time (anything else "
            "passes unchanged)")  # fmt: skip
    operand = span if is_atomic(node) else f"({span})"
    return f"{operand}.astype({target})", Tier.EXACT, (
        f"`{short}` is an integer tensor meeting a floating one: torch promotes it to `{target}`, "
        "Paddle raises — cast as torch does")


_AUG_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def inplace_assignment(span: str) -> tuple[str | None, Tier, str]:
    """``step_t += 1`` → ``paddle.assign(step_t + 1, step_t)``: written into the same tensor, as torch's
    ``+=`` does, so the list holding it sees the new value (Paddle's ``+=`` binds a new tensor)."""
    try:
        node = ast.parse(span.strip()).body[0]
    except (SyntaxError, IndexError, RecursionError):
        return None, Tier.MANUAL, "an in-place `op=` could not be read"
    if (not isinstance(node, ast.AugAssign) or not isinstance(node.target, ast.Name)
            or type(node.op) not in _AUG_OPS):  # fmt: skip
        return None, Tier.MANUAL, "an in-place `op=` could not be read"
    name = node.target.id
    value = ast.get_source_segment(span.strip(), node.value) or ast.unparse(node.value)
    operand = value if isinstance(node.value, (ast.Name, ast.Attribute, ast.Constant)) else f"({value})"
    op = _AUG_OPS[type(node.op)]
    return f"paddle.assign({name} {op} {operand}, {name})", Tier.EXACT, (
        f"`{name} {op}= ...` on an item of a list of tensors: torch writes it in place, so the list sees "
        f"the new value; Paddle's `{op}=` binds a new tensor to `{name}` — written into the same tensor "
        "with paddle.assign")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


# transforms that call a `_paddleport_vision` member taking torchvision's own arguments
_HELPER_CALLS = frozenset({"vision_helper", "vision_dataset"})
# transforms of rules with a Paddle class whose uses as a value or a base take a helper subclass of
# it with torch's signature (`loader_class = DataLoader; loader_class(ds, pin_memory=True)`)
_VALUE_HELPERS = {"data_loader": "DataLoader"}


_VALUE_KINDS = (UseKind.REFERENCE, UseKind.BASE, UseKind.TYPE_CHECK)


def _helper_for_value(use: Use, rule: Rule) -> str | None:
    """The helper a torchvision callable used as a value (passed, stored, subclassed, tested with
    isinstance) becomes: right only when its calls keep torchvision's arguments unchanged."""
    if use.kind not in _VALUE_KINDS or use.via_alias:
        return None
    if rule.transform in _VALUE_HELPERS:  # isinstance tests keep the Paddle class the helper subclasses
        helper = _VALUE_HELPERS[rule.transform]
        return None if use.kind is UseKind.TYPE_CHECK else f"{helpers.VISION}.{helper}"
    if rule.transform not in _HELPER_CALLS or rule.paddle is not None:
        return None
    if (rule.rename or rule.drop or rule.drop_review or rule.pack or rule.values or rule.defaults
            or rule.keywords_after is not None):  # fmt: skip
        return None
    name = helper_name(rule.api)
    return f"{helpers.VISION}.{name}" if name in helpers.MEMBERS else None
