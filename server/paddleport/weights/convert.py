"""Convert one checkpoint to ``.pdparams``: plan every name first, then stream tensor by tensor.

Everything that can fail by looking (a refused pickle, a shape the model does not take) fails before
the first byte is written; reading a tensor can still fail (a bad checksum), and then the temporary
output is removed, so an output file always holds a whole conversion.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paddleport.rules.loader import RuleSet
from paddleport.weights import CheckpointError
from paddleport.weights.checkpoint import Checkpoint, open_checkpoint
from paddleport.weights.layout import ModelLayout, Plan, Target, layouts, plan_by_model, plan_by_names
from paddleport.weights.pdparams import PdparamsWriter


@dataclass
class Report:
    source: str
    output: str
    tensors: int = 0
    written: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    seconds: float = 0.0
    with_model: bool = False
    layers: dict[str, str] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)  # torch key → what it became (when changed)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    reshaped: dict[str, str] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    unsure: dict[str, str] = field(default_factory=dict)
    tied: dict[str, str] = field(default_factory=dict)  # torch key → the key whose data it shares
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    paddle_check: dict[str, list[str]] | None = None  # what paddle's set_state_dict reported on the output

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def result_shape(shape: tuple[int, ...], t: Target) -> tuple[int, ...]:
    out = list(shape)
    if t.split:
        out[0] //= t.split[1]
    if t.transpose:
        out = out[::-1]
    if t.reshape:
        known = int(np.prod([n for n in t.reshape if n != -1], dtype=np.int64)) or 1
        total = int(np.prod(out, dtype=np.int64))
        out = [total // known if n == -1 else n for n in t.reshape]
    return tuple(out)


def transform(array: np.ndarray[Any, Any], t: Target, final: tuple[int, ...]) -> np.ndarray[Any, Any]:
    if t.split:
        i, k = t.split
        step = array.shape[0] // k
        array = array[i * step : (i + 1) * step]
    if t.transpose:
        array = array.T
    if tuple(array.shape) != final:
        array = np.ascontiguousarray(array).reshape(final)
    return array


def convert_checkpoint(
    source: Path, output: Path, rules: RuleSet, model: ModelLayout | None = None, allow_missing: bool = False
) -> Report:
    """Plan, check against the model if given, write; raises CheckpointError on what stops it."""
    started = time.perf_counter()
    report = Report(str(source), str(output), with_model=model is not None)
    checkpoint = open_checkpoint(source)
    try:
        _convert(checkpoint, output, rules, model, report, allow_missing)
    finally:
        checkpoint.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _convert(
    checkpoint: Checkpoint,
    output: Path,
    rules: RuleSet,
    model: ModelLayout | None,
    report: Report,
    allow_missing: bool,
) -> None:
    report.notes += checkpoint.notes
    tensors = checkpoint.tensors
    if tensors and all(k.startswith("module.") for k in tensors) and not (
            model and any(k.startswith("module.") for k in model.params)):  # fmt: skip
        tensors = {k[len("module.") :]: v for k, v in tensors.items()}
        report.notes.append("the 'module.' prefix of (Distributed)DataParallel was removed from every key")
    report.tensors = len(tensors)
    report.bytes_in = sum(ref.nbytes for ref in tensors.values())
    shapes = {k: ref.shape for k, ref in tensors.items()}
    table = layouts(rules)
    plan: Plan = plan_by_model(shapes, table, model) if model else plan_by_names(shapes, table)
    report.layers, report.dropped, report.unsure = plan.layers, plan.dropped, plan.unsure
    finals: dict[tuple[str, int], tuple[int, ...]] = {}
    skip: set[str] = set()
    for key, tgts in plan.targets.items():
        for j, t in enumerate(tgts):
            shape = result_shape(shapes[key], t)
            if t.transpose and len(shapes[key]) != 2:
                report.errors.append(
                    f"{key}: a transpose needs a 2-D tensor, the checkpoint has {list(shapes[key])}"
                )
            if model is not None:
                expected = model.params.get(t.name)
                if expected is None:
                    report.unexpected.append(f"{key} → {t.name}" if t.name != key else key)
                    skip.add(t.name)
                    continue
                want = expected[0]
                if want != shape:
                    if int(np.prod(want, dtype=np.int64)) == int(np.prod(shape, dtype=np.int64)):
                        report.reshaped[t.name] = f"{list(shape)} → {list(want)}"
                        shape = want
                    else:
                        report.errors.append(
                            f"{key} → {t.name}: shape {list(shape)}, the model has {list(want)}"
                        )
                dtype = tensors[key].dtype
                if expected[1].replace("paddle.", "") != dtype:
                    report.dtypes[t.name] = (
                        f"checkpoint {dtype}, model {expected[1].replace('paddle.', '')} (kept)"
                    )
            elif t.reshape:
                report.reshaped[t.name] = f"{list(shapes[key])} → {list(shape)}"
            finals[(key, j)] = shape
        described = ", ".join(t.describe() for t in tgts)
        if described != key:
            report.renamed[key] = described
    if model is not None:
        produced = {
            n
            for tgts in plan.targets.values()
            for t in tgts
            if t.name not in skip
            for n in (t.name, *t.aliases)
        }
        tied = {n for group in model.ties if produced & set(group) for n in group}
        report.missing = sorted(n for n in model.params if n not in produced and n not in tied)
    if report.missing and not allow_missing:
        report.errors.append("the model has parameters the checkpoint does not provide (--allow-missing "
                             "writes the rest): " + ", ".join(report.missing[:50]))  # fmt: skip
    if report.errors:
        raise CheckpointError("the checkpoint does not fit the model:\n  " + "\n  ".join(report.errors))
    seen: dict[tuple[Any, ...], str] = {}
    primary = {t.name for tgts in plan.targets.values() for t in tgts}
    with PdparamsWriter(output) as writer:
        for key, tgts in plan.targets.items():
            ref = tensors[key]
            if ref.identity in seen and seen[ref.identity] != key:
                report.tied[key] = seen[ref.identity]
            seen.setdefault(ref.identity, key)
            array: np.ndarray[Any, Any] | None = None
            for j, t in enumerate(tgts):
                if t.name in skip:
                    continue
                share = (ref.identity, t.split, t.transpose, finals[(key, j)])
                if not writer.alias(t.name, share):
                    if array is None:
                        array = ref.read()
                    writer.add(t.name, transform(array, t, finals[(key, j)]), key=share)
                report.written += 1
                for name in t.aliases:
                    if name not in primary and name not in skip:
                        writer.alias(name, share)
            del array
    report.bytes_out = writer.bytes_written
