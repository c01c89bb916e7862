"""One equivalence check end to end: find the target, convert, run both sides in the kernel.

Shared by ``paddleport equiv`` and the language server's command; no torch or
paddle here (they run in the kernel). The result is a plain JSON-able dict.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from paddleport.kernel.linemap import line_map
from paddleport.kernel.session import KernelError, KernelSession
from paddleport.kernel.target import (
    Target,
    TargetError,
    definitions_only,
    find_target,
    resolve_call,
)
from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner

EXIT_CODES = {"equal": 0, "mismatch": 1, "error": 2}


@dataclass
class Options:
    example: str | None = None
    grad: bool = False
    timeout: float = 60.0
    rtol: float = 1e-5
    atol: float = 1e-6
    locate: bool = True
    definitions_only: bool = False  # notebooks: skip top-level statements that do work
    checkpoint: str | None = None  # torch weights for the torch side
    pdparams: str | None = None  # the same weights converted by `paddleport weights`, for the paddle side
    converted: str | None = None  # a folder the paddle side imports first: converted packages


def _error(message: str, **extra: Any) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "leaves": [],
        "torch": None,
        "paddle": None,
        "notes": [],
        "location": None,
        **extra,
    }


def prepare(text: str, path: str, target: Target, planner: Planner, options: Options) -> dict[str, Any]:
    """The request the kernel runs; TargetError when the example or conversion is unusable."""
    call = resolve_call(text, target, options.example)
    if options.definitions_only:
        text = definitions_only(text)
    conversion = convert_source(text, planner)
    if conversion.error:
        raise TargetError(f"the file cannot be converted: {conversion.error}")
    return {
        "path": path,
        "source": text,
        "converted": conversion.code,
        "line_map": line_map(text, conversion.code),
        "target": target.name,
        "kind": target.kind,
        "call": call.text,
        "call_source": call.source,
        "callee": call.callee,
        "arguments": call.arguments,
        "grad": options.grad,
        "rtol": options.rtol,
        "atol": options.atol,
        "locate": options.locate,
        "checkpoint": options.checkpoint,
        "pdparams": options.pdparams,
        "converted_root": options.converted,
        "counts": conversion.counts(),
    }


def check_target(
    session: KernelSession,
    text: str,
    path: str,
    target: Target | str,
    planner: Planner,
    options: Options,
) -> dict[str, Any]:
    """Run ``target`` from ``text`` under torch and its conversion under paddle; compare."""
    started = time.perf_counter()
    try:
        tgt = find_target(text, target) if isinstance(target, str) else target
    except TargetError as exc:
        return _error(str(exc), target=target if isinstance(target, str) else target.name)
    info: dict[str, Any] = {"target": tgt.name, "kind": tgt.kind, "line": tgt.line}
    try:
        request = prepare(text, path, tgt, planner, options)
    except TargetError as exc:
        return _error(str(exc), **info)
    info.update(call=request["call"], call_source=request["call_source"], counts=request["counts"])
    was_alive = session.alive
    try:
        outcome = session.run(request, options.timeout)
    except KernelError as exc:
        return _error(str(exc), **info)
    info.update(
        kernel_started=not was_alive,
        restarted=outcome.restarted,
        seconds=round(time.perf_counter() - started, 4),
    )
    if outcome.data is None:
        return _error(outcome.error or "the kernel gave no result", **info)
    result = {**outcome.data, **info}
    result["message"] = summary(result, options)
    return result


def summary(result: dict[str, Any], options: Options) -> str:
    """One line for a diagnostic or a terminal."""
    status = result["status"]
    if status == "error":
        for side in ("torch", "paddle"):
            err = (result.get(side) or {}).get("error")
            if err:
                where = f" at line {err['line']}" if err.get("line") else ""
                stage = " while building the example inputs" if err.get("stage") == "example" else ""
                text = f"{side} side failed{where}{stage}: {err['type']}: {err['message']}"
                left = (result.get("counts") or {}).get("manual", 0)
                if "not importable on the paddle side" in err["message"] and left:
                    text += f" ({left} torch use(s) left to port by hand: see `paddleport check`)"
                return text.strip()
        return result.get("message") or "error"
    leaves = result.get("leaves", [])
    t_ms, p_ms = result["torch"]["seconds"] * 1000, result["paddle"]["seconds"] * 1000
    times = f"torch {t_ms:.1f} ms, paddle {p_ms:.1f} ms"
    if status == "equal":
        return f"equal: {len(leaves)} output(s) match (rtol={options.rtol:g}, atol={options.atol:g}; {times})"
    bad = [leaf for leaf in leaves if not leaf["ok"]]
    first = bad[0]
    what = first["detail"] or f"max_abs={first['max_abs']:.3g} max_rel={first['max_rel']:.3g}"
    text = f"mismatch: {len(bad)} of {len(leaves)} output(s) differ; {first['path']}: {what}"
    loc = result.get("location")
    layer = result.get("layer")
    if layer:
        classes = f"{layer['torch_class']} → {layer['paddle_class']}"
        text += f"; first diverging layer: {layer['layer']} ({classes}): {layer['detail']}"
    if loc:
        text += f"; first difference at line {loc['line']} (`{loc['variable']}`: {loc['code']})"
    return text
