"""What the analysis reports: one ``Use`` per place torch is referenced."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from paddleport.rules.model import Rule


class UseKind(enum.Enum):
    CALL = "call"  # torch.sum(x), nn.Conv2d(...), L(...) where L = nn.Linear
    REFERENCE = "reference"  # a torch callable used as a value: norm_layer=nn.BatchNorm2d
    BASE = "base"  # class M(nn.Module)
    TYPE_CHECK = "type_check"  # isinstance(m, nn.Conv2d): a class compared, never called
    ANNOTATION = "annotation"  # x: torch.Tensor
    ATTRIBUTE = "attribute"  # torch.float32
    METHOD_CALL = "method_call"  # x.view(2, 3) where x is a tensor
    TENSOR_ATTRIBUTE = "tensor_attribute"  # x.device
    IMPORT = "import"  # import torch.nn as nn
    FACTORY_KWARGS = "factory_kwargs"  # dd = {'device': device, 'dtype': dtype}, splatted as **dd
    LOOKUP = "lookup"  # hasattr(F, 'gelu'), getattr(nn, name), nn.__dict__: a torch module searched by name
    # `class L(nn.CrossEntropyLoss)` with no `__init__`: its callers construct torch's base, whose
    # rule adds Paddle arguments torch implies (`axis=1`); `statement` holds the body's indentation
    INHERITED_INIT = "inherited_init"
    PROMOTE = "promote"  # `b` in `randn(2) + b` (int64 b): an operand torch promotes and Paddle refuses to
    # `step_t += 1` where step_t is an item of a `List[Tensor]`: torch writes in place (the list sees
    # it), Paddle's `+=` binds a new tensor to the name
    INPLACE = "inplace"


class Confidence(enum.IntEnum):
    """How sure the analysis is that the use really is torch.

    Names resolved through imports are certain; tensor methods depend on what
    is known about the receiver.
    """

    LOW = 1  # the method name matches, the receiver's type is unknown
    MEDIUM = 2  # a tensor-only method name, or a receiver that is very likely a tensor
    HIGH = 3  # resolved through imports, or a receiver known to be a tensor


@dataclass(frozen=True, slots=True)
class Use:
    api: str  # canonical torch name; the rule id when a rule exists
    rule: Rule | None
    kind: UseKind
    start: int  # string offsets of the text a rewrite replaces
    end: int
    focus_start: int  # string offsets of the text to highlight (the name, not the whole call)
    focus_end: int
    confidence: Confidence = Confidence.HIGH
    via_alias: bool = False  # the callee is a local alias such as L = nn.Linear
    store: bool = False  # an attribute that is assigned to: x.requires_grad = False
    via_default: bool = False  # the callee is a parameter whose default is this class
    # a class reference that stays the Paddle class itself, not one taking torch's arguments
    # (rewrite.adapters): the value of an alias (`L = nn.Linear`), or compared (`type(m) == nn.Linear`)
    plain_class: bool = False
    splats: tuple[str, ...] = ()  # `**dd` arguments of this call that are device/dtype dicts: dropped
    # The use is a whole statement on lines of its own (`cudnn.benchmark = True`,
    # `torch.set_float32_matmul_precision("high")`): its indentation, so the rule's
    # `statement` can replace it; None otherwise.
    statement: str | None = None
    keep_layout: bool = False  # a layer whose parameters the code assigns: keep torch's layout
    open_files: frozenset[str] = frozenset()  # argument names bound by an enclosing `with open(...) as f`
    # PROMOTE: the floating dtype (Paddle code: `'float32'`, `x.dtype`) the operand is cast to, and
    # whether its own dtype is unknown (cast at run time only if it is an integer or bool tensor)
    promote_to: str | None = None
    promote_runtime: bool = False
