"""Equivalence results as a text table, for the terminal and the editor's log."""

from __future__ import annotations

from typing import Any


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def table(result: dict[str, Any]) -> str:
    """The per-output table with a header (target, call) and a footer (times, verdict)."""
    lines = []
    head = result.get("target", "?")
    if result.get("kind"):
        head += f" ({result['kind']}, line {result.get('line')})"
    lines.append(head)
    if result.get("call"):
        lines.append(f"  call: {result['call']}  [example from {result.get('call_source')}]")
    rows = [("output", "shape", "dtype", "max_abs", "max_rel", "result")]
    for leaf in result.get("leaves", []):
        shape = "-" if leaf["shape"] is None else "[" + ", ".join(map(str, leaf["shape"])) + "]"
        verdict = "ok" if leaf["ok"] else "FAIL" + (f" ({leaf['detail']})" if leaf["detail"] else "")
        rows.append(
            (
                leaf["path"],
                shape,
                leaf["dtype"] or "-",
                _num(leaf["max_abs"]),
                _num(leaf["max_rel"]),
                verdict,
            )
        )
    if len(rows) > 1:
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for r in rows:
            lines.append(
                "  " + "  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5]
            )
    for note in result.get("notes", []):
        lines.append(f"  note: {note}")
    loc = result.get("location")
    if loc:
        lines.append(
            f"  first difference: line {loc['line']} in {loc['function']}, `{loc['variable']}` "
            f"(assignment {loc['assignment']}): {loc['code']}"
        )
        lines.append(f"    {loc['detail']}")
    for side in ("torch", "paddle"):
        info = result.get(side) or {}
        err = info.get("error")
        if err:
            where = f"line {err['line']}: {err['code']}" if err.get("line") else f"({err.get('stage')})"
            lines.append(f"  {side} error at {where}")
            if err.get("converted_code") and err["converted_code"] != err.get("code"):
                lines.append(f"    converted: {err['converted_code']}")
            lines.append(f"    {err['type']}: {err['message']}")
        if info.get("output", "").strip():
            lines.append(f"  {side} printed: " + info["output"].strip().replace("\n", "\n    ")[-500:])
    if result.get("torch") and result.get("paddle") and result["status"] != "error":
        t, p = result["torch"], result["paddle"]
        extra = f"; check {result['seconds']:.2f} s" if "seconds" in result else ""
        if result.get("kernel_started"):
            extra += " including kernel start"
        t_ms, p_ms = t["seconds"] * 1000, p["seconds"] * 1000
        lines.append(f"  time: torch {t_ms:.1f} ms, paddle {p_ms:.1f} ms{extra}")
    lines.append(f"{result['status'].upper()}: {result.get('message', '')}")
    return "\n".join(lines)
