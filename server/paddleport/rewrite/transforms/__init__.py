"""Named rewrites for what rule data cannot say.

The registry and the transforms every area needs live here; area-specific
ones live in the submodules imported at the bottom (one per rules file family).

A rule names its transform (``transform = "size_to_shape"``); the transform
gets the call as written and as already mapped by the rule's data, and returns
the Paddle expression or raises ``Unconvertible`` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from paddleport.rewrite.arguments import Bound, Unconvertible, code_of
from paddleport.rules.model import Rule


@dataclass(frozen=True)
class TransformInput:
    original: cst.BaseExpression  # the torch expression as written
    mapped: cst.BaseExpression  # after the rule's renames, drops and packs
    bound: Bound
    rule: Rule
    # the whole statement, for a use that spans one (`opt.param_groups[0]['lr'] = v`)
    statement: cst.BaseStatement | None = None
    # what a human should check in this call (`pretrained=True`: other weights): the use becomes review
    notes: list[str] = field(default_factory=list)


Transform = Callable[[TransformInput], cst.BaseExpression]
TRANSFORMS: dict[str, Transform] = {}


def transform(fn: Transform) -> Transform:
    """Register ``fn`` under its name; a second transform of the same name is a bug, not an override."""
    if fn.__name__ in TRANSFORMS:
        raise ValueError(f"transform {fn.__name__!r} is defined twice ({fn.__module__})")
    TRANSFORMS[fn.__name__] = fn
    return fn


def is_name_chain(node: cst.BaseExpression) -> bool:
    """A name or attribute chain (``opt``, ``self.opt``): safe to repeat in generated code."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


def _receiver(node: cst.BaseExpression) -> cst.BaseExpression:
    assert isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
    return node.func.value


def _number(node: cst.BaseExpression) -> float | None:
    if isinstance(node, (cst.Float, cst.Integer)):
        return float(node.evaluated_value)
    return None


def _subscript(value: cst.BaseExpression, index: cst.BaseExpression) -> cst.Subscript:
    return cst.Subscript(value=value, slice=[cst.SubscriptElement(cst.Index(index))])


@transform
def size_to_shape(t: TransformInput) -> cst.BaseExpression:
    """``x.size()`` → ``x.shape``; ``x.size(1)`` → ``x.shape[1]``."""
    shape = cst.Attribute(value=_receiver(t.original), attr=cst.Name("shape"))
    dim = t.bound.value("dim")
    return shape if dim is None else _subscript(shape, dim)


@transform
def batchnorm_momentum(t: TransformInput) -> cst.BaseExpression:
    """Paddle's momentum weighs the running value, torch's the new batch: m → 1 - m."""
    assert isinstance(t.mapped, cst.Call)
    momentum = t.bound.value("momentum")
    if momentum is None:
        return t.mapped  # torch's default 0.1 is Paddle's default 0.9
    if isinstance(momentum, cst.Name) and momentum.value == "None":
        raise Unconvertible(
            "momentum=None (a cumulative moving average) has no Paddle equivalent; "
            "pick a fixed momentum"
        )
    number = _number(momentum)
    if number is not None:
        new_value: cst.BaseExpression = cst.Float(repr(round(1.0 - number, 12)))
    else:
        inner = code_of(momentum)
        new_value = cst.parse_expression(f"1 - ({inner})" if " " in inner else f"1 - {inner}")
    args = [
        a.with_changes(value=new_value) if a.keyword and a.keyword.value == "momentum" else a
        for a in t.mapped.args
    ]
    if not any(a.keyword and a.keyword.value == "momentum" for a in args):
        # momentum was positional; mapped args keep positions, so find it by identity
        original_arg = t.bound.by_name["momentum"]
        args = [
            a.with_changes(value=new_value) if a.value is original_arg.value else a
            for a in t.mapped.args
        ]
    return t.mapped.with_changes(args=args)


@transform
def requires_grad_to_stop_gradient(t: TransformInput) -> cst.BaseExpression:
    """Reading ``x.requires_grad`` is ``not x.stop_gradient`` in Paddle."""
    assert isinstance(t.original, cst.Attribute)
    return cst.parse_expression(f"(not {code_of(t.original.value)}.stop_gradient)")


@transform
def bidirectional_from_directions(t: TransformInput) -> cst.BaseExpression:
    """``rnn.bidirectional`` → ``(rnn.num_directions == 2 if isinstance(rnn, RNNBase) else …)``.

    Paddle keeps the count, not the flag. The check runs when the code does, so a receiver of
    unknown type (an RNN passed in as a parameter, reached by ``by_name``) reads right whether it
    is a Paddle RNN or another object with its own ``bidirectional``. That one is read through
    ``getattr`` so that converting the output again finds nothing to convert.
    """
    node = t.original
    if not isinstance(node, cst.Attribute) or t.statement is not None:
        raise Unconvertible("only reads of `bidirectional` convert")
    if not is_name_chain(node.value):
        raise Unconvertible(f"`{code_of(node.value)}` would run twice: bind it to a name first")
    recv = code_of(node.value)
    paddle_rnn, other = "paddle.nn.layer.rnn.RNNBase", f"getattr({recv}, 'bidirectional')"
    test = f"isinstance({recv}, {paddle_rnn})"
    return cst.parse_expression(f"({recv}.num_directions == 2 if {test} else {other})")


@transform
def method_not_called_as_attribute(t: TransformInput) -> cst.BaseExpression:
    """``x.T`` style attributes that Paddle spells as a method call; a member use may span the
    subscript it is read through (``ctx.saved_tensors[0]``)."""
    assert t.rule.paddle is not None
    name = t.rule.paddle.rsplit(".", 1)[-1]
    if isinstance(t.original, cst.Subscript) and isinstance(t.original.value, cst.Attribute):
        inner = t.original.value
        call = cst.Call(func=cst.Attribute(value=inner.value, attr=cst.Name(name)))
        return t.original.with_changes(value=call)
    if not isinstance(t.original, cst.Attribute):
        member = t.rule.api.rsplit(".", 1)[-1]
        raise Unconvertible(f"`.{member}` is used in a form paddleport does not rewrite")
    return cst.Call(func=cst.Attribute(value=t.original.value, attr=cst.Name(name)))


# Area transforms register themselves on import.
from paddleport.rewrite.transforms import (  # noqa: E402
    distributed,
    functional,
    nn_layers,
    optim,
    tensor_methods,
    torch_functions,
    vision,
)

__all__ = ["TRANSFORMS", "Transform", "TransformInput", "distributed", "functional", "nn_layers", "optim",
           "tensor_methods", "torch_functions", "transform", "vision"]
