"""torchvision → paddle.vision rewrites that rule data cannot say.

Interpolation modes are an enum in torchvision and strings in Paddle; model
constructors take ``weights=`` (torchvision) or ``pretrained=`` (Paddle), whose
weights differ; datasets read a ``root`` folder and give int labels in
torchvision, while Paddle's take file paths and give int64 arrays (see
``rewrite/helpers.py``).
"""

from __future__ import annotations

import libcst as cst

from paddleport.rewrite.arguments import Unconvertible, code_of
from paddleport.rewrite.helpers import VISION
from paddleport.rewrite.transforms import TransformInput, transform
from paddleport.rewrite.transforms.optim import keyword_arguments

# torchvision InterpolationMode member → Paddle's interpolation string (the same PIL filter)
INTERPOLATION = {"NEAREST": "nearest", "BILINEAR": "bilinear", "BICUBIC": "bicubic", "BOX": "box",
                 "HAMMING": "hamming", "LANCZOS": "lanczos"}  # fmt: skip


@transform
def interpolation_mode(t: TransformInput) -> cst.BaseExpression:
    """``InterpolationMode.BILINEAR`` → ``'bilinear'``: Paddle names the filter with a string."""
    name = t.rule.api.rsplit(".", 1)[-1]
    if name not in INTERPOLATION:
        raise Unconvertible(f"Paddle has no {name.lower()} interpolation")
    return cst.SimpleString(f"'{INTERPOLATION[name]}'")


@transform
def unwrap_lambda(t: TransformInput) -> cst.BaseExpression:
    """``transforms.Lambda(f)`` → ``f``: Paddle's Compose calls any callable."""
    fn = t.bound.value("lambd")
    if fn is None or t.bound.extra_keywords or t.bound.passthrough_star:
        raise Unconvertible("Lambda without its function")
    return fn


def _is_literal(node: cst.BaseExpression | None, *values: str) -> bool:
    return isinstance(node, cst.Name) and node.value in values


@transform
def vision_model(t: TransformInput) -> cst.BaseExpression:
    """``resnet18(weights=None)`` → ``paddle.vision.models.resnet18()``; asking for pretrained
    weights (``weights=ResNet18_Weights.DEFAULT``, ``'DEFAULT'``, ``pretrained=True``) becomes
    ``pretrained=True``, Paddle's own ImageNet weights, for review."""
    assert isinstance(t.mapped, cst.Call)
    if t.bound.extra_keywords or t.bound.passthrough_star:
        names = ", ".join(code_of(a.keyword) if a.keyword else "**" for a in t.bound.extra_keywords)
        raise Unconvertible(f"{names or '*args/**kwargs'}: Paddle's constructor has no such argument "
                            "(it takes num_classes and with_pool): build the network class by hand")
    weights, pretrained = t.bound.value("weights"), t.bound.value("pretrained")
    drop = {id(a) for name in ("weights", "pretrained") if (a := t.bound.by_name.get(name)) is not None}
    args = [a for a in t.mapped.args if not (a.keyword is not None and a.keyword.value in
                                              ("weights", "pretrained"))]  # fmt: skip
    args = [a for a in args if id(a) not in drop]
    wants = []
    for name, value, off in (("weights", weights, ("None",)), ("pretrained", pretrained, ("False", "None"))):
        if value is None or _is_literal(value, *off):
            continue
        if _is_literal(value, "True") or isinstance(value, (cst.SimpleString, cst.Attribute)):
            wants.append(f"{name}={code_of(value)}")
            continue
        raise Unconvertible(f"`{name}` is computed at run time: torchvision's and Paddle's pretrained "
                            "weights differ, so decide by hand (pretrained=True loads Paddle's)")
    if not wants:
        return t.mapped.with_changes(args=_last_comma(args))
    t.notes.append(f"{', '.join(wants)} → pretrained=True: Paddle's own ImageNet weights, trained apart "
                   "from torchvision's, so outputs differ (download from Paddle's servers); for the same "
                   "numbers convert torchvision's state dict with `paddleport weights`")
    flag = cst.Arg(keyword=cst.Name("pretrained"), value=cst.Name("True"),
                   equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
    return t.mapped.with_changes(args=[flag, *_last_comma(args, trailing=True)] if args else [flag])


def _last_comma(args: list[cst.Arg], trailing: bool = False) -> list[cst.Arg]:
    """Arguments re-joined: a comma after each but the last."""
    out = []
    for i, a in enumerate(args):
        last = i == len(args) - 1
        if last and not trailing:
            out.append(a.with_changes(comma=cst.MaybeSentinel.DEFAULT))
        elif not last and a.comma is cst.MaybeSentinel.DEFAULT:
            out.append(a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))))
        else:
            out.append(a)
    return out


@transform
def vision_dataset(t: TransformInput) -> cst.BaseExpression:
    """``FashionMNIST(root, train=True, ...)`` → ``_paddleport_vision.FashionMNIST(root, train=True, ...)``:
    a helper class with torchvision's signature that reads the files torchvision keeps under root and
    gives int labels (Paddle's own datasets take file paths and give [1]-shaped label arrays)."""
    assert isinstance(t.original, cst.Call)
    if t.bound.value("download") is not None and not _is_literal(t.bound.value("download"), "False"):
        t.notes.append("download: when root has no copy, the helper fetches torchvision's files into root "
                       "with Paddle's downloader (paddle.utils.download)")
    return t.original.with_changes(func=cst.parse_expression(f"{VISION}.{helper_name(t.rule.api)}"))


@transform
def folder_labels(t: TransformInput) -> cst.BaseExpression:
    """``ImageFolder(root, transform, target_transform=f)`` → Paddle's DatasetFolder, its labels
    passed through ``target_transform`` by the helper (Paddle's folders have no such argument)."""
    assert isinstance(t.mapped, cst.Call)
    target = t.bound.value("target_transform")
    if target is None or _is_literal(target, "None"):
        return t.mapped
    kept = [a for a in t.mapped.args if a.value is not target]
    inner = t.mapped.with_changes(args=_last_comma(kept))
    return cst.Call(func=cst.parse_expression(f"{VISION}.Labels"),
                    args=[cst.Arg(inner, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                          cst.Arg(target)])  # fmt: skip


@transform
def vision_helper(t: TransformInput) -> cst.BaseExpression:
    """``torchvision.ops.box_iou(a, b)`` → ``_paddleport_vision.box_iou(a, b)``: a helper written
    into the file (see ``rewrite/helpers.py``) where Paddle has no function."""
    assert isinstance(t.mapped, cst.Call)
    return t.mapped.with_changes(func=cst.parse_expression(f"{VISION}.{helper_name(t.rule.api)}"))


HELPER_NAMES = {"torchvision.transforms.RandomCrop.get_params": "random_crop_params",
                "torch.backends.cuda.sdp_kernel": "sdpa_kernel"}


def helper_name(api: str) -> str:
    """The ``_paddleport_vision`` member a torchvision API becomes."""
    return HELPER_NAMES.get(api, api.rsplit(".", 1)[-1])


@transform
def member_name(t: TransformInput) -> cst.BaseExpression:
    """An enum member → its name: ``ImageReadMode.RGB`` → ``'RGB'`` (the read_image helper takes the
    mode's name), ``SDPBackend.MATH`` → ``'MATH'`` (the sdpa_kernel helper takes and ignores it)."""
    return cst.SimpleString(f"'{t.rule.api.rsplit('.', 1)[-1]}'")


@transform
def data_loader(t: TransformInput) -> cst.BaseExpression:
    """``DataLoader(ds, batch_size=4, sampler=s)`` → ``_paddleport_vision.DataLoader(ds, batch_size=4,
    sampler=s)``: the helper batches the sampler's indices with a BatchSampler, as torch does (Paddle's
    DataLoader takes no sampler). Without ``sampler=`` the call stays Paddle's DataLoader."""
    call = keyword_arguments(t)
    assert isinstance(call, cst.Call)
    sampler = t.bound.value("sampler")
    if sampler is None:
        return call
    if _is_literal(sampler, "None"):  # torch's default: Paddle's DataLoader has no such keyword
        kept = [a for a in call.args if not (a.keyword is not None and a.keyword.value == "sampler")]
        return call.with_changes(args=_last_comma(kept))
    if t.bound.value("batch_sampler") is not None and not _is_literal(t.bound.value("batch_sampler"), "None"):
        raise Unconvertible("sampler and batch_sampler together: torch refuses them as well")
    return call.with_changes(func=cst.parse_expression(f"{VISION}.DataLoader"))


@transform
def solve_triangular(t: TransformInput) -> cst.BaseExpression:
    """``solve_triangular(A, B, upper=u)`` → ``paddle.linalg.triangular_solve(A, B, upper=u)``; with
    ``left=`` other than a literal True (X A = B, which Paddle does not solve) the helper
    ``_paddleport_vision.solve_triangular`` takes torch's arguments and solves Aᵀ Xᵀ = Bᵀ."""
    left = t.bound.value("left")
    if left is None or _is_literal(left, "True"):
        return t.mapped
    assert isinstance(t.original, cst.Call)
    return t.original.with_changes(func=cst.parse_expression(f"{VISION}.solve_triangular"))
