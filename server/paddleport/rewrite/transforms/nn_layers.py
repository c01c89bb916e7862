"""Transforms for torch.nn layers."""

from __future__ import annotations

import libcst as cst

from paddleport.rewrite.arguments import Unconvertible, code_of
from paddleport.rewrite.transforms import TransformInput, transform

_EMPTY = cst.SimpleWhitespace("")
_NO_SPACE_EQUAL = cst.AssignEqual(whitespace_before=_EMPTY, whitespace_after=_EMPTY)


def keyword_after(t: TransformInput, keep: int) -> list[cst.Arg]:
    """The mapped arguments with every positional one from index ``keep`` on passed by keyword.

    Rules only know torch's parameter order; where Paddle's order differs after
    ``keep`` parameters, naming the rest is the safe spelling.
    """
    assert isinstance(t.mapped, cst.Call)
    rule = t.rule
    order = sorted(t.bound.positional_index, key=t.bound.positional_index.__getitem__)
    names = [rule.rename.get(n, n) for n in order if n not in rule.drop]
    out: list[cst.Arg] = []
    i = 0
    for arg in t.mapped.args:
        if arg.keyword is None and not arg.star:
            if i >= keep and i < len(names):
                arg = arg.with_changes(keyword=cst.Name(names[i]), equal=_NO_SPACE_EQUAL)
            i += 1
        out.append(arg)
    return out


def negated(node: cst.BaseExpression) -> cst.BaseExpression:
    """``not x`` spelled simply: literal booleans flip."""
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return cst.Name("False" if node.value == "True" else "True")
    text = code_of(node)
    return cst.parse_expression(f"not ({text})" if " " in text else f"not {text}")


def set_keyword(args: list[cst.Arg], name: str, value: cst.BaseExpression) -> list[cst.Arg]:
    """Replace the value of keyword ``name``, or append it."""
    for i, a in enumerate(args):
        if a.keyword is not None and a.keyword.value == name:
            return [*args[:i], a.with_changes(value=value), *args[i + 1 :]]
    return [*args, cst.Arg(keyword=cst.Name(name), value=value, equal=_NO_SPACE_EQUAL)]


def get_keyword(args: list[cst.Arg], name: str) -> cst.BaseExpression | None:
    return next((a.value for a in args if a.keyword is not None and a.keyword.value == name), None)


def drop_keyword(args: list[cst.Arg], name: str) -> list[cst.Arg]:
    return [a for a in args if not (a.keyword is not None and a.keyword.value == name)]


def is_literal(node: cst.BaseExpression | None, *texts: str) -> bool:
    if node is None:
        return False
    return "".join(code_of(node).split()) in texts


@transform
def count_include_pad_to_exclusive(t: TransformInput) -> cst.BaseExpression:
    """AvgPool: torch's ``count_include_pad`` (default True) is Paddle's ``exclusive`` negated."""
    assert isinstance(t.mapped, cst.Call)
    args = keyword_after(
        t, 3
    )  # kernel_size, stride, padding agree; ceil_mode/exclusive swap places
    value = get_keyword(args, "exclusive")
    args = set_keyword(args, "exclusive", cst.Name("False") if value is None else negated(value))
    return t.mapped.with_changes(args=args)


@transform
def max_pool_dilation(t: TransformInput) -> cst.BaseExpression:
    """MaxPool: Paddle has no ``dilation``; the rule drops it, which is only right when it is 1."""
    assert isinstance(t.mapped, cst.Call)
    dilation = t.bound.value("dilation")
    if dilation is not None and not is_literal(dilation, "1", "(1,1)", "(1,1,1)", "[1,1]", "(1,)"):
        raise Unconvertible(
            "Paddle's max pooling has no `dilation`; unfold the input or pool by hand"
        )
    return t.mapped.with_changes(args=keyword_after(t, 3))


@transform
def avg_pool_layer(t: TransformInput) -> cst.BaseExpression:
    """AvgPool with the divisor_override/ceil_mode corner Paddle computes differently refused."""
    ceil_mode, divisor = t.bound.value("ceil_mode"), t.bound.value("divisor_override")
    if (
        divisor is not None
        and not is_literal(divisor, "None")
        and ceil_mode is not None
        and not is_literal(ceil_mode, "False")
    ):
        raise Unconvertible(
            "with ceil_mode=True, Paddle applies divisor_override differently to the partial "
            "windows "
            "at the border; pad the input explicitly and use ceil_mode=False"
        )
    return count_include_pad_to_exclusive(t)


def _is_spelled_size(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, (cst.Tuple, cst.List, cst.SimpleString))


@transform
def conv_layer(t: TransformInput) -> cst.BaseExpression:
    """Conv*d: Paddle's ``bias`` and later parameters are keyword-only, and its non-zero
    padding modes need an int padding."""
    mode = t.bound.value("padding_mode")
    if (
        mode is not None
        and not is_literal(mode, "'zeros'", '"zeros"')
        and _is_spelled_size(t.bound.value("padding"))
    ):
        raise Unconvertible(
            "Paddle's convolutions accept padding_mode other than 'zeros' only with an int "
            "padding; "
            "pad with F.pad(mode=...) first and use padding=0"
        )
    from paddleport.rewrite.transforms.functional import same_with_dilation

    if same_with_dilation(t):
        raise Unconvertible(
            "Paddle computes padding='same' wrongly when dilation > 1; pass the explicit padding "
            "dilation * (kernel_size - 1) // 2 (odd kernels)"
        )
    return t.mapped.with_changes(args=keyword_after(t, 7))


@transform
def conv_transpose_layer(t: TransformInput) -> cst.BaseExpression:
    """ConvTranspose*d: Paddle puts ``dilation`` before the bias (in 2-D/3-D, before groups)."""
    return t.mapped.with_changes(args=keyword_after(t, 6))


@transform
def batchnorm_layer(t: TransformInput) -> cst.BaseExpression:
    """BatchNorm*d: name everything after num_features (Paddle takes momentum before epsilon),
    then turn torch's momentum into Paddle's (1 - m)."""
    from dataclasses import replace

    from paddleport.rewrite.transforms import batchnorm_momentum

    keyworded = t.mapped.with_changes(args=keyword_after(t, 1))
    return batchnorm_momentum(replace(t, mapped=keyworded))
