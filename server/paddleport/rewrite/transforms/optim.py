"""Transforms for torch.optim, lr_scheduler, linalg, special and the other non-core namespaces."""

from __future__ import annotations

import libcst as cst

from paddleport.rewrite.arguments import Unconvertible, code_of, is_atomic
from paddleport.rewrite.transforms import TransformInput, is_name_chain, transform
from paddleport.rules.model import Kind

_EMPTY = cst.SimpleWhitespace("")
_EQUAL = cst.AssignEqual(whitespace_before=_EMPTY, whitespace_after=_EMPTY)


def _call(node: cst.BaseExpression) -> cst.Call:
    assert isinstance(node, cst.Call)
    return node


def _positional_names(t: TransformInput) -> list[str]:
    """Paddle names of the torch parameters passed by position, in call order, drops left out."""
    order = sorted(t.bound.positional_index.items(), key=lambda item: item[1])
    return [t.rule.rename.get(name, name) for name, _ in order if name not in t.rule.drop]


@transform
def keyword_arguments(t: TransformInput) -> cst.BaseExpression:
    """Pass every argument by keyword: Paddle's parameter order differs from torch's.

    ``torch.optim.SGD(params, 0.1)`` → ``paddle.optimizer.SGD(parameters=params,
    learning_rate=0.1)``; the rule engine keeps positions while the orders agree
    *after renames*, which is wrong when Paddle also reorders its parameters.
    """
    mapped = _call(t.mapped)
    names = iter(_positional_names(t))
    args: list[cst.Arg] = []
    for arg in mapped.args:
        if arg.keyword is None and not arg.star:
            name = next(names, None)
            if name is None:
                raise Unconvertible(f"cannot name the argument `{code_of(arg.value)}`")
            arg = arg.with_changes(keyword=cst.Name(name), equal=_EQUAL)
        args.append(arg)
    return mapped.with_changes(args=args)


def _is_none(node: cst.BaseExpression | None) -> bool:
    return node is None or (isinstance(node, cst.Name) and node.value == "None")


def _literal_length(node: cst.BaseExpression) -> int | None:
    """Elements of a tuple/list literal, 1 for an integer literal, None when unknown."""
    if isinstance(node, (cst.Tuple, cst.List)):
        return len(node.elements)
    if isinstance(node, cst.Integer) or (
        isinstance(node, cst.UnaryOperation) and isinstance(node.expression, cst.Integer)
    ):
        return 1
    return None


def _set_argument(t: TransformInput, torch_name: str, paddle_name: str,
                  value: cst.BaseExpression) -> cst.Call:  # fmt: skip
    """Replace the value of an argument (found by identity) or append it by keyword."""
    mapped = _call(t.mapped)
    old = t.bound.value(torch_name)
    if old is not None:
        args = [a.with_changes(value=value) if a.value is old else a for a in mapped.args]
        return mapped.with_changes(args=args)
    extra = cst.Arg(keyword=cst.Name(paddle_name), value=value, equal=_EQUAL)
    args = list(mapped.args)
    if args:
        space = cst.SimpleWhitespace(" ")
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=space))
    return mapped.with_changes(args=[*args, extra])


@transform
def linalg_norm(t: TransformInput) -> cst.BaseExpression:
    """torch.linalg.norm picks vector or matrix norms from ``ord``/``dim``/ndim; Paddle differs.

    Verified on Paddle 3.3.1: with two axes and no ``p`` Paddle takes the spectral
    norm (torch: Frobenius), and with a numeric ``p`` and no axis Paddle flattens a
    2-D input (torch: matrix norm). Only calls whose meaning is clear are rewritten.
    """
    order = t.bound.value("ord")
    dim = t.bound.value("dim")
    if _is_none(order):
        if _is_none(dim):
            return t.mapped
        assert dim is not None
        n = _literal_length(dim)
        if n is None:
            raise Unconvertible(
                "`dim` is not a literal, so paddleport cannot tell a vector norm (one axis) from "
                "a matrix norm (two axes, Frobenius in torch, spectral in Paddle without p): "
                "use paddle.linalg.vector_norm or paddle.linalg.matrix_norm"
            )
        return t.mapped if n == 1 else _set_argument(t, "ord", "p", cst.SimpleString("'fro'"))
    if _is_none(dim) and not isinstance(order, cst.SimpleString):
        raise Unconvertible(
            "with a numeric `ord` and no `dim`, torch takes a matrix norm of a 2-D input while "
            "Paddle always flattens: pass dim=-1 (vector) or dim=(-2, -1) (matrix), or use "
            "paddle.linalg.vector_norm / paddle.linalg.matrix_norm"
        )
    return t.mapped


@transform
def fftshift_roll(t: TransformInput) -> cst.BaseExpression:
    """fftshift/ifftshift over chosen axes as ``paddle.roll``.

    Paddle 3.3.1's fftshift fails for one axis (int or 1-tuple) and for negative
    axes; with all axes (dim=None) it works and is kept.
    """
    dim = t.bound.value("dim")
    if _is_none(dim):
        return t.mapped
    assert dim is not None
    x = t.bound.value("input")
    if isinstance(dim, (cst.Tuple, cst.List)):
        axes = [code_of(e.value) for e in dim.elements]
    elif _literal_length(dim) == 1:
        axes = [code_of(dim)]
    else:
        axes = []
    if len(axes) >= 2 and all(a.isdigit() for a in axes):
        return t.mapped  # several non-negative axes: Paddle's own fftshift works
    if x is None or not is_name_chain(x) or not axes or any(a.startswith("*") for a in axes):
        raise Unconvertible(
            "Paddle's fftshift fails for a single or negative axis: write "
            "paddle.roll(x, shifts=x.shape[d] // 2, axis=d) (ifftshift: -(x.shape[d] // 2))"
        )
    src = code_of(x)
    inverse = t.rule.api.endswith("ifftshift")
    shifts = [f"-({src}.shape[{a}] // 2)" if inverse else f"{src}.shape[{a}] // 2" for a in axes]
    shift_list, axis_list = ", ".join(shifts), ", ".join(axes)
    return cst.parse_expression(f"paddle.roll({src}, shifts=[{shift_list}], axis=[{axis_list}])")



# torch APIs Paddle lacks, written as Paddle expressions of their arguments.
# Each argument may appear more than once, so it must be a name or attribute chain.
FORMULAS = {
    "torch.special.erfc": "1 - paddle.erf({input})",
    "torch.special.exp2": "paddle.pow(paddle.full_like({input}, 2.0), {input})",
    "torch.exp2": "paddle.pow(paddle.full_like({input}, 2.0), {input})",
    "torch.special.ndtr": "0.5 * (1 + paddle.erf({input} * 0.7071067811865476))",
    "torch.special.log_ndtr": "paddle.log(0.5 * (1 + paddle.erf({input} * 0.7071067811865476)))",
    "torch.special.xlogy": "paddle.where({input} == 0, paddle.zeros_like({input}), "
    "{input} * paddle.log({other}))",
    "torch.special.xlog1py": "paddle.where({input} == 0, paddle.zeros_like({input}), "
    "{input} * paddle.log1p({other}))",
    "torch.jit.is_scripting": "(not paddle.in_dynamic_mode())",
    "torch.jit.is_tracing": "(not paddle.in_dynamic_mode())",
    "torch.jit.annotate": "{the_value}",  # a TorchScript type hint: the value itself in Python
    "torch.get_autocast_dtype": "(paddle.bfloat16 if {device_type} == 'cpu' "
    "else paddle.amp.get_autocast_dtype())",
    "torch.get_autocast_cpu_dtype": "paddle.bfloat16",
    "torch.get_autocast_gpu_dtype": "paddle.amp.get_autocast_dtype()",
    "torch.var_mean": "(lambda _x: (paddle.var(_x, axis={dim}, unbiased={unbiased}, keepdim={keepdim}), "
    "paddle.mean(_x, axis={dim}, keepdim={keepdim})))({input})",
    "torch.compiler.is_exporting": "(not paddle.in_dynamic_mode())",
    "torch.compiler.is_compiling": "(not paddle.in_dynamic_mode())",
    "torch.compiler.is_dynamo_compiling": "(not paddle.in_dynamic_mode())",
    "torch.hub.HASH_REGEX": "re.compile(r'-([a-f0-9]*)\\.')",
    "torch.hub.get_dir": "paddle.utils.download.WEIGHTS_HOME",
    "torch.serialization.safe_globals": "contextlib.nullcontext()",
    "torch.serialization.get_unsafe_globals_in_checkpoint": "[]",
    "torch.__version__": "paddle.__version__",
    "torch.nn.utils.fusion.fuse_conv_bn_eval": "_paddleport_vision.conv_bn_eval({conv}, {bn}, {transpose})",
    "torch.backends.cudnn.is_available": "(paddle.device.get_cudnn_version() is not None)",
    "torch.linalg.lu": "paddle.linalg.lu_unpack(*paddle.linalg.lu({A}))",
    "torch.linalg.inv_ex": "(paddle.linalg.inv({A}), paddle.zeros({A}.shape[:-2], dtype='int32'))",
    "torch.linalg.cholesky_ex": "(paddle.linalg.cholesky({A}, upper={upper}), "
    "paddle.zeros({A}.shape[:-2], dtype='int32'))",
    "torch.linalg.solve_ex": "(paddle.linalg.solve({A}, {B}, left={left}), "
    "paddle.zeros({A}.shape[:-2], dtype='int32'))",
    "torch.linalg.lu_factor_ex": "(*paddle.linalg.lu({A}, pivot={pivot}), "
    "paddle.zeros({A}.shape[:-2], dtype='int32'))",
    "torch.linalg.tensorinv": "paddle.linalg.inv({A}.flatten(0, {ind} - 1).flatten(1))"
    ".reshape({A}.shape[{ind}:] + {A}.shape[:{ind}])",
    "torch.special.spherical_bessel_j0": "paddle.where({input} == 0, paddle.ones_like({input}), "
    "paddle.sin({input}) / {input})",
    "torch.special.ndtri": "1.4142135623730951 * paddle.erfinv(2 * {input} - 1)",
    "torch.linalg.tensorsolve": "paddle.linalg.solve({A}.reshape([int(paddle.numel({B})), -1]), "
    "{B}.flatten()).reshape({A}.shape[{B}.ndim:])",
    "torch.backends.cuda.is_built": "paddle.is_compiled_with_cuda()",
    "torch.nn.parallel.scatter": "tuple(paddle.compat.split({inputs}, -(-{inputs}.shape[{dim}] // "
    "len({target_gpus})), dim={dim}))",
    "torch.set_float32_matmul_precision": "paddle.base.core.set_cublas_switch({precision} != 'highest')",
    "torch.get_float32_matmul_precision": "('high' if paddle.base.core.get_cublas_switch() else 'highest')",
    "torch.backends.mps.is_available": "False",  # Paddle has no MPS backend
    "torch.backends.mps.is_built": "False",
    "torch.accelerator.current_accelerator": "(paddle.device(paddle.device.get_device()) "
    "if paddle.device.is_available() else None)",
    "torch.special.entr": "paddle.where({input} > 0, -{input} * paddle.log({input}), "
    "paddle.where({input} == 0, paddle.zeros_like({input}), "
    "paddle.full_like({input}, float('-inf'))))",
}


def _repeatable(node: cst.BaseExpression) -> bool:
    """Names, attribute chains and number literals: safe to write more than once, no parentheses."""
    if isinstance(node, cst.UnaryOperation):
        node = node.expression
    return is_name_chain(node) or isinstance(node, (cst.Integer, cst.Float))


@transform
def formula(t: TransformInput) -> cst.BaseExpression:
    """Write an API Paddle lacks as an expression (the rule's ``formula``, or FORMULAS) over its
    arguments; ``{self}`` is the receiver of a tensor method or attribute."""
    template = t.rule.formula or FORMULAS[t.rule.api]
    values: dict[str, str] = {}
    if t.rule.signature is not None:  # parameters left out take torch's defaults
        for param in t.rule.signature.params:
            if param.default is not None and param.name not in t.bound.by_name:
                values[param.name] = param.default
    given: list[tuple[str, cst.BaseExpression]] = []
    receiver = _formula_receiver(t)
    if receiver is not None:
        given.append(("self", receiver))
    for name in sorted(t.bound.by_name, key=lambda n: _order(t, n)):
        value = t.bound.value(name)
        assert value is not None
        given.append((name, value))
    repeated = [n for n, v in given if template.count(f"{{{n}}}") > 1 and not _repeatable(v)]
    # arguments written more than once are bound once by a lambda; then every argument that is not a
    # plain name is, in the call's order, so they still run once each and in torch's order
    bound: list[tuple[str, str]] = []
    for name, value in given:
        bare = is_name_chain(value) or isinstance(value, (cst.Integer, cst.Float, cst.SimpleString))
        if repeated and not _repeatable(value) and (name in repeated or not bare):
            bound.append((f"_{name}", code_of(value)))
            values[name] = f"_{name}"
        else:
            # a number followed by an attribute needs parentheses: `(2).astype`
            number = isinstance(value, (cst.Integer, cst.Float)) and f"{{{name}}}." in template
            atom = is_atomic(value)
            whole = template == f"{{{name}}}"  # the whole expression: no precedence to keep
            values[name] = code_of(value) if (atom and not number) or whole else f"({code_of(value)})"
    try:
        code = template.format(**values)
    except KeyError as exc:
        raise Unconvertible(f"missing argument {exc}") from None
    if bound:  # `(lambda _input: f(_input, _input))(g(x))`: the argument runs once, as in torch
        params, args = ", ".join(n for n, _ in bound), ", ".join(v for _, v in bound)
        code = f"(lambda {params}: {code})({args})"
    expr = cst.parse_expression(code)
    if not is_atomic(expr):  # `torch.erfc(x) * 2` → `(1 - paddle.erf(x)) * 2`
        expr = cst.parse_expression(f"({code})")
    return expr



def _formula_receiver(t: TransformInput) -> cst.BaseExpression | None:
    """``x`` of ``x.method(...)`` / ``x.attribute`` for a member rule's formula."""
    if t.rule.kind is Kind.METHOD and isinstance(t.original, cst.Call) and isinstance(t.original.func,
                                                                                     cst.Attribute):
        return t.original.func.value
    if t.rule.kind is Kind.ATTRIBUTE and isinstance(t.original, cst.Attribute):
        return t.original.value
    return None


def _order(t: TransformInput, name: str) -> int:
    """Where the argument for ``name`` stands in the call."""
    arg = t.bound.by_name[name]
    assert isinstance(t.original, cst.Call)
    return next((i for i, a in enumerate(t.original.args) if a is arg), len(t.original.args))


class _Show(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return key


def _is_false(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def _is_zero(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, (cst.Integer, cst.Float)) and float(node.evaluated_value) == 0.0


def _without(call: cst.Call, *names: str) -> cst.Call:
    args = [a for a in call.args if not (a.keyword and a.keyword.value in names)]
    return call.with_changes(args=_recomma(args))


def _recomma(args: list[cst.Arg]) -> list[cst.Arg]:
    space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    out = [a.with_changes(comma=space) for a in args[:-1]]
    if args:
        out.append(args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT))
    return out


def _keyword(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(keyword=cst.Name(name), value=value, equal=_EQUAL)


def _split_pair(call: cst.Call, torch_value: cst.BaseExpression | None, keyword: str,
                first: str, second: str) -> cst.Call:  # fmt: skip
    """``betas=(b1, b2)`` → ``beta1=b1, beta2=b2`` (a name is indexed)."""
    if torch_value is None:
        return call
    elements = torch_value.elements if isinstance(torch_value, (cst.Tuple, cst.List)) else ()
    if len(elements) == 2 and not any(isinstance(e, cst.StarredElement) for e in elements):
        a, b = (e.value for e in elements)
    elif is_name_chain(torch_value):
        src = code_of(torch_value)
        a, b = cst.parse_expression(f"{src}[0]"), cst.parse_expression(f"{src}[1]")
    else:
        raise Unconvertible(
            f"`{keyword}` must be split into `{first}` and `{second}`: assign it to a name first"
        )
    args: list[cst.Arg] = []
    for arg in call.args:
        if arg.keyword and arg.keyword.value == keyword:
            args += [_keyword(first, a), _keyword(second, b)]
        else:
            args.append(arg)
    return call.with_changes(args=_recomma(args))


def _reject_param_groups(t: TransformInput) -> None:
    params = t.bound.value("params")
    if isinstance(params, (cst.List, cst.Tuple)) and any(
        isinstance(e.value, cst.Dict) for e in params.elements
    ):
        raise Unconvertible(
            "parameter groups: Paddle takes dicts with 'params' too, but a group's "
            "'learning_rate' is a factor on the optimizer's rate (torch's 'lr' is absolute) "
            "and other keys differ: port the groups by hand"
        )


@transform
def optimizer(t: TransformInput) -> cst.BaseExpression:
    """torch.optim.X(params, lr, ...) → paddle.optimizer.X(parameters=..., learning_rate=..., ...).

    Everything goes by keyword (Paddle puts learning_rate first), ``betas`` is
    split into ``beta1``/``beta2``, and SGD with momentum becomes Momentum.
    """
    _reject_param_groups(t)
    call = _call(keyword_arguments(t))
    call = _split_pair(call, t.bound.value("betas"), "betas", "beta1", "beta2")
    # Paddle takes a float or a scheduler and refuses an int rate (torch's lr=1 is fine)
    call = call.with_changes(args=[
        a.with_changes(value=cst.Float(f"{a.value.value}.0"))
        if a.keyword is not None and a.keyword.value == "learning_rate" and isinstance(a.value, cst.Integer)
        else a for a in call.args])  # fmt: skip
    if t.rule.api == "torch.optim.SGD":
        dampening = t.bound.value("dampening")
        if dampening is not None and not _is_zero(dampening):
            raise Unconvertible("Paddle's Momentum has no dampening: keep it 0 or port by hand")
        momentum = t.bound.value("momentum")
        if momentum is None or _is_zero(momentum):
            nesterov = t.bound.value("nesterov")
            if nesterov is not None and not _is_false(nesterov):
                raise Unconvertible("nesterov needs a momentum")
            call = _without(call, "momentum", "use_nesterov")
        else:
            call = call.with_changes(func=cst.parse_expression("paddle.optimizer.Momentum"))
    return call


_PER_GROUP = ("lr_lambda", "min_lr", "max_lr", "base_lr", "base_momentum", "max_momentum")
_ATTACH = "(lambda scheduler: {opt}.set_lr_scheduler(scheduler) or scheduler)({sched})"


@transform
def lr_scheduler(t: TransformInput) -> cst.BaseExpression:
    """A torch scheduler wraps an optimizer; a Paddle scheduler *is* the optimizer's rate.

    ``StepLR(opt, 30)`` → a StepDecay starting at ``opt.get_lr()``, attached with
    ``opt.set_lr_scheduler`` and returned, in one expression.
    """
    opt = t.bound.value("optimizer")
    if opt is None:
        raise Unconvertible("no optimizer argument")
    if not is_name_chain(opt):
        raise Unconvertible("the optimizer is used twice in Paddle: assign it to a name first")
    for name in _PER_GROUP:
        if isinstance(t.bound.value(name), (cst.List, cst.Tuple)):
            raise Unconvertible(
                f"a list of `{name}` values (one per parameter group): a Paddle scheduler has one"
            )
    src = code_of(opt)
    call = _call(keyword_arguments(t))
    args = []
    for arg in call.args:
        if arg.keyword and arg.keyword.value == "optimizer":
            continue
        if arg.keyword and arg.keyword.value == "learning_rate" and arg.value is opt:
            arg = arg.with_changes(value=cst.parse_expression(f"{src}.get_lr()"))
        args.append(arg)
    call = call.with_changes(args=_recomma(args))
    special = _SCHEDULER_FIXES.get(t.rule.api)
    if special is not None:
        call = special(t, call)
    return cst.parse_expression(_ATTACH.format(opt=src, sched=code_of(call)))


_EPOCHS = ("epochs", "steps_per_epoch")


def _operand(node: cst.BaseExpression) -> str:
    simple = is_name_chain(node) or isinstance(node, (cst.Float, cst.Integer))
    return code_of(node) if simple else f"({code_of(node)})"


def _one_cycle(t: TransformInput, call: cst.Call) -> cst.Call:
    """torch gives the final rate as max_lr / div_factor / final_div_factor; Paddle as a value."""
    cycle = t.bound.value("cycle_momentum")
    if not _is_false(cycle):
        raise Unconvertible(
            "torch's OneCycleLR also cycles the optimizer's momentum (cycle_momentum=True by "
            "default, beta1 for Adam); Paddle's does not: pass cycle_momentum=False if that is "
            "acceptable, or port by hand"
        )
    max_lr = t.bound.value("max_lr")
    assert max_lr is not None
    div = t.bound.value("div_factor") or cst.Float("25.0")
    final = t.bound.value("final_div_factor") or cst.Float("10000.0")
    end = cst.parse_expression(" / ".join(_operand(v) for v in (max_lr, div, final)))
    args = [a for a in _without(call, "final_div_factor", "cycle_momentum").args]
    steps = t.bound.value("total_steps")
    if steps is None:
        epochs, per_epoch = t.bound.value("epochs"), t.bound.value("steps_per_epoch")
        if epochs is None or per_epoch is None:
            raise Unconvertible("give total_steps, or epochs and steps_per_epoch")
        total = cst.parse_expression(f"({code_of(epochs)}) * ({code_of(per_epoch)})")
        args = [a for a in args if not (a.keyword and a.keyword.value in _EPOCHS)]
        args.append(_keyword("total_steps", total))
    args.append(_keyword("end_learning_rate", end))
    return call.with_changes(args=_recomma(args))


def _cyclic(t: TransformInput, call: cst.Call) -> cst.Call:
    cycle = t.bound.value("cycle_momentum")
    if not _is_false(cycle):
        raise Unconvertible(
            "torch's CyclicLR also cycles the optimizer's momentum (cycle_momentum=True by "
            "default); Paddle's does not: pass cycle_momentum=False if that is acceptable"
        )
    return _without(call, "cycle_momentum")


def _constant(t: TransformInput, call: cst.Call) -> cst.Call:
    """ConstantLR(factor, total_iters) as a LambdaDecay: factor before total_iters, then 1."""
    factor = t.bound.value("factor") or cst.parse_expression("1.0 / 3")
    iters = t.bound.value("total_iters") or cst.Integer("5")
    fn = cst.parse_expression(
        f"lambda epoch: {_operand(factor)} if epoch < {_operand(iters)} else 1.0"
    )
    args = list(_without(call, "factor", "total_iters").args)
    args.append(_keyword("lr_lambda", fn))
    return call.with_changes(args=_recomma(args))


_SCHEDULER_FIXES = {
    "torch.optim.lr_scheduler.ConstantLR": _constant,
    "torch.optim.lr_scheduler.OneCycleLR": _one_cycle,
    "torch.optim.lr_scheduler.CyclicLR": _cyclic,
}


@transform
def tensors_as_list(t: TransformInput) -> cst.BaseExpression:
    """``TensorDataset(x, y)`` → ``TensorDataset([x, y])``, also for a single tensor."""
    mapped = _call(t.mapped)
    if not t.bound.var_positional:
        return mapped
    elements: list[cst.BaseElement] = [
        cst.StarredElement(value=a.value) if a.star == "*" else cst.Element(value=a.value)
        for a in t.bound.var_positional
    ]
    listed = cst.Arg(value=cst.List(_recomma_elements(elements)))
    rest = [a for a in mapped.args if all(a.value is not v.value for v in t.bound.var_positional)]
    return mapped.with_changes(args=_recomma([listed, *rest]))


def _recomma_elements(elements: list[cst.BaseElement]) -> list[cst.BaseElement]:
    space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    out = [e.with_changes(comma=space) for e in elements[:-1]]
    return [*out, elements[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)] if elements else out


@transform
def weights_as_tensor(t: TransformInput) -> cst.BaseExpression:
    """Paddle 3.3.1's WeightedRandomSampler needs a numpy array: lists fail in len(), tensors in iteration."""
    weights = t.bound.value("weights")
    if weights is None:
        return t.mapped
    wrapped = cst.parse_expression(f"paddle.to_tensor({code_of(weights)}, dtype='float64').numpy()")
    return _set_argument(t, "weights", "weights", wrapped)


@transform
def autocast(t: TransformInput) -> cst.BaseExpression:
    """torch.autocast's default dtype follows the device (cuda float16, cpu bfloat16); Paddle: float16."""
    if t.bound.value("dtype") is not None or _is_false(t.bound.value("enabled")):
        return t.mapped  # a dtype given, or autocast off: no dtype is used
    device = t.bound.value("device_type")
    text = device.evaluated_value if isinstance(device, cst.SimpleString) else None
    if text == "cpu":
        return _set_argument(t, "dtype", "dtype", cst.SimpleString("'bfloat16'"))
    if text == "cuda" or device is None:
        return t.mapped
    raise Unconvertible(
        "the default dtype depends on device_type (float16 on cuda, bfloat16 on cpu): pass dtype="
    )


@transform
def inference_mode(t: TransformInput) -> cst.BaseExpression:
    """``inference_mode()`` disables gradients (``paddle.no_grad()``); ``inference_mode(False)``
    leaves them as they are, a context that does nothing in Paddle (no inference tensors)."""
    mode = t.bound.value("mode")
    if mode is None or (isinstance(mode, cst.Name) and mode.value == "True"):
        return t.mapped
    if _is_false(mode):
        return cst.parse_expression("contextlib.nullcontext()")
    return cst.parse_expression(f"(paddle.no_grad() if {code_of(mode)} else contextlib.nullcontext())")


@transform
def jit_ignore(t: TransformInput) -> cst.BaseExpression:
    """``torch.jit.ignore`` / ``ignore(fn)`` / ``ignore(drop=False)`` → ``paddle.jit.not_to_static``.

    torch's first parameter is ``drop`` but a function passed there is the function
    to mark; ``ignore()`` and ``ignore(drop=False)`` return the decorator itself.
    """
    drop = t.bound.value("drop")
    name = cst.parse_expression("paddle.jit.not_to_static")
    if drop is None or _is_false(drop):
        return name
    if isinstance(drop, cst.Name) and drop.value == "True":
        raise Unconvertible(
            "drop=True makes TorchScript replace the function by one that raises: Paddle has "
            "no such mode; mark it with @paddle.jit.not_to_static and keep it out of the graph"
        )
    return cst.Call(func=name, args=[cst.Arg(value=drop)])


_PROBS = {
    ("torch.distributions.utils.logits_to_probs", False): "paddle.nn.functional.softmax({x}, axis=-1)",
    ("torch.distributions.utils.logits_to_probs", True): "paddle.nn.functional.sigmoid({x})",
    ("torch.distributions.utils.probs_to_logits", False):
        "paddle.log(paddle.clip({x}, paddle.finfo({x}.dtype).eps, 1 - paddle.finfo({x}.dtype).eps))",
    ("torch.distributions.utils.probs_to_logits", True):
        "(lambda p: paddle.log(p) - paddle.log1p(-p))(paddle.clip({x}, "
        "paddle.finfo({x}.dtype).eps, 1 - paddle.finfo({x}.dtype).eps))",
}


@transform
def probs_logits(t: TransformInput) -> cst.BaseExpression:
    """torch.distributions.utils.logits_to_probs / probs_to_logits, by ``is_binary``."""
    binary = t.bound.value("is_binary")
    if binary is not None and not (isinstance(binary, cst.Name) and binary.value in ("True", "False")):
        raise Unconvertible("is_binary must be a literal True or False")
    key = (t.rule.api, binary is not None and _is_true(binary))
    value = t.bound.value(t.rule.api.rsplit("_to_", 1)[0].rsplit(".", 1)[-1])
    assert value is not None
    template = _PROBS[key]
    if template.count("{x}") > 1 and not is_name_chain(value):
        raise Unconvertible("the argument is used several times in Paddle: assign it to a name first")
    return cst.parse_expression(template.format(x=code_of(value)))


def _is_true(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _param_groups_root(node: cst.BaseExpression) -> tuple[cst.BaseExpression, list[str]]:
    """``opt.param_groups[0]['lr']`` → (``opt``, ["0", "'lr'"]); the keys as source text."""
    keys: list[str] = []
    while isinstance(node, cst.Subscript):
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            raise Unconvertible("only plain indexing of param_groups converts")
        keys.insert(0, code_of(node.slice[0].slice.value))
        node = node.value
    if not (isinstance(node, cst.Attribute) and node.attr.value == "param_groups"):
        raise Unconvertible("not a param_groups access")
    return node.value, keys


def _is_lr_key(text: str) -> bool:
    return text in ("'lr'", '"lr"')


def _set_lr(opt: cst.BaseExpression, op: cst.BaseAugOp | None, value: cst.BaseExpression) -> str:
    """``opt.set_lr(v)``, or ``opt.set_lr(opt.get_lr() * v)`` for ``*=``."""
    src = code_of(opt)
    if op is None:
        return f"{src}.set_lr({code_of(value)})"
    if not is_name_chain(opt):
        raise Unconvertible("the optimizer is used twice in Paddle: assign it to a name first")
    symbol = _AUG_OPS.get(type(op).__name__)
    if symbol is None:
        raise Unconvertible("only +=, -=, *= and /= of a learning rate convert")
    return f"{src}.set_lr({src}.get_lr() {symbol} {_operand(value)})"


_AUG_OPS = {"AddAssign": "+", "SubtractAssign": "-", "MultiplyAssign": "*", "DivideAssign": "/"}


def _names_in(node: cst.CSTNode) -> set[str]:
    found: set[str] = set()

    class _Names(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.add(n.value)

    node.visit(_Names())
    return found


@transform
def param_groups_lr(t: TransformInput) -> cst.BaseExpression:
    """A group's learning rate: ``opt.param_groups[0]['lr']`` → ``opt.get_lr()``.

    Writes become ``opt.set_lr(v)``: ``opt.param_groups[0]['lr'] = v`` and the
    warm-up loop ``for g in opt.param_groups: g['lr'] = v``. Paddle has one rate
    per optimizer, so any other use of param_groups is left with the reason.
    """
    why = ("Paddle optimizers have no param_groups: read the rate with get_lr() and set it "
           "with set_lr(v); per-group options are given at construction")  # fmt: skip
    stmt = t.statement
    if stmt is None:
        opt, keys = _param_groups_root(t.original)
        if len(keys) == 2 and _is_lr_key(keys[1]):
            return cst.parse_expression(f"{code_of(opt)}.get_lr()")
        raise Unconvertible(why)
    if "#" in code_of(stmt):
        raise Unconvertible(f"{why} (a comment inside the statement would be lost)")
    if isinstance(stmt, cst.For):
        body = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else []
        target = stmt.target
        inner = body[0].body if len(body) == 1 and isinstance(body[0], cst.SimpleStatementLine) else []
        if not (isinstance(target, cst.Name) and len(inner) == 1 and not stmt.orelse):
            raise Unconvertible(why)
        opt, keys = _param_groups_root(stmt.iter)
        small = inner[0]
        if keys or not isinstance(small, (cst.Assign, cst.AugAssign)):
            raise Unconvertible(why)
        dest = small.targets[0].target if isinstance(small, cst.Assign) else small.target
        if isinstance(small, cst.Assign) and len(small.targets) != 1:
            raise Unconvertible(why)
        if not (isinstance(dest, cst.Subscript) and isinstance(dest.value, cst.Name)
                and dest.value.value == target.value and len(dest.slice) == 1
                and isinstance(dest.slice[0].slice, cst.Index)
                and _is_lr_key(code_of(dest.slice[0].slice.value))):  # fmt: skip
            raise Unconvertible(why)
        if target.value in _names_in(small.value):
            raise Unconvertible(f"{why} (the new rate depends on the group)")
        op = small.operator if isinstance(small, cst.AugAssign) else None
        return cst.parse_expression(_set_lr(opt, op, small.value))
    inner_stmts = stmt.body if isinstance(stmt, cst.SimpleStatementLine) else []
    if len(inner_stmts) != 1 or not isinstance(inner_stmts[0], (cst.Assign, cst.AugAssign)):
        raise Unconvertible(why)
    small = inner_stmts[0]
    if isinstance(small, cst.Assign):
        if len(small.targets) != 1:
            raise Unconvertible(why)
        dest = small.targets[0].target
    else:
        dest = small.target
    opt, keys = _param_groups_root(dest)
    if len(keys) != 2 or not _is_lr_key(keys[1]):
        raise Unconvertible(why)
    op = small.operator if isinstance(small, cst.AugAssign) else None
    return cst.parse_expression(_set_lr(opt, op, small.value))


@transform
def get_last_lr(t: TransformInput) -> cst.BaseExpression:
    """``sched.get_last_lr()`` → ``[sched.last_lr]``: torch lists one rate per group, Paddle has one."""
    assert isinstance(t.original, cst.Call) and isinstance(t.original.func, cst.Attribute)
    return cst.parse_expression(f"[{code_of(t.original.func.value)}.last_lr]")
