"""The in-memory shape of a mapping rule.

A rule says how one torch API becomes Paddle. It is plain data loaded from TOML
(see ``rules/*.toml``); behaviour that data cannot express lives in a named
transform (``paddleport.rewrite.transforms``) that the rule refers to by name.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from paddleport.rules.signature import Signature

# Transforms that write the whole Paddle expression themselves (an expression over the
# arguments, or the receiver alone): their rules need no `paddle` name.
CODE_WRITING_TRANSFORMS = frozenset({"formula", "drop_call", "unwrap_lambda", "interpolation_mode",
                                     "vision_dataset", "vision_helper", "member_name"})



class Tier(enum.Enum):
    """How far a rewrite can be trusted.

    ``exact`` fixes are applied by fix-all; ``review`` fixes are applied but a
    human should look; ``manual`` uses get a guideline and no rewrite.
    """

    EXACT = "exact"
    REVIEW = "review"
    MANUAL = "manual"

    @property
    def rank(self) -> int:
        return {"exact": 0, "review": 1, "manual": 2}[self.value]

    def worst(self, other: Tier) -> Tier:
        return self if self.rank >= other.rank else other


class Kind(enum.Enum):
    """What a torch name is, which decides how a use of it is rewritten."""

    CALLABLE = "callable"  # functions and classes: torch.sum, torch.nn.Conv2d
    METHOD = "method"  # torch.Tensor methods: x.view(...)
    ATTRIBUTE = "attribute"  # constants and tensor attributes: torch.float32, x.shape


class Compare(enum.Enum):
    """How an example's outputs are compared between torch and paddle."""

    VALUES = "values"  # values, shapes and dtypes
    SHAPE = "shape"  # random APIs: shapes and dtypes only
    RUNS = "runs"  # side effects only (seeding, saving): both sides must run


@dataclass(frozen=True)
class Example:
    code: str
    compare: Compare = Compare.VALUES
    rtol: float = 1e-5
    atol: float = 1e-6


@dataclass(frozen=True)
class WeightLayout:
    """How a layer's torch parameters become its Paddle parameters (the rule's ``weights`` field).

    Names are local to the layer (``weight``, ``out_proj.bias``); ``{n}`` in a name stands for a
    number and is carried to the Paddle name (``weight_ih_l{n}``), ``{cell}`` in a Paddle name is
    ``cell`` for a one-direction RNN and ``cell_fw`` for a bidirectional one.
    """

    params: tuple[str, ...]  # names every such layer has: how a layer is recognised by names alone
    optional: tuple[str, ...] = ()  # names it may have
    ndim: dict[str, int] = field(default_factory=dict)  # a name's rank, when the name alone is not enough
    rename: dict[str, str] = field(default_factory=dict)
    drop: tuple[str, ...] = ()  # torch names with no Paddle counterpart (dropped with a note)
    transpose: tuple[str, ...] = ()  # Paddle names whose two axes are swapped
    split: dict[str, tuple[str, ...]] = field(default_factory=dict)  # torch name → equal parts on axis 0
    reshape: dict[str, tuple[int, ...]] = field(default_factory=dict)  # Paddle name → shape (-1 once)
    alias: dict[str, str] = field(default_factory=dict)  # torch name → another Paddle name of the same data
    layer: str | None = None  # the Paddle class this layout is for (default: the rule's ``paddle``)
    guess: bool = False  # by names alone, assume this layer when only generic names (weight, bias) are seen

    @property
    def names(self) -> tuple[str, ...]:
        return self.params + self.optional


@dataclass(frozen=True)
class Rule:
    api: str
    paddle: str | None
    tier: Tier
    kind: Kind
    source: Path
    signature: Signature | None = None
    rename: dict[str, str] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    # arguments Paddle cannot take and that change only what cannot be compared across frameworks
    # (a random generator): dropped, and a call passing one is marked review with the reason
    drop_review: dict[str, str] = field(default_factory=dict)
    pack: str | None = None
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)
    transform: str | None = None
    note: str | None = None
    guide: str | None = None
    aliases: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    returns_tensor: bool = False
    needs_gpu: bool = False  # its example cannot run without a GPU, so it stays unverified here
    # its example calls torch.npu, which only the torch_npu plugin (and an Ascend NPU) provides
    needs_npu: bool = False
    # its example calls torchvision's compiled ops or image codecs, which the torchvision wheel
    # paired with the CPU torch cannot load: unverified here, like a GPU-only example
    needs_torchvision_ops: bool = False
    statement: str | None = None  # what a whole statement using it becomes ($value / $param)
    torch_layout: str | None = None  # the Paddle class keeping torch's parameter layout
    # the member's name alone says the receiver is this torch class (`param_groups`): its wide uses
    # are rewritten on receivers of unknown type too (never on a receiver known to be something else)
    by_name: bool = False
    # a class ported by hand when subclassed or built, whose isinstance/issubclass tests still
    # convert: `isinstance(u, torch.optim.Optimizer)` → `isinstance(u, paddle.optimizer.Optimizer)`
    type_check: str | None = None
    file_arg: str | None = None  # a parameter taking a path or a file object; Paddle takes the path
    weights: tuple[WeightLayout, ...] = ()  # how a checkpoint's parameters of this layer are converted
    # positional arguments from this index on are passed by keyword (Paddle's order differs there)
    keywords_after: int | None = None
    formula: str | None = None  # the Paddle expression over `{param}` placeholders (shipped rules only)
    # a flag parameter (`return_indices`) that makes the call return (values, indices): Paddle's int32
    # indices are cast to torch's int64 when it is True
    index_flag: str | None = None
    # keyword names torch's other overloads give a parameter (`_foreach_mul_(xs, scalar=2.0)` fills
    # `other`): {overload_name: parameter}
    keyword_aliases: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.api

    @property
    def short_paddle(self) -> str | None:
        """The method or attribute name that replaces a tensor method's."""
        return None if self.paddle is None else self.paddle.rsplit(".", 1)[-1]

    @property
    def statement_code(self) -> str:
        """The statement template on one line, comments left out, for messages."""
        lines = (line.split("  #")[0].strip() for line in (self.statement or "").splitlines())
        return " ".join(line for line in lines if line)

    @property
    def converts(self) -> bool:
        """It rewrites something: as an expression (``paddle``) or as a whole statement."""
        return self.tier is not Tier.MANUAL and (
            self.paddle is not None or self.statement is not None or self.writes_code
        )

    @property
    def unverifiable_here(self) -> str | None:
        """Why its example cannot run on a CPU machine, or None."""
        if self.needs_gpu:
            return "needs a GPU: its example cannot run on this machine, so it is not verified"
        if self.needs_npu:
            return ("needs an Ascend NPU and the torch_npu plugin (torch.npu exists only with it): its "
                    "example cannot run on this machine, so it is not verified")
        if self.needs_torchvision_ops:
            return ("needs torchvision's compiled ops (torchvision._C, its image codecs), which the "
                    "torchvision wheel paired with the CPU torch cannot load: not verified")
        return None

    @property
    def writes_code(self) -> bool:
        """Its transform writes the whole Paddle expression, so it needs no ``paddle`` name."""
        return self.transform in CODE_WRITING_TRANSFORMS or self.formula is not None

    @property
    def changes_arguments(self) -> bool:
        """True when a call needs more than a new name, so a bare reference is risky."""
        return bool(
            self.rename
            or self.drop
            or self.drop_review
            or self.pack
            or self.values
            or self.defaults
            or self.transform
            or self.keywords_after is not None
            or self.formula
            or self.index_flag
        )

    def summary(self, used: Collection[str] | None = None, packed: bool = True) -> str:
        """One line for messages: ``torch.nn.Conv2d → paddle.nn.Conv2D (bias → bias_attr)``.

        With ``used`` (the arguments one call passes) only the changes that call
        gets are named; without it, everything the rule can do.
        """
        if not self.converts:
            return f"{self.api}: {self.guide or 'no automatic conversion'}"
        if self.paddle is None:
            if self.statement:
                return f"{self.api} → `{self.statement_code}`"
            return f"{self.api} → `{self.formula}`" if self.formula else f"{self.api} → Paddle code"
        details = [f"{a} → {b}" for a, b in self.rename.items() if used is None or a in used]
        details += [f"drop {a}" for a in self.drop if used is None or a in used]
        if self.pack and packed:
            details.append(f"*{self.pack} → list")
        if self.transform and used is None:
            details.append(self.transform.replace("_", " "))
        tail = f" ({', '.join(details)})" if details else ""
        return f"{self.api} → {self.paddle}{tail}"
