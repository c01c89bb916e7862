"""Turn one torch use into its Paddle text, or a reason why not.

Each use is rewritten on its own source span with libcst, so comments and
formatting inside it survive. Results are memoised by span text: while a user
types, almost every call is unchanged and costs a dictionary lookup.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from paddleport.analysis.uses import Confidence, Use, UseKind
from paddleport.rewrite.arguments import (
    AlreadyPaddle,
    Bound,
    Unconvertible,
    bind,
    code_of,
    join_arguments,
    map_arguments,
)
from paddleport.rewrite.transforms import TRANSFORMS, TransformInput
from paddleport.rules.loader import RuleSet
from paddleport.rules.model import Kind, Rule, Tier

_CACHE_LIMIT = 20_000


@dataclass(frozen=True)
class Fix:
    """What becomes of one use: new text for its span, or none and a reason."""

    use: Use
    replacement: str | None  # None: leave the span as it is
    tier: Tier
    message: str

    @property
    def fixable(self) -> bool:
        return self.replacement is not None and not self.is_noop

    @property
    def is_noop(self) -> bool:
        """The use is already valid Paddle (e.g. ``x.mean()``): nothing to report."""
        return self.replacement == NOOP


NOOP = "\0noop"  # marks a use whose rewrite would not change its text


class Planner:
    """Computes fixes for uses, against one rule set, with a memo of past results."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._memo: dict[tuple[str, str, UseKind, bool, bool, bool], tuple[str | None, Tier, str]] = {}

    def fix(self, use: Use, text: str) -> Fix:
        span = text[use.start : use.end]
        key = (span, use.api, use.kind, use.via_alias, use.store, use.via_default)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._compute(use, span)
            if len(self._memo) > _CACHE_LIMIT:
                self._memo.clear()
            self._memo[key] = hit
        replacement, tier, message = hit
        if replacement is not None and replacement != NOOP and use.confidence is Confidence.LOW:
            receiver = span[: max(use.focus_start - use.start - 1, 0)].strip() or "the receiver"
            tier = tier.worst(Tier.REVIEW)
            message = f"if `{_short(receiver)}` is a torch.Tensor: {message}"
        return Fix(use, replacement, tier, message)

    def _compute(self, use: Use, span: str) -> tuple[str | None, Tier, str]:
        rule = use.rule
        if use.kind is UseKind.IMPORT:
            return None, Tier.EXACT, (
                f"`{use.api}` import: replaced by `import paddle` once nothing uses it"
            )
        if rule is None:
            return None, Tier.MANUAL, (
                f"`{use.api}` has no paddleport rule yet: port it by hand, or add a rule "
                "in a project rule folder (see `paddleport rules show`)"
            )
        if rule.tier is Tier.MANUAL or rule.paddle is None:
            return None, Tier.MANUAL, f"`{rule.api}` needs a manual port: {rule.guide}"
        try:
            new, tier, extra, summary = self._rewrite(use, rule, span)
        except AlreadyPaddle:
            return NOOP, Tier.EXACT, "already valid Paddle"
        except Unconvertible as exc:
            return None, Tier.MANUAL, f"`{rule.api}` left as is: {exc}"
        except (cst.ParserSyntaxError, RecursionError) as exc:
            return None, Tier.MANUAL, f"`{rule.api}` left as is: could not rewrite ({exc})"
        if new == span:
            return NOOP, Tier.EXACT, "already valid Paddle"
        message = summary
        if rule.tier is Tier.REVIEW and rule.note:
            message += f" — review: {rule.note}"
        if extra:
            message += f" — review: {extra}"
        return new, tier, message

    def _rewrite(self, use: Use, rule: Rule, span: str) -> tuple[str, Tier, str | None, str]:
        """New text, tier, an extra review note, and the summary of what this use gets."""
        assert rule.paddle is not None
        tier = rule.tier
        kind = use.kind
        if kind in (UseKind.CALL, UseKind.METHOD_CALL):
            code, summary = self._rewrite_call(use, rule, span)
            if use.via_default:
                callee = span.split("(", 1)[0].strip()
                note = (f"`{callee}` defaults to {rule.api}, so its arguments are mapped for that "
                        "class; a different class passed in may need others")  # fmt: skip
                return code, tier.worst(Tier.REVIEW), note, summary
            return code, tier, None, summary
        new, tier, extra = self._rewrite_name(use, rule, span)
        return new, tier, extra, rule.summary(used=())

    def _rewrite_name(self, use: Use, rule: Rule, span: str) -> tuple[str, Tier, str | None]:
        assert rule.paddle is not None
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
        extra = None
        if kind is UseKind.REFERENCE and rule.kind is Kind.CALLABLE and rule.changes_arguments:
            tier = tier.worst(Tier.REVIEW)
            extra = (
                "passed as a value, so calls made elsewhere still use torch's arguments "
                f"({rule.summary()}); check them"
            )
        return rule.paddle, tier, extra

    def _rewrite_call(self, use: Use, rule: Rule, span: str) -> tuple[str, str]:
        """The call's new text, and a summary naming only the changes this call gets."""
        assert rule.paddle is not None
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
        try:
            bound = bind(node, rule)
        except AlreadyPaddle:
            if use.kind is UseKind.METHOD_CALL or use.via_alias:
                raise
            # `torch.sum(x, axis=1)`: the arguments are Paddle's already, the name is not
            new = code_of(node.with_changes(func=cst.parse_expression(rule.paddle)))
            return new, rule.summary(used=())
        args = join_arguments(node.args, map_arguments(node, rule, bound))
        if use.kind is UseKind.METHOD_CALL:
            assert isinstance(node.func, cst.Attribute)
            func: cst.BaseExpression = node.func.with_changes(attr=cst.Name(rule.short_paddle or ""))
        elif use.via_alias:
            func = node.func
        else:
            func = cst.parse_expression(rule.paddle)
        mapped = node.with_changes(func=func, args=args)
        summary = rule.summary(used=set(bound.by_name), packed=len(bound.var_positional) > 0)
        plain = code_of(mapped)
        if rule.transform:
            transformed = code_of(TRANSFORMS[rule.transform](TransformInput(node, mapped, bound, rule)))
            if transformed != plain:  # name what the transform did, e.g. "batchnorm momentum"
                label = rule.transform.replace("_", " ")
                summary = f"{summary[:-1]}, {label})" if summary.endswith(")") else f"{summary} ({label})"
            return transformed, summary
        return plain, summary


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."
