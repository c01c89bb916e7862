"""Map a torch call's arguments onto Paddle's, following a rule's data.

Works on libcst nodes so every argument keeps its own text, whitespace and
comments; only the parts a rule names are touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from paddleport.rules.model import Rule
from paddleport.rules.signature import ParamKind

_EMPTY = cst.SimpleWhitespace("")
_NO_SPACE_EQUAL = cst.AssignEqual(whitespace_before=_EMPTY, whitespace_after=_EMPTY)


class Unconvertible(Exception):
    """A call this rule cannot rewrite safely; the message says why and what to do."""


class AlreadyPaddle(Exception):
    """The call already uses Paddle's argument names (e.g. ``x.sum(axis=0)``): nothing to do."""


def code_of(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


# expressions that stay one operand wherever they are written: next to any operator, called, indexed
_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float, cst.Imaginary,
          cst.SimpleString, cst.FormattedString, cst.ConcatenatedString, cst.List, cst.Dict, cst.Set,
          cst.ListComp, cst.DictComp, cst.SetComp, cst.GeneratorExp, cst.Ellipsis)  # fmt: skip


def is_atomic(node: cst.BaseExpression) -> bool:
    """Safe next to any operator, as a callee or a receiver, without parentheses of its own."""
    return isinstance(node, _ATOMS) or bool(getattr(node, "lpar", ()))


def _normal(text: str) -> str:
    return "".join(text.split()).replace('"', "'")


@dataclass
class Bound:
    """A call's arguments by torch parameter name."""

    by_name: dict[str, cst.Arg] = field(default_factory=dict)
    var_positional: list[cst.Arg] = field(default_factory=list)
    positional_index: dict[str, int] = field(default_factory=dict)  # name -> index in the call
    extra_keywords: list[cst.Arg] = field(default_factory=list)  # **kwargs or unknown keywords
    passthrough_star: bool = False  # a *args / **kwargs we cannot bind

    def value(self, name: str) -> cst.BaseExpression | None:
        arg = self.by_name.get(name)
        return None if arg is None else arg.value


def bind(call: cst.Call, rule: Rule) -> Bound:
    sig = rule.signature
    bound = Bound()
    if sig is None:
        return bound
    positional = sig.positional
    var_pos = sig.var_positional
    index = 0
    spread = False  # a *args filled an unknown number of positions: later positional ones pass through
    for i, arg in enumerate(call.args):
        if spread and arg.keyword is None and arg.star != "**":
            bound.extra_keywords.append(arg)
        elif arg.star == "**":
            bound.passthrough_star = True
            bound.extra_keywords.append(arg)
        elif arg.keyword is not None:
            name = arg.keyword.value
            if sig.get(name) is None and name in rule.keyword_aliases:
                # another overload's name for a parameter (`scalar=` for `other`): bind it there
                name = rule.keyword_aliases[name]
                arg = arg.with_changes(keyword=cst.Name(name))
            param = sig.get(name)
            if param is not None and param.kind is ParamKind.VAR_POSITIONAL and name == rule.pack:
                bound.by_name[name] = arg  # torch.zeros(size=(2, 3)): already one sequence
            elif param is None or param.kind is ParamKind.VAR_POSITIONAL:
                paddle_only = name in rule.rename.values() and name not in rule.rename
                if paddle_only or name in rule.defaults:
                    raise AlreadyPaddle(name)
                if sig.var_keyword is None:
                    raise Unconvertible(f"`{name}=` is not an argument of {rule.api}{sig.text}")
                bound.extra_keywords.append(arg)
            else:
                bound.by_name[name] = arg
        elif arg.star == "*":
            if var_pos is not None and index >= len(positional):
                bound.var_positional.append(arg)
            else:
                bound.passthrough_star = spread = True
                if _star_reaches_a_change(rule, [p.name for p in positional[index:]]):
                    raise Unconvertible(
                        f"`{code_of(arg)}` spreads arguments, so paddleport cannot tell which "
                        f"parameters of {rule.api} it fills; pass them by keyword"
                    )
                bound.extra_keywords.append(arg)
        elif index < len(positional):
            name = positional[index].name
            bound.by_name[name] = arg
            bound.positional_index[name] = i
            index += 1
        elif var_pos is not None:
            bound.var_positional.append(arg)
            index += 1
        else:
            raise Unconvertible(
                f"more positional arguments than {rule.api}{sig.text} takes"
            )
    return bound


def _star_reaches_a_change(rule: Rule, reachable: list[str]) -> bool:
    """Whether a ``*args`` that may fill ``reachable`` (torch's parameters from
    its position on) could fill one the rule changes (dropped, mapped, packed, read by a transform).

    A renamed parameter is harmless, filled by position: Paddle's positional order is torch's after
    renames (``torch.linspace(*domain, n)`` → ``paddle.linspace(*domain, n)``), unless the rule
    passes it by keyword (``keywords_after``) or a transform reads it. Unsupported parameters at the
    end are harmless too: Paddle takes fewer positional parameters, so an iterable long enough to
    reach them fails loudly with a TypeError.
    """
    unsupported = {key.split("=", 1)[0] for key in rule.unsupported}
    changed = {*rule.drop, *rule.drop_review, *rule.values}
    by_keyword = rule.transform is not None or rule.formula is not None or rule.keywords_after is not None
    renamed_default = {torch for torch, paddle in rule.rename.items() if paddle in rule.defaults}
    changed |= set(rule.rename) if by_keyword else renamed_default
    if rule.pack:
        changed.add(rule.pack)
    names = list(reachable)
    while names and names[-1] in unsupported and names[-1] not in changed:
        names.pop()
    return any(name in changed or name in unsupported for name in names)


def _is_int_like(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Integer):
        return True
    return isinstance(node, cst.UnaryOperation) and isinstance(node.expression, cst.Integer)


def map_arguments(call: cst.Call, rule: Rule, bound: Bound) -> list[cst.Arg]:
    """The Paddle argument list for ``call`` (before any transform)."""
    sig = rule.signature
    if sig is None:
        return list(call.args)
    for key, reason in rule.unsupported.items():
        pname, eq, literal = key.partition("=")
        arg = bound.by_name.get(pname.strip())
        if arg is None:
            continue
        if not eq or _normal(code_of(arg.value)) == _normal(literal):
            shown = code_of(arg).strip().rstrip(",")
            raise Unconvertible(f"`{shown}` has no Paddle equivalent: {reason}")
    paddle_order = [
        rule.rename.get(p.name, p.name) for p in sig.positional
        if p.name not in rule.drop and p.name not in rule.drop_review
    ]
    out: list[cst.Arg] = []
    still_positional = True
    varargs = {id(a) for a in bound.var_positional}
    names = {id(a): n for n, a in bound.by_name.items()}
    packed_done = False
    for arg in call.args:
        if id(arg) in varargs:
            if packed_done:
                continue
            packed_done = True
            if rule.pack is not None:
                out.append(_pack(bound.var_positional))
            else:
                out.extend(bound.var_positional)
            continue
        name = names.get(id(arg))
        if name is None:  # extra keyword or passthrough star
            out.append(arg)
            continue
        if name in rule.drop or name in rule.drop_review:
            still_positional = still_positional and arg.keyword is not None
            continue
        new_name = rule.rename.get(name, name)
        value = arg.value
        mapping = rule.values.get(name)
        if mapping:
            key = _normal(code_of(value))
            for torch_value, paddle_value in mapping.items():
                if _normal(torch_value) == key:
                    value = cst.parse_expression(paddle_value)
                    break
        arg = arg.with_changes(value=value)
        if arg.keyword is None:
            pos = len(out)
            keep = rule.keywords_after is None or pos < rule.keywords_after
            if still_positional and keep and pos < len(paddle_order) and paddle_order[pos] == new_name:
                out.append(arg)
                continue
            still_positional = False
            out.append(arg.with_changes(keyword=cst.Name(new_name), equal=_NO_SPACE_EQUAL))
        else:
            out.append(arg.with_changes(keyword=cst.Name(new_name)))
    present = {a.keyword.value for a in out if a.keyword is not None}
    present |= {paddle_order[i] for i in range(min(len(paddle_order), _positional_count(out)))}
    for pname, src in rule.defaults.items():
        if pname not in present:
            out.append(cst.Arg(keyword=cst.Name(pname), value=cst.parse_expression(src),
                               equal=_NO_SPACE_EQUAL))  # fmt: skip
    return out


def _positional_count(args: list[cst.Arg]) -> int:
    n = 0
    for a in args:
        if a.keyword is not None or a.star:
            break
        n += 1
    return n


def _pack(args: list[cst.Arg]) -> cst.Arg:
    """`2, 3` → `[2, 3]`; a single non-literal argument (a shape variable) stays as it is."""
    if len(args) == 1 and not args[0].star and not _is_int_like(args[0].value):
        return args[0]
    elements: list[cst.BaseElement] = []
    for i, a in enumerate(args):
        comma: cst.Comma | cst.MaybeSentinel = cst.MaybeSentinel.DEFAULT
        if i < len(args) - 1:
            comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        if a.star == "*":
            elements.append(cst.StarredElement(value=a.value, comma=comma))
        else:
            elements.append(cst.Element(value=a.value, comma=comma))
    return cst.Arg(value=cst.List(elements=elements), comma=args[-1].comma)


def join_arguments(original: Sequence[cst.Arg], new: list[cst.Arg]) -> list[cst.Arg]:
    """Fix commas so the list is valid: keep a trailing comma only if the call had one."""
    if not new:
        return []
    trailing = bool(original) and not isinstance(original[-1].comma, cst.MaybeSentinel)
    fixed: list[cst.Arg] = []
    for i, arg in enumerate(new):
        last = i == len(new) - 1
        if last:
            if not trailing:
                arg = arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)
            elif isinstance(arg.comma, cst.MaybeSentinel):
                arg = arg.with_changes(comma=original[-1].comma)
        elif isinstance(arg.comma, cst.MaybeSentinel):
            arg = arg.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        fixed.append(arg)
    return fixed
