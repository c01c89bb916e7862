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
                                     "vision_dataset", "vision_helper"})


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
    statement: str | None = None  # what a whole statement using it becomes ($value / $param)
    torch_layout: str | None = None  # the Paddle class keeping torch's parameter layout
    file_arg: str | None = None  # a parameter taking a path or a file object; Paddle takes the path

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
    def writes_code(self) -> bool:
        """Its transform writes the whole Paddle expression, so it needs no ``paddle`` name."""
        return self.transform in CODE_WRITING_TRANSFORMS

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
        )

    def summary(self, used: Collection[str] | None = None, packed: bool = True) -> str:
        """One line for messages: ``torch.nn.Conv2d → paddle.nn.Conv2D (bias → bias_attr)``.

        With ``used`` (the arguments one call passes) only the changes that call
        gets are named; without it, everything the rule can do.
        """
        if not self.converts:
            return f"{self.api}: {self.guide or 'no automatic conversion'}"
        if self.paddle is None:
            return f"{self.api} → `{self.statement_code}`" if self.statement else f"{self.api} → Paddle code"
        details = [f"{a} → {b}" for a, b in self.rename.items() if used is None or a in used]
        details += [f"drop {a}" for a in self.drop if used is None or a in used]
        if self.pack and packed:
            details.append(f"*{self.pack} → list")
        if self.transform and used is None:
            details.append(self.transform.replace("_", " "))
        tail = f" ({', '.join(details)})" if details else ""
        return f"{self.api} → {self.paddle}{tail}"
