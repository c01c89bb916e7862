"""Statement-level tidying after per-use rewrites.

Per-use rewrites must stay single expressions. Where a rewrite had to pack
two steps into one expression and the expression is a whole assignment, the
steps become two plain statements again:

    sched = (lambda scheduler: opt.set_lr_scheduler(scheduler) or scheduler)(StepDecay(...))

becomes

    sched = StepDecay(...)
    opt.set_lr_scheduler(sched)
"""

from __future__ import annotations

import ast

from paddleport.analysis.source import SourceText
from paddleport.rewrite.edits import TextEdit, apply_edits

_MARK = "set_lr_scheduler(scheduler) or scheduler"


def split_scheduler_attachments(code: str) -> str:
    if _MARK not in code:
        return code
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    src = SourceText(code)
    edits: list[TextEdit] = []
    for node in ast.walk(tree):
        parts = _attachment(node)
        if parts is None:
            continue
        assert isinstance(node, ast.Assign)
        name, optimizer, scheduler = parts
        start, end = src.node_span(node)
        line_start = src.line_starts[node.lineno - 1]
        indent = code[line_start:start]
        if indent.strip():  # `a = 1; sched = ...`: leave it in one expression
            continue
        sched_text = code[slice(*src.node_span(scheduler))]
        opt_text = code[slice(*src.node_span(optimizer))]
        attach = f"{opt_text}.set_lr_scheduler({name})"
        edits.append(TextEdit(start, end, f"{name} = {sched_text}{src.newline}{indent}{attach}"))
    return apply_edits(code, edits) if edits else code


def _attachment(node: ast.AST) -> tuple[str, ast.expr, ast.expr] | None:
    """(target name, optimizer expr, scheduler expr) for the packed form, else None."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)):  # fmt: skip
        return None
    call = node.value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Lambda) and len(call.args) == 1):
        return None
    body = call.func.body
    if not (isinstance(body, ast.BoolOp) and isinstance(body.op, ast.Or) and len(body.values) == 2):
        return None
    attach = body.values[0]
    if not (isinstance(attach, ast.Call) and isinstance(attach.func, ast.Attribute)
            and attach.func.attr == "set_lr_scheduler"):  # fmt: skip
        return None
    return node.targets[0].id, attach.func.value, call.args[0]
