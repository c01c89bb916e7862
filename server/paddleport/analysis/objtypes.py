"""The type model for values built from torch: modules, optimizers, schedulers, loaders.

A type is a string:

- a canonical torch class (``torch.nn.BatchNorm2d``, ``torch.optim.AdamW``, ``torch.Tensor``);
- a class of the analysed file, ``local:Net`` (a project index may add its own keys the same way);
- a container of types: ``iter[torch.nn.Module]`` (what a ``for`` loop yields),
  ``tuple[builtins.str,torch.nn.Module]`` (what ``named_modules()`` yields);
- a builtin or numpy type (``builtins.str``, ``numpy.ndarray``): values that are never tensors.

Member rules are spelled on the torch class that defines the member
(``torch.nn.Module.named_modules``, ``torch.nn._BatchNorm.running_mean``,
``torch.optim.Optimizer.param_groups``, ``torch.optim.lr_scheduler.LRScheduler.get_last_lr``);
:func:`mro` walks from a concrete class up to them with :data:`TORCH_BASES`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

TENSOR = "torch.Tensor"
MODULE = "torch.nn.Module"
OPTIMIZER = "torch.optim.Optimizer"
SCHEDULER = "torch.optim.lr_scheduler.LRScheduler"
DATASET = "torch.utils.data.Dataset"
DISTRIBUTION = "torch.distributions.Distribution"
AUTOGRAD_FUNCTION = "torch.autograd.Function"
# what `ctx` is in the static forward/backward of a torch.autograd.Function subclass
FUNCTION_CTX = "torch.autograd.function.FunctionCtx"
STR, LIST, DICT, TUPLE, INT, FLOAT, BOOL = (
    "builtins.str", "builtins.list", "builtins.dict", "builtins.tuple", "builtins.int",
    "builtins.float", "builtins.bool",
)  # fmt: skip
NDARRAY = "numpy.ndarray"
LOCAL = "local:"
# What a class written as `class C(torch.optim.Optimizer)` derives from once converted: the helper with
# torch's Optimizer API (rewrite/helpers.py), so its instances keep torch's members and no member rule of
# torch.optim.Optimizer (spelled for Paddle's optimizers: `param_groups` → get_lr()) applies to them.
HELPER_OPTIMIZER = "paddleport.helpers.Optimizer"

# Parents of torch classes where they are not simply "the namespace's base class"
# (see :func:`torch_parent`). Private bases are spelled canonically (torch.nn._BatchNorm).
TORCH_BASES: dict[str, str] = {
    **{f"torch.nn.{n}": "torch.nn._BatchNorm" for n in (
        "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LazyBatchNorm1d",
        "LazyBatchNorm2d", "LazyBatchNorm3d")},
    **{f"torch.nn.{n}": "torch.nn._ConvNd" for n in (
        "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")},
    **{f"torch.nn.{n}": "torch.nn.RNNBase" for n in ("RNN", "LSTM", "GRU")},
    "torch.nn.RNNBase": MODULE,
    "torch.nn._BatchNorm": MODULE,
    "torch.nn._ConvNd": MODULE,
    "torch.nn.Parameter": TENSOR,
    "torch.nn.Buffer": TENSOR,
    "torch.utils.data.TensorDataset": DATASET,
    "torch.utils.data.IterableDataset": DATASET,
    "torch.utils.data.Subset": DATASET,
    "torch.utils.data.ConcatDataset": DATASET,
    "torch.optim.lr_scheduler._LRScheduler": SCHEDULER,
}
# torch classes with a type of their own but no base worth naming
TORCH_ROOTS = frozenset({
    TENSOR, MODULE, OPTIMIZER, SCHEDULER, DATASET, "torch.utils.data.DataLoader",
    "torch.Generator", "torch.device", "torch.dtype", "torch.utils.data.Sampler",
    AUTOGRAD_FUNCTION, FUNCTION_CTX, DISTRIBUTION,
})  # fmt: skip
NOT_TENSOR = frozenset({STR, LIST, DICT, TUPLE, INT, FLOAT, BOOL, NDARRAY, "builtins.set",
                        "builtins.bytes", "builtins.NoneType"})  # fmt: skip
# Namespaces whose capitalised names are not classes with instances we type.
_NOT_CLASSES = frozenset({"torch.nn.functional", "torch.nn.init", "torch.nn.utils"})


@functools.lru_cache(maxsize=4096)
def torch_parent(cls: str) -> str | None:
    """The parent of a torch class in the type model, or None at a root or for a non-class."""
    parent = TORCH_BASES.get(cls)
    if parent is not None or cls in TORCH_ROOTS:
        return parent
    namespace, _, name = cls.rpartition(".")
    if not name[:1].isupper() or namespace in _NOT_CLASSES:
        return None
    if namespace == "torch.nn":
        return MODULE
    if namespace == "torch.optim":
        return OPTIMIZER
    if namespace == "torch.optim.lr_scheduler":
        return SCHEDULER
    if namespace == "torch.utils.data" and name.endswith("Dataset"):
        return DATASET
    if namespace == "torch.distributions" and not name.endswith("Transform"):
        return DISTRIBUTION
    return None


def is_torch_class(cls: str) -> bool:
    """A torch path that the model knows as a class with instances (so a call builds one)."""
    return cls in TORCH_ROOTS or torch_parent(cls) is not None


@dataclass
class TypeFacts:
    """What is known about classes that are not torch's: their bases and attribute types.

    Built per file from its ``class`` statements; a project-wide index can pass in
    the same facts for classes imported from other files, keyed by the name the
    file binds them to (``from .backbone import Backbone`` → ``local:Backbone``).
    """

    bases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # class -> base types
    attrs: dict[str, dict[str, str]] = field(default_factory=dict)  # class -> self.<attr> -> type

    _mro: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    _members: dict[tuple[str, str, bool], str | None] = field(default_factory=dict, repr=False,
                                                               compare=False)  # fmt: skip

    def changed(self) -> None:
        """Forget memoised ancestries and member types after ``bases`` or ``attrs`` changed."""
        self._mro.clear()
        self._members.clear()

    def mro(self, cls: str) -> list[str]:
        """The class, then its bases depth first (local ones, then torch's), without repeats."""
        hit = self._mro.get(cls)
        if hit is None:
            hit = self._mro[cls] = self._compute_mro(cls)
        return hit

    def _compute_mro(self, cls: str) -> list[str]:
        out: list[str] = []
        stack = [cls]
        while stack and len(out) < 64:
            c = stack.pop(0)
            if c in out:
                continue
            out.append(c)
            local = self.bases.get(c)
            if local is not None:
                stack = [*local, *stack]
                continue
            parent = torch_parent(c)
            if parent is not None:
                stack.insert(0, parent)
        return out

    def torch_base(self, cls: str) -> str | None:
        """The first torch class in ``cls``'s ancestry (``local:Net`` → ``torch.nn.Module``)."""
        for c in self.mro(cls):
            if c.startswith("torch."):
                return c
        return None

    def attr(self, cls: str, name: str) -> str | None:
        for c in self.mro(cls):
            found = self.attrs.get(c, {}).get(name)
            if found is not None:
                return found
        return None

    def is_a(self, cls: str, base: str) -> bool:
        return base in self.mro(cls)


def iter_element(t: str, facts: TypeFacts) -> str | None:
    """What iterating over a value of type ``t`` yields."""
    if t.startswith("iter[") or t.startswith("list["):
        return t[t.index("[") + 1 : -1]
    if facts.is_a(t, "torch.nn.Sequential") or facts.is_a(t, "torch.nn.ModuleList"):
        return MODULE
    if facts.is_a(t, "torch.nn.ModuleDict"):
        return STR
    if facts.is_a(t, "torch.nn.ParameterList"):
        return TENSOR
    return None


def item_type(t: str, facts: TypeFacts) -> str | None:
    """What ``value[i]`` gives for a value of type ``t``."""
    if t.startswith("list["):
        return t[5:-1]
    if t == TENSOR:
        return TENSOR
    if facts.is_a(t, "torch.nn.Sequential") or facts.is_a(t, "torch.nn.ModuleList") or facts.is_a(
        t, "torch.nn.ModuleDict"
    ):
        return MODULE
    if facts.is_a(t, "torch.nn.ParameterList") or facts.is_a(t, "torch.nn.ParameterDict"):
        return TENSOR
    return None


def unpack(t: str, n: int) -> list[str | None]:
    """The element types of a ``tuple[...]`` type unpacked into ``n`` names."""
    if t.startswith("tuple[") and t.endswith("]"):
        parts = _split_top(t[6:-1])
        if len(parts) == n:
            return list(parts)
    return [None] * n


def _split_top(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


_SELF = "self"
# What calling a member returns (on the class that defines it); "self" is the receiver's type.
MEMBER_RESULTS: dict[str, str] = {
    **{f"{MODULE}.{m}": _SELF for m in (
        "to", "cuda", "cpu", "train", "eval", "half", "float", "double", "bfloat16",
        "requires_grad_", "apply", "type", "to_empty", "share_memory")},
    f"{MODULE}.modules": f"iter[{MODULE}]",
    f"{MODULE}.children": f"iter[{MODULE}]",
    f"{MODULE}.named_modules": f"iter[tuple[{STR},{MODULE}]]",
    f"{MODULE}.named_children": f"iter[tuple[{STR},{MODULE}]]",
    f"{MODULE}.parameters": f"iter[{TENSOR}]",
    f"{MODULE}.buffers": f"iter[{TENSOR}]",
    f"{MODULE}.named_parameters": f"iter[tuple[{STR},{TENSOR}]]",
    f"{MODULE}.named_buffers": f"iter[tuple[{STR},{TENSOR}]]",
    f"{MODULE}.state_dict": DICT,
    f"{MODULE}.extra_repr": STR,
    f"{MODULE}.get_submodule": MODULE,
    f"{MODULE}.__call__": TENSOR,
    f"{MODULE}.forward": TENSOR,
    f"{OPTIMIZER}.state_dict": DICT,
    f"{SCHEDULER}.state_dict": DICT,
    f"{SCHEDULER}.get_last_lr": f"list[{FLOAT}]",
    f"{SCHEDULER}.get_lr": f"list[{FLOAT}]",
    "torch.Generator.manual_seed": "torch.Generator",
    "torch.Generator.initial_seed": INT,
    "torch.Generator.get_state": TENSOR,
}
# Attribute types (on the class that defines them).
ATTRIBUTE_TYPES: dict[str, str] = {
    f"{OPTIMIZER}.param_groups": f"list[{DICT}]",
    f"{OPTIMIZER}.state": DICT,
    f"{SCHEDULER}.optimizer": OPTIMIZER,
    f"{SCHEDULER}.last_epoch": INT,
    f"{SCHEDULER}.base_lrs": f"list[{FLOAT}]",
    f"{MODULE}.training": BOOL,
    "torch.nn._BatchNorm.running_mean": TENSOR,
    "torch.nn._BatchNorm.running_var": TENSOR,
    "torch.nn._BatchNorm.num_batches_tracked": TENSOR,
    "torch.nn._BatchNorm.weight": TENSOR,
    "torch.nn._BatchNorm.bias": TENSOR,
    "torch.nn.Linear.weight": TENSOR,
    "torch.nn.Linear.bias": TENSOR,
    "torch.nn.Linear.in_features": INT,
    "torch.nn.Linear.out_features": INT,
    "torch.nn._ConvNd.weight": TENSOR,
    "torch.nn._ConvNd.bias": TENSOR,
    "torch.nn._ConvNd.kernel_size": TUPLE,
    "torch.nn.Embedding.weight": TENSOR,
    "torch.nn.LayerNorm.weight": TENSOR,
    "torch.nn.LayerNorm.bias": TENSOR,
    "torch.utils.data.DataLoader.dataset": DATASET,
    "torch.utils.data.DataLoader.batch_size": INT,
}


def member_result(cls: str, name: str, facts: TypeFacts, call: bool) -> str | None:
    """The type of ``value.name(...)`` (``call``) or ``value.name`` for a value of type ``cls``."""
    key = (cls, name, call)
    if key in facts._members:
        return facts._members[key]
    found = _member_result(cls, name, facts, call)
    facts._members[key] = found
    return found


def _member_result(cls: str, name: str, facts: TypeFacts, call: bool) -> str | None:
    table = MEMBER_RESULTS if call else ATTRIBUTE_TYPES
    for c in facts.mro(cls):
        found = table.get(f"{c}.{name}")
        if found is not None:
            return cls if found == _SELF else found
        if not call:
            attr = facts.attrs.get(c, {}).get(name)
            if attr is not None:
                return attr
    return None
