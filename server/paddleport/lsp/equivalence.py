"""The editor's way into the equivalence check: a command, a code lens, a diagnostic.

``paddleport.checkEquivalence`` with ``[{uri, position: {line, character}, example?, grad?}]``
runs the function or class at the position under torch and its conversion under
paddle in a warm kernel (``paddleport.kernel``), off the event loop, with
work-done progress. The verdict becomes an Information diagnostic on the
definition (plain LSP JSON in ``server.extra_diagnostics[uri]``, merged with the
server's own through ``server.republish(uri)``), the table goes to the log and
the result is returned as JSON. User code runs only on this explicit request,
never on open or save, and not at all when ``equivalenceEnabled`` is false.
torch and paddle are never imported here: only the kernel process loads them.
"""

from __future__ import annotations

import ast
import asyncio
import atexit
import bisect
import hashlib
import itertools
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lsprotocol import types
from lsprotocol.converters import get_converter
from pygls import uris
from pygls.lsp.server import LanguageServer

from paddleport.analysis.finder import analyze
from paddleport.analysis.source import SourceText, line_starts, split_lines
from paddleport.analysis.uses import UseKind
from paddleport.kernel.check import Options, check_target
from paddleport.kernel.report import table
from paddleport.kernel.session import KernelSession
from paddleport.kernel.target import (
    Target,
    TargetError,
    parse_module,
    suggest_call,
    target_at,
    top_level_targets,
)

COMMAND = "paddleport.checkEquivalence"
IDLE_SHUTDOWN_S = 15 * 60
_tokens = itertools.count(1)
_converter = get_converter()
Json = dict[str, Any]
SOURCE = "paddleport-equivalence"
DISABLED = (
    "Paddleport: equivalence checks run your code and are disabled in this workspace "
    "(untrusted, or paddleport.equivalenceEnabled is false)."
)


class _Kernels:
    """One warm kernel per server, replaced when the chosen interpreter changes.

    It holds ~0.5 GB with torch and paddle loaded, so it is shut down after
    ``IDLE_SHUTDOWN_S`` without checks (the next check starts it again).
    """

    def __init__(self) -> None:
        self.session: KernelSession | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paddleport-equiv")
        self.last_used = time.monotonic()
        self._timer: threading.Timer | None = None
        atexit.register(self.close)

    def for_python(self, python: str) -> KernelSession:
        if self.session is None or self.session.python != python:
            if self.session is not None:
                self.session.shutdown()
            self.session = KernelSession(python=python)
        return self.session

    def touch(self) -> None:
        """A check just ran: push the idle shutdown back."""
        self.last_used = time.monotonic()
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(IDLE_SHUTDOWN_S, lambda: self.executor.submit(self._shutdown_if_idle))
        self._timer.daemon = True
        self._timer.start()

    def _shutdown_if_idle(self) -> None:
        if self.session is not None and time.monotonic() - self.last_used >= IDLE_SHUTDOWN_S - 1:
            self.session.shutdown()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.session is not None:
            self.session.shutdown()


def _setting(ls: Any, name: str, default: Any) -> Any:
    return getattr(getattr(ls, "settings", None), name, default)


def _parse_args(args: tuple[Any, ...]) -> tuple[str, int, str | None, bool]:
    first = args[0] if args else None
    if isinstance(first, list) and first:  # arguments passed as one list
        first = first[0]
    if not isinstance(first, dict) or not isinstance(first.get("uri"), str):
        raise ValueError(f"{COMMAND} expects [{{uri, position: {{line, character}}, example?}}]")
    position = first.get("position") or {}
    line = position.get("line", 0) if isinstance(position, dict) else 0
    example = first.get("example")
    return (
        first["uri"],
        int(line),
        example if isinstance(example, str) and example.strip() else None,
        bool(first.get("grad", False)),
    )


class _Lines:
    """Where a line of the checked text lives in the editor: the file, or one notebook cell."""

    def __init__(self, text: str, uri: str, cells: list[tuple[str, int]] | None = None) -> None:
        self.lines = split_lines(text)
        self.cells = cells or [(uri, 0)]  # (uri, 0-based first line in the text), in order

    def locate(self, line: int) -> tuple[str, types.Range]:
        """The uri and whole-line range (leading spaces skipped) of 1-based ``line``."""
        uri, first = self.cells[0]
        for cell_uri, cell_first in self.cells:
            if cell_first <= line - 1:
                uri, first = cell_uri, cell_first
        body = self.lines[line - 1] if 1 <= line <= len(self.lines) else ""
        local = line - 1 - first
        start = len(body) - len(body.lstrip())
        return uri, types.Range(types.Position(local, start), types.Position(local, len(body)))


SEVERITY = {
    "equal": types.DiagnosticSeverity.Information,
    "mismatch": types.DiagnosticSeverity.Warning,
    "error": types.DiagnosticSeverity.Error,
}
LABEL = {"equal": "✓", "mismatch": "✗", "error": "⚠"}


def _block_digest(lines: _Lines, target: Target) -> str:
    """What a verdict was computed on: the definition's lines, its example comment included."""
    first = max(target.first_line - 3, 1)
    text = "\n".join(lines.lines[first - 1 : target.end_line])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def result_diagnostics(lines: _Lines, target: Target, result: dict[str, Any]) -> dict[str, list[Json]]:
    """The verdict on the definition, plus the line it points at (first difference or crash).

    Plain LSP JSON, like the server's own diagnostics, so the two lists can be merged as is.
    The severity tells pass (information), mismatch (warning) and could-not-check (error)
    apart; ``data`` remembers the definition's text so the verdict can follow it (``relocate``).
    """
    status = str(result.get("status", "error"))
    severity = SEVERITY.get(status, types.DiagnosticSeverity.Error)
    label = LABEL.get(status, status)
    text = str(result["message"])
    if status == "error" and not text.startswith("error"):
        text = f"could not check: {text}"
    marks = [(target.line, f"Equivalence {label} ({result.get('call', target.name)}): {text}")]
    loc = result.get("location")
    if loc and loc.get("line"):
        marks.append((loc["line"], f"Equivalence {label}: first difference here, in `{loc['variable']}`"))
    for side in ("torch", "paddle"):
        err = (result.get(side) or {}).get("error")
        if err and err.get("line"):
            why = f"Equivalence {label}: the {side} side failed here: {err['type']}: {err['message']}"
            marks.append((err["line"], why))
            break
    digest = _block_digest(lines, target)
    extra: Json = {}
    if status == "error" and str(result.get("message", "")).startswith("cannot make inputs"):
        # what the "add the example comment" quick fix inserts, above the first decorator
        extra = {"example": example_call(target), "above": target.line - target.first_line}
    out: dict[str, list[Json]] = {}
    for line, message in marks[:2]:
        if line == target.line and out:
            continue
        uri, rng = lines.locate(line)
        diagnostic = types.Diagnostic(
            range=rng,
            message=message,
            severity=severity,
            source=SOURCE,
            code=status,
            data={"target": target.name, "block": digest, "delta": line - target.line, **extra},
        )
        out.setdefault(uri, []).append(_converter.unstructure(diagnostic))
    return out


# What the first layer built in ``__init__`` takes as input, given its first argument ``n``.
_LAYER_INPUT = {
    "Linear": "randn(2, {n})",
    "Bilinear": "randn(2, {n})",
    "Conv1d": "randn(2, {n}, 16)",
    "Conv2d": "randn(2, {n}, 32, 32)",
    "Conv3d": "randn(2, {n}, 8, 8, 8)",
    "ConvTranspose2d": "randn(2, {n}, 8, 8)",
    "BatchNorm1d": "randn(2, {n})",
    "BatchNorm2d": "randn(2, {n}, 8, 8)",
    "LayerNorm": "randn(2, 8, {n})",
    "Embedding": "randint(0, {n}, (2, 8))",
    "LSTM": "randn(2, 8, {n})",
    "GRU": "randn(2, 8, {n})",
    "RNN": "randn(2, 8, {n})",
}
_WIDTH = 16  # the value given to a required constructor parameter without a default


def fitting_example(target: Target) -> str | None:
    """An example call for a module whose input shape follows from its first layer, or None.

    ``class Head(nn.Module): __init__(self, width): self.fc = nn.Linear(width, 2)`` gives
    ``Head(16)(randn(2, 16))``: the constructor's required parameters get 16, and the
    forward input is what the first ``Linear``/``Conv*``/``Embedding``/… built takes.
    """
    node = target.node
    if not isinstance(node, ast.ClassDef):
        return None
    methods = {n.name: n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    init, forward = methods.get("__init__"), methods.get("forward")
    if forward is None:
        return None
    values: dict[str, str] = {}
    init_args: list[str] = []
    if init is not None:
        params = [*init.args.posonlyargs, *init.args.args][1:]
        defaults = [None] * (len(params) - len(init.args.defaults)) + list(init.args.defaults)
        for param, default in zip(params, defaults, strict=True):
            if default is None:
                values[param.arg] = str(_WIDTH)
                init_args.append(str(_WIDTH))
            elif isinstance(default, ast.Constant) and isinstance(default.value, int):
                values[param.arg] = str(default.value)
    first_input = None
    for call in ast.walk(init) if init is not None else ():
        if not isinstance(call, ast.Call) or not call.args:
            continue
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name not in _LAYER_INPUT:
            continue
        arg = call.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, int):
            first_input = _LAYER_INPUT[name].format(n=arg.value)
        elif isinstance(arg, ast.Name) and arg.id in values:
            first_input = _LAYER_INPUT[name].format(n=values[arg.id])
        if first_input is not None:
            break
    if first_input is None:
        return None
    forward_params = [*forward.args.posonlyargs, *forward.args.args][1:]
    required = len(forward_params) - len(forward.args.defaults)
    forward_args = [first_input] + ["randn(2, 3)"] * max(required - 1, 0)
    return f"{target.name}({', '.join(init_args)})({', '.join(forward_args)})"


def example_call(target: Target) -> str:
    """The example to propose for ``target``: one that fits its first layer, else the generic one."""
    return fitting_example(target) or suggest_call(target)


def editor_hint(target: Target, message: str) -> str:
    """"cannot make inputs" in the editor's terms: the comment to write, and where."""
    if not message.startswith("cannot make inputs"):
        return message
    why = message.split(": give an example", 1)[0]
    call = example_call(target)
    keyword = "class" if target.kind == "class" else "def"
    return (
        f"{why}. Write the inputs as a comment on the line above line {target.first_line} "
        f"(`{keyword} {target.name}`): # paddleport: example {call}"
    )


def example_actions(uri: str, text: str, diagnostics: Any) -> list[types.CodeAction]:
    """For a "could not make inputs" verdict: insert the proposed ``# paddleport: example`` comment."""
    out = []
    lines = split_lines(text)
    for d in diagnostics:
        data = d.data if isinstance(d.data, dict) else {}
        if d.source != SOURCE or not isinstance(data.get("example"), str):
            continue
        line = max(d.range.start.line - int(data.get("above", 0)), 0)
        body = lines[line] if line < len(lines) else ""
        indent = body[: len(body) - len(body.lstrip())]
        at = types.Position(line, 0)
        edit = types.TextEdit(types.Range(at, at), f"{indent}# paddleport: example {data['example']}\n")
        out.append(
            types.CodeAction(
                title=f"Paddleport: add the example comment `# paddleport: example {data['example']}`",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[d],
                is_preferred=True,
                edit=types.WorkspaceEdit(changes={uri: [edit]}),
            )
        )
    return out


def relocate(ls: Any, key: str) -> set[str]:
    """Move each verdict of ``key``'s document with its definition, or drop it if that changed.

    Called after every analysis while verdicts exist; returns the uris whose verdicts changed.
    While the text does not parse the verdicts stay where they are.
    """
    extra: dict[str, list[Json]] = ls.extra_diagnostics
    view = ls.view(key)
    if view is None:
        return set()
    uris_ = [c.uri for c in view.cells.cells] if view.cells is not None else [key]
    ours = {u: [d for d in extra.get(u, []) if _is_result_for(d, None)] for u in uris_}
    if not any(ours.values()):
        return set()
    text, _, lines, _ = _document(ls, key, 0)
    try:
        targets = {t.name: t for t in top_level_targets(parse_module(text))}
    except TargetError:
        return set()
    moved: dict[str, list[Json]] = {}
    for found in ours.values():
        for d in found:
            data = d["data"]
            target = targets.get(data["target"])
            if target is None or _block_digest(lines, target) != data.get("block"):
                continue  # the definition changed: the verdict no longer holds
            uri, rng = lines.locate(target.line + int(data.get("delta", 0)))
            moved.setdefault(uri, []).append({**d, "range": _converter.unstructure(rng)})
    changed = set()
    for u in uris_:
        kept = [d for d in extra.get(u, []) if not _is_result_for(d, None)] + moved.get(u, [])
        if kept != extra.get(u, []):
            changed.add(u)
            extra[u] = kept
    return changed


def _is_result_for(diagnostic: Any, target: str | None) -> bool:
    """Whether ``diagnostic`` is a verdict (on ``target``, or on any target when None)."""
    if not isinstance(diagnostic, dict):
        return False
    data = diagnostic.get("data")
    if diagnostic.get("source") != SOURCE or not isinstance(data, dict):
        return False
    return target is None or data.get("target") == target


def _store(ls: Any, uris_: list[str], target: str, found: dict[str, list[Json]]) -> None:
    """Replace this target's earlier result in ``extra_diagnostics``, keep everything else."""
    extra: dict[str, list[Json]] = ls.extra_diagnostics
    for uri in {*uris_, *found}:
        kept = [d for d in extra.get(uri, []) if not _is_result_for(d, target)]
        extra[uri] = kept + found.get(uri, [])


def republish(ls: Any, uri: str) -> None:
    """The server's own ``republish`` when it has one; else publish its last diagnostics + extras."""
    own_republish = getattr(ls, "republish", None)
    if callable(own_republish):
        own_republish(uri)
        return
    own: list[Json] = []
    states = getattr(ls, "states", None)
    if isinstance(states, dict):
        key = ls.key_for(uri) if hasattr(ls, "key_for") else uri
        state = states.get(key)
        diags = getattr(state, "diagnostics", None)
        if isinstance(diags, dict):  # the server's own, as JSON or lsprotocol objects
            own = [d if isinstance(d, dict) else _converter.unstructure(d) for d in diags.get(uri, [])]
    merged = own + list(ls.extra_diagnostics.get(uri, []))
    publish_json = getattr(ls, "publish_json", None)
    if callable(publish_json):
        publish_json(uri, None, merged)
        return
    diagnostics = [_converter.structure(d, types.Diagnostic) for d in merged]
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics))


def torch_targets(text: str, ls: Any) -> list[Target]:
    """Top-level functions and classes whose body uses torch (those worth a code lens)."""
    try:
        tree = parse_module(text)
    except TargetError:
        return []
    analysis = analyze(text, ls.planner.rules)
    src = SourceText(text)
    lines = sorted({src.position(u.start)[0] for u in analysis.uses if u.kind is not UseKind.IMPORT})
    return [t for t in top_level_targets(tree) if any(t.first_line <= n <= t.end_line for n in lines)]


def _client_supports_progress(ls: LanguageServer) -> bool:
    caps = getattr(ls, "client_capabilities", None)
    window = getattr(caps, "window", None)
    return bool(getattr(window, "work_done_progress", False))


def _document(ls: Any, uri: str, line: int) -> tuple[str, int, _Lines, bool]:
    """The text to check, the 0-based line in it, where its lines live, and whether a notebook.

    In a notebook the cells are checked as one module (the server's joined view), so a
    function can use what earlier cells import and define.
    """
    view = ls.view(uri) if hasattr(ls, "view") else None
    cells = getattr(view, "cells", None)
    if view is not None and cells is not None:
        text = view.text
        starts = line_starts(text)
        firsts = [(c.uri, bisect.bisect_right(starts, c.start) - 1) for c in cells.cells]
        offset = next((first for cell_uri, first in firsts if cell_uri == uri), 0)
        return text, offset + line, _Lines(text, uri, firsts), True
    text = ls.get_text(uri)
    return text, line, _Lines(text, uri), False


async def run_command(ls: Any, kernels: _Kernels, args: tuple[Any, ...]) -> dict[str, Any]:
    uri, line, example, grad = _parse_args(args)
    if not _setting(ls, "equivalence_enabled", True):
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=DISABLED))
        return {"status": "refused", "message": DISABLED}
    text, line, lines, notebook = _document(ls, uri, line)
    try:
        target = target_at(text, line + 1)
    except TargetError as exc:
        return _report(ls, uri, None, lines, {"status": "error", "message": str(exc)})
    if target is None:
        message = f"no top-level function or class at line {line + 1}: put the cursor inside one"
        return _report(ls, uri, None, lines, {"status": "error", "message": message})
    python = _setting(ls, "kernel_interpreter", "") or sys.executable
    session = kernels.for_python(python)
    options = Options(
        example=example,
        grad=grad,
        timeout=float(_setting(ls, "timeout", 60.0)),
        rtol=float(_setting(ls, "rtol", 1e-5)),
        atol=float(_setting(ls, "atol", 1e-6)),
        definitions_only=notebook,
    )
    path = uris.to_fs_path(uri) or uri
    token: str | None = None
    if _client_supports_progress(ls):
        token = f"paddleport-equiv-{os.getpid()}-{next(_tokens)}"
        try:
            await asyncio.wait_for(ls.work_done_progress.create_async(token), timeout=5)
            starting = "starting the kernel (torch and paddle)" if not session.alive else "running"
            ls.work_done_progress.begin(
                token,
                types.WorkDoneProgressBegin(
                    title=f"Paddleport: checking {target.name}", cancellable=False, message=starting
                ),
            )
        except Exception:
            token = None
    loop = asyncio.get_running_loop()
    try:
        result = await loop.run_in_executor(
            kernels.executor, check_target, session, text, path, target, ls.planner, options
        )
    finally:
        kernels.touch()
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))
    return _report(ls, uri, target, lines, result)


def _report(
    ls: Any, uri: str, target: Target | None, lines: _Lines, result: dict[str, Any]
) -> dict[str, Any]:
    """Log the table, show the verdict as diagnostics, return the JSON result."""
    if target is not None:
        result.setdefault("target", target.name)
        if result.get("status") == "error":
            result["message"] = editor_hint(target, str(result.get("message", "")))
        found = result_diagnostics(lines, target, result)
        _store(ls, [uri], target.name, found)
        for changed in {uri, *found}:
            republish(ls, changed)
    kind = types.MessageType.Info if result["status"] == "equal" else types.MessageType.Warning
    ls.window_log_message(
        types.LogMessageParams(type=kind, message="paddleport equivalence\n" + table(result))
    )
    if target is None:
        ls.window_show_message(types.ShowMessageParams(type=kind, message=f"Paddleport: {result['message']}"))
    return result


def code_lenses(ls: Any, uri: str) -> list[types.CodeLens]:
    """A "Check equivalence" lens above each top-level definition that uses torch."""
    if not _setting(ls, "enable", True) or not _setting(ls, "equivalence_enabled", True):
        return []
    try:
        text, _, lines, _ = _document(ls, uri, 0)
    except Exception:
        return []
    lenses = []
    for t in torch_targets(text, ls):
        lens_uri, lens_range = lines.locate(t.first_line)
        def_uri, def_range = lines.locate(t.line)
        if lens_uri != uri or def_uri != uri:  # another cell's definition
            continue
        pos = types.Position(lens_range.start.line, 0)
        arg = {"uri": uri, "position": {"line": def_range.start.line, "character": 0}}
        lenses.append(
            types.CodeLens(
                range=types.Range(pos, pos),
                command=types.Command(title="Check equivalence", command=COMMAND, arguments=[arg]),
            )
        )
    return lenses


def register(server: LanguageServer) -> None:
    """Add the command and the code lens; give the server ``extra_diagnostics`` if it lacks it."""
    if not isinstance(getattr(server, "extra_diagnostics", None), dict):
        server.extra_diagnostics = {}  # type: ignore[attr-defined]
    kernels = _Kernels()
    server.equivalence_kernels = kernels  # type: ignore[attr-defined]
    hooks = getattr(server, "refresh_hooks", None)
    if isinstance(hooks, list):
        hooks.append(lambda key: relocate(server, key))
    action_hooks = getattr(server, "action_hooks", None)
    if isinstance(action_hooks, list):
        get_text: Any = server.get_text  # type: ignore[attr-defined]
        action_hooks.append(lambda uri, diags: example_actions(uri, get_text(uri), diags))

    @server.command(COMMAND)
    async def check_equivalence(ls: Any, *args: Any) -> dict[str, Any]:
        return await run_command(ls, kernels, args)

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def code_lens(ls: Any, params: types.CodeLensParams) -> list[types.CodeLens]:
        return code_lenses(ls, params.text_document.uri)
