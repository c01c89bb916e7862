"""Which Paddle names (and layouts) a checkpoint's torch names become, from the rules' ``weights`` fields.

With the converted model's structure (``ModelLayout``, from a child process that built it under
Paddle), each torch key goes to the deepest Paddle layer whose rule layout knows its local name.
Without it, layers are recognised by their parameter names (``running_mean`` means BatchNorm,
``weight_ih_l0`` an RNN); where names alone cannot tell (a 2-D ``weight`` may be a Linear's or an
Embedding's), the layout a rule marks ``guess`` is used and the key is listed as unsure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from paddleport.rules.loader import RuleSet
from paddleport.rules.model import WeightLayout

GENERIC = frozenset({"weight", "bias"})


@dataclass(frozen=True)
class Target:
    """One Paddle parameter made from one torch tensor."""

    name: str
    split: tuple[int, int] | None = None  # part i of k along axis 0
    transpose: bool = False
    reshape: tuple[int, ...] | None = None
    aliases: tuple[str, ...] = ()  # more Paddle names of the same data (written once)

    def describe(self) -> str:
        ops = (
            ([f"part {self.split[0] + 1}/{self.split[1]}"] if self.split else [])
            + (["transposed"] if self.transpose else [])
            + ([f"reshaped to {list(self.reshape)}"] if self.reshape else [])
        )
        return f"{self.name} ({', '.join(ops)})" if ops else self.name


@dataclass(frozen=True)
class Layout:
    """A rule's layout for one Paddle class; ``layout`` None: the class keeps torch's layout."""

    api: str
    paddle: str
    layout: WeightLayout | None


@dataclass
class Plan:
    targets: dict[str, list[Target]] = field(default_factory=dict)  # torch key → what it becomes
    dropped: dict[str, str] = field(default_factory=dict)  # torch key → why
    unsure: dict[str, str] = field(default_factory=dict)  # torch key → why (names alone)
    layers: dict[str, str] = field(default_factory=dict)  # layer prefix → the rule applied


def layouts(rules: RuleSet) -> dict[str, Layout]:
    """Paddle class name → the layout its parameters have relative to torch's."""
    out: dict[str, Layout] = {}
    for rule in rules:
        for weights in rule.weights:
            cls = weights.layer or rule.paddle
            if cls is not None:
                out[cls] = Layout(rule.api, cls, weights)
        if rule.weights and rule.torch_layout:
            out[rule.torch_layout] = Layout(rule.api, rule.torch_layout, None)
    return out


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern(name: str) -> re.Pattern[str]:
    if name not in _PATTERNS:
        _PATTERNS[name] = re.compile(re.escape(name).replace(r"\{n\}", r"(?P<n>\d+)") + r"\Z")
    return _PATTERNS[name]


def match(layout: WeightLayout, local: str) -> tuple[str, dict[str, str]] | None:
    """The layout's name pattern ``local`` is, with its ``{n}``."""
    for name in layout.names:
        found = _pattern(name).match(local)
        if found:
            return name, found.groupdict()
    return None


def _fmt(pattern: str, values: Mapping[str, str]) -> str:
    out = pattern
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


def apply(
    layout: WeightLayout | None, locals_: Mapping[str, tuple[int, ...]]
) -> tuple[dict[str, list[Target]], dict[str, str]]:
    """A layer's local torch names → local Paddle targets, and the names dropped (with why)."""
    if layout is None:
        return {n: [Target(n)] for n in locals_}, {}
    bidirectional = any(n.endswith("_reverse") for n in locals_)
    out: dict[str, list[Target]] = {}
    dropped: dict[str, str] = {}
    for local in locals_:
        found = match(layout, local)
        if found is None:
            out[local] = [Target(local)]
            continue
        pattern, values = found
        values = {**values, "cell": "cell_fw" if bidirectional else "cell"}
        if pattern in layout.drop:
            dropped[local] = "Paddle's layer has no such parameter"
            continue
        names = layout.split.get(pattern) or (layout.rename.get(pattern, pattern),)
        aliases = (_fmt(layout.alias[pattern], values),) if pattern in layout.alias else ()
        targets = []
        for i, dst in enumerate(names):
            transpose = dst in layout.transpose
            reshape = layout.reshape.get(dst)
            split = (i, len(names)) if len(names) > 1 else None
            targets.append(Target(_fmt(dst, values), split, transpose, reshape, aliases))
        out[local] = targets
    return out, dropped


def _fits(
    layout: WeightLayout, direct: Mapping[str, tuple[int, ...]], nested: Mapping[str, tuple[int, ...]]
) -> bool:
    """By names alone: every direct name is the layout's, its required names are there, ranks agree."""
    present = {**direct, **{k: v for k, v in nested.items() if match(layout, k)}}
    if any(match(layout, n) is None for n in direct):
        return False
    for required in layout.params:
        if not any(_pattern(required).match(n) for n in present):
            return False
    for name, rank in layout.ndim.items():
        for n, shape in present.items():
            if _pattern(name).match(n) and len(shape) != rank:
                return False
    return True


def plan_by_names(shapes: Mapping[str, tuple[int, ...]], table: Mapping[str, Layout]) -> Plan:
    """Recognise layers from their parameter names; say which keys that could not settle."""
    plan = Plan()
    # the layouts of the classes paddleport converts to; extra ones (nn.MultiHeadAttention) need --model
    defaults = [lay for lay in table.values() if lay.layout is not None and lay.layout.layer is None]
    prefixes = sorted({k.rpartition(".")[0] for k in shapes}, key=lambda p: (p.count("."), p))
    claimed: set[str] = set()
    for prefix in prefixes:
        lead = f"{prefix}." if prefix else ""
        under = {k[len(lead) :]: s for k, s in shapes.items() if k.startswith(lead) and k not in claimed}
        direct = {n: s for n, s in under.items() if "." not in n}
        if not direct:
            continue
        nested = {n: s for n, s in under.items() if "." in n}
        fits = [lay for lay in defaults if lay.layout is not None and _fits(lay.layout, direct, nested)]
        outcomes: list[tuple[Layout | None, dict[str, list[Target]], dict[str, str]]] = []
        for fit in fits:
            owned = {n: s for n, s in under.items() if fit.layout is not None and match(fit.layout, n)}
            outcomes.append((fit, *apply(fit.layout, owned)))
        generic = set(direct) <= GENERIC
        if generic or not fits:
            outcomes.append((None, *apply(None, direct)))
        chosen = outcomes[0]
        if len({repr((o[1], o[2])) for o in outcomes}) > 1:
            guesses = [
                o for o in outcomes if o[0] is not None and o[0].layout is not None and o[0].layout.guess
            ]
            chosen = guesses[0] if len(guesses) == 1 else next(o for o in outcomes if o[0] is None)
            what = chosen[0].api if chosen[0] else "kept as is"
            others = sorted({o[0].api if o[0] else "a layer without a rule (kept as is)" for o in outcomes
                             if repr((o[1], o[2])) != repr((chosen[1], chosen[2]))})  # fmt: skip
            for local in chosen[1]:
                if any(o[1].get(local) != chosen[1][local] for o in outcomes):
                    plan.unsure[lead + local] = (
                        f"{what}; could also be {' or '.join(others)} (pass --model to know)"
                    )
        lay, targets, dropped = chosen
        if lay is not None:
            plan.layers[prefix] = lay.api
        for local, tgts in targets.items():
            plan.targets[lead + local] = [_prefixed(lead, t) for t in tgts]
            claimed.add(lead + local)
        for local, why in dropped.items():
            plan.dropped[lead + local] = f"{why} ({lay.api if lay else ''})"
            claimed.add(lead + local)
    return plan


def _prefixed(lead: str, t: Target) -> Target:
    return Target(lead + t.name, t.split, t.transpose, t.reshape, tuple(lead + a for a in t.aliases))


@dataclass
class ModelLayout:
    """What the child process saw in the converted model built under Paddle."""

    layers: dict[str, str]  # sublayer prefix ("" the root) → the Paddle class (a key of the layouts table)
    params: dict[str, tuple[tuple[int, ...], str]]  # state_dict name → (shape, dtype)
    ties: list[list[str]]  # state_dict names that are one tensor

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelLayout:
        return cls(dict(data["layers"]), {k: (tuple(v[0]), str(v[1])) for k, v in data["params"].items()},
                   [list(t) for t in data["ties"]])  # fmt: skip


def plan_by_model(
    shapes: Mapping[str, tuple[int, ...]], table: Mapping[str, Layout], model: ModelLayout
) -> Plan:
    """Each key goes to the deepest Paddle layer whose layout knows its local name."""
    plan = Plan()
    groups: dict[str, dict[str, tuple[int, ...]]] = {}
    for key, shape in shapes.items():
        parts = key.split(".")
        chosen = ""
        for i in range(len(parts) - 1, -1, -1):
            prefix = ".".join(parts[:i])
            cls = model.layers.get(prefix)
            lay = table.get(cls) if cls else None
            if lay is None:
                continue
            local = ".".join(parts[i:])
            if lay.layout is None or match(lay.layout, local) or i == len(parts) - 1:
                chosen = prefix
                break
        groups.setdefault(chosen, {})[key] = shape
    for prefix, keys in groups.items():
        cls = model.layers.get(prefix)
        lay = table.get(cls) if cls else None
        lead = f"{prefix}." if prefix else ""
        locals_ = {k[len(lead) :]: s for k, s in keys.items()}
        targets, dropped = apply(lay.layout if lay else None, locals_)
        if lay is not None:
            plan.layers[prefix] = f"{lay.api} ({lay.paddle})"
        for local, tgts in targets.items():
            plan.targets[lead + local] = [_prefixed(lead, t) for t in tgts]
        for local, why in dropped.items():
            plan.dropped[lead + local] = f"{why} ({lay.api if lay else ''})"
    tie_of = {name: group for group in model.ties for name in group}
    for key, tgts in plan.targets.items():
        plan.targets[key] = [
            Target(t.name, t.split, t.transpose, t.reshape,
                   tuple(dict.fromkeys([*t.aliases, *(n for n in tie_of.get(t.name, []) if n != t.name)])))
            for t in tgts
        ]  # fmt: skip
    return plan


def all_names(plan: Plan) -> Iterable[str]:
    for tgts in plan.targets.values():
        for t in tgts:
            yield t.name
            yield from t.aliases
