"""Torch calling conventions that apply to every rule, handled once instead of per rule.

- ``out=t``: the call is written without it and wrapped in ``paddle.assign(result, t)``, which
  copies into ``t`` and returns it, so it is right as a statement and as a value.
- The legacy loss arguments ``size_average`` / ``reduce``: ``None`` is dropped, other literals become
  ``reduction`` exactly as torch's ``_Reduction.legacy_get_string`` computes it.
- An argument spelled with its default (``device=None``, ``layout=torch.strided``,
  ``pin_memory=False``, ``generator=None``, ...) never blocks a conversion: it is removed, since
  leaving it out means the same to torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from paddleport.rewrite.arguments import Bound, Unconvertible, bind, code_of
from paddleport.rules.model import Kind, Rule

_EMPTY = cst.SimpleWhitespace("")
_NO_SPACE_EQUAL = cst.AssignEqual(whitespace_before=_EMPTY, whitespace_after=_EMPTY)

# Values meaning "torch's default" for arguments that Paddle has no counterpart of; torch's own
# signatures often spell them `None` while the documented default is the named constant.
SPELLED_DEFAULTS: dict[str, frozenset[str]] = {
    "device": frozenset({"None"}),
    "layout": frozenset({"None", "torch.strided"}),
    "pin_memory": frozenset({"False"}),
    "memory_format": frozenset({"torch.contiguous_format", "torch.preserve_format", "None"}),
    "requires_grad": frozenset({"False"}),
    "generator": frozenset({"None"}),
    "out": frozenset({"None"}),
    "non_blocking": frozenset({"False"}),
    "names": frozenset({"None"}),
}


def _normal(text: str) -> str:
    return "".join(text.split()).replace('"', "'")


@dataclass
class Prepared:
    """The call with the conventions applied, and what must wrap its Paddle code."""

    call: cst.Call
    out: cst.BaseExpression | None = None  # the tensor `out=` wrote into
    legacy: str | None = None  # the reduction the legacy arguments gave, for the summary
    removed: tuple[str, ...] = ()  # arguments passed with their default and removed


def _takes_out(rule: Rule, method: bool) -> bool:
    """A torch function (not a class, not a method) whose ``out=`` the engine may take over."""
    if method or "out" in rule.unsupported:
        return False
    name = rule.api.rsplit(".", 1)[-1]
    return rule.kind is Kind.CALLABLE and name[:1].islower() and (rule.paddle is not None or rule.writes_code)


def _default_of(rule: Rule, name: str) -> set[str]:
    values = set(SPELLED_DEFAULTS.get(name, ()))
    param = rule.signature.get(name) if rule.signature is not None else None
    if param is not None and param.default is not None:
        values.add(_normal(param.default))
    return values


def _blocks(rule: Rule, name: str, value: cst.BaseExpression) -> bool:
    """Would this argument stop the conversion (unsupported, or unknown to the signature)?"""
    sig = rule.signature
    if sig is None:
        return False
    if sig.get(name) is None:
        return sig.var_keyword is None
    if name in rule.drop_review:
        return True  # dropped with a review note: with its default value there is nothing to review
    for key in rule.unsupported:
        pname, eq, literal = key.partition("=")
        if pname.strip() == name and (not eq or _normal(code_of(value)) == _normal(literal)):
            return True
    return False


def _without(call: cst.Call, rule: Rule, bound: Bound, gone: list[cst.Arg]) -> cst.Call:
    """``call`` without ``gone``; positional arguments after a removed one are passed by name."""
    ids = {id(a) for a in gone}
    names = {id(a): n for n, a in bound.by_name.items()}
    named_from_here = False
    args: list[cst.Arg] = []
    for arg in call.args:
        if id(arg) in ids:
            named_from_here = named_from_here or (arg.keyword is None and not arg.star)
            continue
        if named_from_here and arg.keyword is None and not arg.star:
            name = names.get(id(arg))
            if name is None:
                raise Unconvertible("positional arguments after a removed one could not be named")
            arg = arg.with_changes(keyword=cst.Name(name), equal=_NO_SPACE_EQUAL)
        args.append(arg)
    return _recomma(call, args)


def _recomma(call: cst.Call, args: list[cst.Arg]) -> cst.Call:
    fixed = []
    trailing = bool(call.args) and not isinstance(call.args[-1].comma, cst.MaybeSentinel)
    for i, arg in enumerate(args):
        if i < len(args) - 1 and isinstance(arg.comma, cst.MaybeSentinel):
            arg = arg.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        elif i == len(args) - 1 and not trailing:
            arg = arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)
        fixed.append(arg)
    return call.with_changes(args=fixed)


def legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """torch.nn._reduction.legacy_get_string, for literal arguments."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def _literal_flag(value: cst.BaseExpression, name: str) -> bool | None:
    if isinstance(value, cst.Name) and value.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[value.value]
    if isinstance(value, cst.Integer) and value.value in ("0", "1"):
        return value.value == "1"
    raise Unconvertible(
        f"`{name}={code_of(value)}` is not a literal, so the `reduction` it stands for "
        "cannot be worked out: pass reduction='mean', 'sum' or 'none' instead"
    )


def prepare(call: cst.Call, rule: Rule, method: bool) -> Prepared:
    """Apply the calling conventions to ``call`` before the rule maps its arguments."""
    sig = rule.signature
    if sig is None:
        return Prepared(call)
    out: cst.BaseExpression | None = None
    removed: list[str] = []
    # keywords the signature does not know: `out=` of a function, or a spelled-out default
    gone = []
    for arg in call.args:
        if arg.keyword is None or sig.get(arg.keyword.value) is not None:
            continue
        name = arg.keyword.value
        if name == "out" and _takes_out(rule, method) and _normal(code_of(arg.value)) != "None":
            out = arg.value
            gone.append(arg)
        elif _normal(code_of(arg.value)) in SPELLED_DEFAULTS.get(name, ()) and sig.var_keyword is None:
            gone.append(arg)
            removed.append(name)
    if gone:
        call = _recomma(call, [a for a in call.args if all(a is not g for g in gone)])
    bound = bind(call, rule)
    gone = []
    for name, arg in bound.by_name.items():
        if name == "out" and sig.get("out") is not None and _takes_out(rule, method):
            if _normal(code_of(arg.value)) != "None":
                out = arg.value
            gone.append(arg)
        elif _blocks(rule, name, arg.value) and _normal(code_of(arg.value)) in _default_of(rule, name):
            gone.append(arg)
            removed.append(name)
    legacy: str | None = None
    if sig.get("size_average") is not None and sig.get("reduce") is not None and sig.get("reduction"):
        size_average, reduce = bound.by_name.get("size_average"), bound.by_name.get("reduce")
        flags = [_literal_flag(a.value, n) if a is not None else None
                 for a, n in ((size_average, "size_average"), (reduce, "reduce"))]  # fmt: skip
        gone += [a for a in (size_average, reduce) if a is not None]
        if flags[0] is not None or flags[1] is not None:
            legacy = legacy_reduction(flags[0], flags[1])
            reduction = bound.by_name.get("reduction")
            if reduction is not None:
                gone.append(reduction)
    if gone:
        call = _without(call, rule, bound, gone)
    if legacy is not None:
        keyword = cst.Arg(keyword=cst.Name("reduction"), value=cst.SimpleString(f"'{legacy}'"),
                          equal=_NO_SPACE_EQUAL)  # fmt: skip
        star = [i for i, a in enumerate(call.args) if a.star == "**"]
        args = list(call.args)
        args.insert(star[0] if star else len(args), keyword)
        call = _recomma(call, args)
    if out is not None:
        if isinstance(out, (cst.Tuple, cst.List)):
            raise Unconvertible(
                f"`out={code_of(out)}` receives several results: unpack the Paddle call's results "
                "and `paddle.assign` each to its tensor"
            )
        if not _is_place(out):
            raise Unconvertible(
                f"`out={code_of(out)}` writes into a part of a tensor: assign the result to it instead"
            )
    return Prepared(call, out, legacy, tuple(removed))


def _is_place(node: cst.BaseExpression) -> bool:
    """A name or attribute chain: a whole tensor, not a view such as ``buf[0]``."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


def assign_to(code: str, out: cst.BaseExpression) -> str:
    """The Paddle code writing ``code``'s result into the tensor ``out`` (and returning it)."""
    return f"paddle.assign({code}, {code_of(out)})"
