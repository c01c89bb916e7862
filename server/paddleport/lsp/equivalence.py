"""The editor's way into the equivalence check: a command, a code lens, a diagnostic.

``paddleport.checkEquivalence`` with ``[{uri, position: {line, character}, example?, grad?}]``
runs the function or class at the position under torch and its conversion under
paddle in a warm kernel (``paddleport.kernel``), off the event loop, with
work-done progress. The verdict becomes an Information diagnostic on the
definition (kept in ``server.extra_diagnostics[uri]`` and merged with the
server's own through ``server.republish(uri)``), the table goes to the log and
the result is returned as JSON. User code runs only on this explicit request,
never on open or save, and not at all when ``equivalenceEnabled`` is false.
torch and paddle are never imported here: only the kernel process loads them.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer

from paddleport.analysis.finder import analyze
from paddleport.analysis.source import SourceText
from paddleport.analysis.uses import UseKind
from paddleport.kernel.check import Options, check_target
from paddleport.kernel.report import table
from paddleport.kernel.session import KernelSession
from paddleport.kernel.target import Target, TargetError, parse_module, target_at, top_level_targets

COMMAND = "paddleport.checkEquivalence"
SOURCE = "paddleport-equivalence"
DISABLED = (
    "Paddleport: equivalence checks run your code and are disabled in this workspace "
    "(untrusted, or paddleport.equivalenceEnabled is false)."
)


class _Kernels:
    """One warm kernel per server, replaced when the chosen interpreter changes."""

    def __init__(self) -> None:
        self.session: KernelSession | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paddleport-equiv")
        atexit.register(self.close)

    def for_python(self, python: str) -> KernelSession:
        if self.session is None or self.session.python != python:
            if self.session is not None:
                self.session.shutdown()
            self.session = KernelSession(python=python)
        return self.session

    def close(self) -> None:
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


def _definition_range(text: str, target: Target) -> types.Range:
    line = target.line - 1
    src = SourceText(text)
    body = src.line_text(target.line)
    start = len(body) - len(body.lstrip())
    return types.Range(types.Position(line, start), types.Position(line, len(body)))


def _line_range(text: str, line: int) -> types.Range:
    src = SourceText(text)
    body = src.line_text(line) if 1 <= line <= len(src.line_starts) else ""
    start = len(body) - len(body.lstrip())
    return types.Range(types.Position(line - 1, start), types.Position(line - 1, len(body)))


def result_diagnostics(text: str, target: Target, result: dict[str, Any]) -> list[types.Diagnostic]:
    """The verdict on the definition, plus the line it points at (first difference or crash)."""
    data = {"target": target.name}
    out = [
        types.Diagnostic(
            range=_definition_range(text, target),
            message=f"Equivalence ({result.get('call', target.name)}): {result['message']}",
            severity=types.DiagnosticSeverity.Information,
            source=SOURCE,
            code=result["status"],
            data=data,
        )
    ]
    where: tuple[int, str] | None = None
    loc = result.get("location")
    if loc and loc.get("line"):
        where = (loc["line"], f"Equivalence: first difference here, in `{loc['variable']}`")
    for side in ("torch", "paddle"):
        err = (result.get(side) or {}).get("error")
        if err and err.get("line"):
            where = (
                err["line"],
                f"Equivalence: the {side} side failed here: {err['type']}: {err['message']}",
            )
            break
    if where is not None and where[0] != target.line:
        out.append(
            types.Diagnostic(
                range=_line_range(text, where[0]),
                message=where[1],
                severity=types.DiagnosticSeverity.Information,
                source=SOURCE,
                code=result["status"],
                data=data,
            )
        )
    return out


def _store(ls: Any, uri: str, target: str, diagnostics: list[types.Diagnostic]) -> None:
    """Replace this target's earlier result in ``extra_diagnostics[uri]``, keep everything else."""
    extra: dict[str, list[types.Diagnostic]] = ls.extra_diagnostics
    kept = [
        d
        for d in extra.get(uri, [])
        if not (d.source == SOURCE and isinstance(d.data, dict) and d.data.get("target") == target)
    ]
    extra[uri] = kept + diagnostics


def republish(ls: Any, uri: str) -> None:
    """The server's own ``republish`` when it has one; else publish its last diagnostics + extras."""
    own_republish = getattr(ls, "republish", None)
    if callable(own_republish):
        own_republish(uri)
        return
    own: list[types.Diagnostic] = []
    states = getattr(ls, "states", None)
    if isinstance(states, dict):
        key = ls.key_for(uri) if hasattr(ls, "key_for") else uri
        state = states.get(key)
        diags = getattr(state, "diagnostics", None)
        if isinstance(diags, dict):
            own = list(diags.get(uri, []))
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=own + ls.extra_diagnostics.get(uri, []))
    )


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


async def run_command(ls: Any, kernels: _Kernels, args: tuple[Any, ...]) -> dict[str, Any]:
    uri, line, example, grad = _parse_args(args)
    if not _setting(ls, "equivalence_enabled", True):
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=DISABLED))
        return {"status": "refused", "message": DISABLED}
    text = ls.get_text(uri)
    try:
        target = target_at(text, line + 1)
    except TargetError as exc:
        return _report(ls, uri, None, text, {"status": "error", "message": str(exc)})
    if target is None:
        message = f"no top-level function or class at line {line + 1}: put the cursor inside one"
        return _report(ls, uri, None, text, {"status": "error", "message": message})
    python = _setting(ls, "kernel_interpreter", "") or sys.executable
    session = kernels.for_python(python)
    options = Options(
        example=example,
        grad=grad,
        timeout=float(_setting(ls, "timeout", 60.0)),
        rtol=float(_setting(ls, "rtol", 1e-5)),
        atol=float(_setting(ls, "atol", 1e-6)),
    )
    path = uris.to_fs_path(uri) or uri
    token: str | None = None
    if _client_supports_progress(ls):
        token = f"paddleport-equiv-{os.getpid()}-{id(target)}-{line}"
        try:
            await asyncio.wait_for(ls.work_done_progress.create_async(token), timeout=5)
            ls.work_done_progress.begin(
                token,
                types.WorkDoneProgressBegin(
                    title=f"Paddleport: checking {target.name}",
                    cancellable=False,
                    message="starting the kernel (torch and paddle)" if not session.alive else "running",
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
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))
    return _report(ls, uri, target, text, result)


def _report(ls: Any, uri: str, target: Target | None, text: str, result: dict[str, Any]) -> dict[str, Any]:
    """Log the table, show the verdict as diagnostics, return the JSON result."""
    if target is not None:
        result.setdefault("target", target.name)
        _store(ls, uri, target.name, result_diagnostics(text, target, result))
        republish(ls, uri)
    kind = types.MessageType.Info if result["status"] == "equal" else types.MessageType.Warning
    ls.window_log_message(
        types.LogMessageParams(type=kind, message="paddleport equivalence\n" + table(result))
    )
    if target is None:
        ls.window_show_message(types.ShowMessageParams(type=kind, message=f"Paddleport: {result['message']}"))
    return result


def code_lenses(ls: Any, uri: str) -> list[types.CodeLens]:
    if not _setting(ls, "enable", True) or not _setting(ls, "equivalence_enabled", True):
        return []
    try:
        text = ls.get_text(uri)
    except Exception:
        return []
    lenses = []
    for t in torch_targets(text, ls):
        pos = types.Position(t.first_line - 1, 0)
        arg = {"uri": uri, "position": {"line": t.line - 1, "character": 0}}
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

    @server.command(COMMAND)
    async def check_equivalence(ls: Any, *args: Any) -> dict[str, Any]:
        return await run_command(ls, kernels, args)

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def code_lens(ls: Any, params: types.CodeLensParams) -> list[types.CodeLens]:
        return code_lenses(ls, params.text_document.uri)
