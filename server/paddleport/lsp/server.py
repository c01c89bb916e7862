"""The paddleport language server: thin handlers over the pure modules next to this one.

Diagnostics are pushed after a per-document debounce (or pulled, when the
client supports ``textDocument/diagnostic``). Analysis runs in a worker thread,
off the protocol loop, so a large document never stops the server answering;
a newer version cancels the running analysis of an older one, whose result is
dropped, so an older version is never published after a newer one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import hashlib
import inspect
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls import uris
from pygls.exceptions import JsonRpcInternalError
from pygls.lsp.server import LanguageServer

from paddleport import __version__
from paddleport.batch import build_index, convert_path, file_result, summarise
from paddleport.catalog import make_planner
from paddleport.files import ReadProblem, python_files, read_source
from paddleport.lsp import actions
from paddleport.lsp.diagnostics import Json, dump, rule_error_diagnostics
from paddleport.lsp.documents import ON_TYPE_MAX_CHARS, DocumentView
from paddleport.lsp.logs import send_logs_to_client
from paddleport.lsp.positions import UTF8, UTF16, UTF32
from paddleport.lsp.settings import Settings, parse_settings
from paddleport.lsp.state import Cancelled, DocState, diagnose
from paddleport.lsp.workspace import adopt as adopt_workspace
from paddleport.rewrite.fixes import Planner

log = logging.getLogger(__name__)

STATUS_NOTIFICATION = "paddleport/status"


class PaddleportServer(LanguageServer):
    """Holds the settings, the planner and one ``DocState`` per open file or notebook."""

    def __init__(self, extra_rule_dirs: Sequence[str] = ()) -> None:
        super().__init__(
            "paddleport",
            __version__,
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                notebook_selector=[
                    types.NotebookDocumentFilterWithCells(
                        cells=[types.NotebookCellLanguage(language="python")], notebook="*"
                    )
                ],
                save=True,
            ),
        )
        self.cli_rule_dirs = list(extra_rule_dirs)
        self.settings = Settings()
        self._planner: Planner | None = None  # loaded on first use, with the settings' folders
        self.states: dict[str, DocState] = {}
        self.pull_mode = False
        self.settings_problems: list[str] = []
        self._tasks: dict[str, asyncio.Task[None]] = {}
        # Analyses run here, one at a time, off the protocol loop; each has an event that a
        # newer version of its document (or closing it) sets to stop it at its next checkpoint.
        self._analysis = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paddleport-analysis")
        self._cancel: dict[str, threading.Event] = {}
        self._last_run: dict[str, float] = {}  # loop time an analysis of each key last ended
        self._rule_error_uris: set[str] = set()
        self._rule_mtimes: dict[str, float] = {}
        self._progress_count = 0
        self._writes: set[asyncio.Future[Any]] = set()  # writes of an async transport in flight
        # Diagnostics other features add (the equivalence verdicts), merged into every publish.
        self.extra_diagnostics: dict[str, list[Json]] = {}
        # Called with a document's key after each analysis, before publishing; each returns the
        # uris whose ``extra_diagnostics`` it changed (equivalence verdicts follow their code).
        self.refresh_hooks: list[Callable[[str], set[str]]] = []
        # Extra quick fixes for a uri's diagnostics (the equivalence example comment).
        self.action_hooks: list[Callable[[str, Sequence[types.Diagnostic]], list[types.CodeAction]]] = []

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """pygls' stdio server, with a reader that survives a wrong ``Content-Length`` (``stdio``)."""
        from pygls.io_ import StdoutWriter

        from paddleport.lsp import stdio

        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(
                stdio.serve(
                    stdin or sys.stdin.buffer,
                    self.thread_pool,
                    self.protocol.handle_message,
                    self.protocol.structure_message,
                    self._stop_event,
                    lambda exc: self._report_server_error(exc, JsonRpcInternalError),
                )
            )
        except BrokenPipeError:
            log.error("Connection to the client is lost! Shutting down the server.")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            for event in list(self._cancel.values()):  # let a running analysis end at once
                event.set()
            self.shutdown()  # type: ignore[no-untyped-call]

    # -- documents -----------------------------------------------------------

    @property
    def encoding(self) -> str:
        enc = str(getattr(self.workspace.position_encoding, "value", self.workspace.position_encoding))
        return enc if enc in (UTF8, UTF16, UTF32) else UTF16

    def key_for(self, uri: str) -> str:
        """The uri a document's state lives under: its notebook's for a cell."""
        notebook = self.workspace.get_notebook_document(cell_uri=uri)
        return notebook.uri if notebook is not None else uri

    def view(self, uri: str) -> DocumentView | None:
        """The open file, notebook (by its uri or a cell's), or None when not open."""
        ws = self.workspace
        notebook = ws.get_notebook_document(notebook_uri=uri) or ws.get_notebook_document(cell_uri=uri)
        if notebook is not None:
            cells = []
            for cell in notebook.cells:
                if cell.kind != types.NotebookCellKind.Code:
                    continue
                doc = ws.text_documents.get(unquote(cell.document))
                if doc is None or (doc.language_id or "python") != "python":
                    continue
                cells.append((cell.document, doc.source, doc.version))
            if not cells:
                return None
            return DocumentView.for_notebook(notebook.uri, notebook.version, cells, self.encoding)
        doc = ws.text_documents.get(unquote(uri))  # pygls keys documents unquoted
        if doc is None:
            return None
        return DocumentView(uri, doc.source, doc.version, self.encoding)

    def view_or_disk(self, uri: str) -> DocumentView:
        view = self.view(uri)
        if view is not None:
            return view
        path = uris.to_fs_path(uri)
        if path is None:
            raise ValueError(f"not a file uri: {uri}")
        return DocumentView(uri, read_source(Path(path)), None, self.encoding)

    def get_text(self, uri: str) -> str:
        """Current text of a file (open or on disk), a notebook cell, or a notebook's code cells."""
        doc = self.workspace.text_documents.get(unquote(uri))
        if doc is not None:
            return str(doc.source)
        view = self.view(uri)
        if view is not None:
            return "\n\n".join(view.cell_texts) if view.cells is not None else view.text
        return self.view_or_disk(uri).text

    # -- analysis --------------------------------------------------------------

    def schedule(self, uri: str, delay: float) -> None:
        """Analyse ``uri``'s document after ``delay`` seconds, replacing any pending or running one.

        Leading and trailing debounce: a change after a quiet spell is analysed at
        once; changes that follow quickly wait ``delay`` and coalesce. An analysis
        already running for an older version is told to stop and its result dropped.
        """
        if not self.settings.enable:
            return
        key = self.key_for(uri)
        pending = self._tasks.pop(key, None)
        if pending is not None:
            pending.cancel()
        self._stop_analysis(key)
        if self.pull_mode:
            return  # the client asks when it wants results
        loop = asyncio.get_running_loop()
        if pending is None and loop.time() - self._last_run.get(key, float("-inf")) > delay:
            delay = 0
        self._tasks[key] = loop.create_task(self._run_later(key, delay))

    def _stop_analysis(self, key: str) -> None:
        running = self._cancel.pop(key, None)
        if running is not None:
            running.set()

    async def _run_later(self, key: str, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            await self.refresh_async(key)
        finally:
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]
        self._last_run[key] = asyncio.get_running_loop().time()

    async def refresh_async(
        self, key: str, *, publish: bool = True, stale_ok: bool = False
    ) -> DocState | None:
        """``refresh`` with the analysis in a worker thread, so the server answers meanwhile.

        The result is dropped (None) when the analysis was cancelled or, unless ``stale_ok``,
        when the document changed or closed while it ran: a newer run is then on its way.
        """
        view = self.view(key)
        if view is None:
            return None
        previous = self.states.get(key)
        planner = self.planner  # loaded here, on the loop, once
        cancel = threading.Event()
        self._stop_analysis(key)
        self._cancel[key] = cancel
        job = functools.partial(diagnose, view, planner, self.settings, previous, cancelled=cancel.is_set)
        try:
            state = await asyncio.get_running_loop().run_in_executor(self._analysis, job)
        except Cancelled:
            return None
        except Exception as exc:  # a paddleport bug must not take the editor's server down
            self._analysis_failed(key, exc)
            return previous
        finally:
            if self._cancel.get(key) is cancel:
                del self._cancel[key]
        if cancel.is_set():
            return None
        if not stale_ok:
            now = self.view(key)
            if now is None or now.text != view.text:
                return None
        self._commit(key, state, view, previous, publish)
        return state

    def refresh(self, key: str, *, publish: bool = True) -> DocState | None:
        """Analyse ``key``'s document now, on the calling thread, and publish the result."""
        view = self.view(key)
        if view is None:
            return None
        previous = self.states.get(key)
        try:
            state = diagnose(view, self.planner, self.settings, previous)
        except Exception as exc:  # a paddleport bug must not take the editor's server down
            self._analysis_failed(key, exc)
            return previous
        self._commit(key, state, view, previous, publish)
        return state

    def _analysis_failed(self, key: str, exc: Exception) -> None:
        log.error("analysis failed for %s", key, exc_info=exc)
        self.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Error,
                message=f"paddleport: analysis of {key} failed: {exc!r}",
            )
        )

    def _commit(
        self, key: str, state: DocState, view: DocumentView, previous: DocState | None, publish: bool
    ) -> None:
        self.states[key] = state
        moved: set[str] = set()
        for hook in self.refresh_hooks if self.extra_diagnostics else ():
            try:
                moved |= hook(key)
            except Exception:
                log.exception("refresh hook failed for %s", key)
        if publish and not self.pull_mode:
            self.publish(state, view, previous)
            for uri in moved - set(state.diagnostics):
                self.publish_state(uri, view.version_of(uri), state)
        self.send_status(state)

    def publish(self, state: DocState, view: DocumentView, previous: DocState | None) -> None:
        uris_now = set(state.diagnostics)
        for uri in state.diagnostics:
            self.publish_state(uri, view.version_of(uri), state)
        for gone in set(previous.diagnostics if previous else ()) - uris_now:  # removed cells
            self.clear(gone)

    def publish_state(self, uri: str, version: int | None, state: DocState | None) -> None:
        """``uri``'s diagnostics from ``state`` and ``extra_diagnostics``, the first as memoised JSON."""
        extra = self.extra_diagnostics.get(uri, [])
        if state is not None and uri in state.serialised:
            self.publish_json(uri, version, extra, state.serialised[uri])
        else:
            own = state.diagnostics.get(uri, []) if state else []
            self.publish_json(uri, version, own + extra)

    def publish_json(
        self, uri: str, version: int | None, diagnostics: list[Json], serialised: Sequence[str] = ()
    ) -> None:
        """``publishDiagnostics`` of ``serialised`` (diagnostics as JSON texts) then ``diagnostics``.

        Built as JSON text here and written as pygls' ``_send_data`` would: lsprotocol's
        converter, and even one ``json.dumps`` of the whole list, cost more than the
        analysis for a file with hundreds of uses.
        """
        items = ",".join([*serialised, *map(dump, diagnostics)])
        tail = "" if version is None else f',"version":{int(version)}'
        body = (
            f'{{"jsonrpc":"2.0","method":"{types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS}",'
            f'"params":{{"uri":{dump(uri)},"diagnostics":[{items}]{tail}}}}}'
        )
        self._send_text(body)

    def _send_text(self, body: str) -> None:
        """Write one JSON-RPC message that is already JSON text (``_send_data`` without its dumps)."""
        protocol = self.protocol
        if protocol.writer is None:
            log.error("Unable to send data, no available transport!")
            return
        try:
            data = body.encode(protocol.CHARSET)
            if protocol._include_headers:
                header = (
                    f"Content-Length: {len(data)}\r\n"
                    f"Content-Type: {protocol.CONTENT_TYPE}; charset={protocol.CHARSET}\r\n\r\n"
                )
                data = header.encode(protocol.CHARSET) + data
            res = protocol.writer.write(data)
            if inspect.isawaitable(res):  # a websocket: keep the write alive until it is done
                task = asyncio.ensure_future(res)
                self._writes.add(task)
                task.add_done_callback(self._writes.discard)
        except BrokenPipeError:
            log.exception("Error sending data. BrokenPipeError")
            raise
        except Exception as error:
            log.exception("Error sending data")
            self._report_server_error(error, JsonRpcInternalError)

    def republish(self, uri: str) -> None:
        """Send ``uri``'s current diagnostics again (after ``extra_diagnostics`` changed)."""
        if self.pull_mode:
            if _capability(self, "workspace.diagnostics.refresh_support"):
                self.workspace_diagnostic_refresh(None)
            return
        view = self.view(uri)
        self.publish_state(uri, view.version_of(uri) if view else None, self.states.get(self.key_for(uri)))

    def clear(self, uri: str) -> None:
        if not self.pull_mode:
            self.publish_json(uri, None, [])

    def send_status(self, state: DocState) -> None:
        self.protocol.notify(
            STATUS_NOTIFICATION,
            {
                "uri": state.key,
                "version": state.version,
                "uses": state.counts.uses,
                "fixable": state.counts.convertible,
                "onSave": state.counts.on_save,
            },
        )

    def forget(self, key: str) -> None:
        pending = self._tasks.pop(key, None)
        if pending is not None:
            pending.cancel()
        self._stop_analysis(key)
        state = self.states.pop(key, None)
        self._last_run.pop(key, None)
        for uri in state.diagnostics if state else [key]:
            self.extra_diagnostics.pop(uri, None)
            self.clear(uri)

    def reanalyse_all(self) -> None:
        if self.pull_mode:
            if _capability(self, "workspace.diagnostics.refresh_support"):
                self.workspace_diagnostic_refresh(None)
            return
        keys = set(self.states) | {self.key_for(d.uri) for d in self.workspace.text_documents.values()}
        for key in keys:
            if self.settings.enable:
                self.schedule(key, 0)
            else:
                self.forget(key)

    # -- settings and rules ------------------------------------------------------

    def apply_settings(self, options: object) -> None:
        settings, problems = parse_settings(options)
        reload = settings.extra_rule_folders != self.settings.extra_rule_folders and self._planner is not None
        self.settings = settings
        self.settings_problems = problems
        if reload:
            self.reload_rules()

    def warn_settings(self) -> None:
        if self.settings_problems:
            self.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning,
                    message="Paddleport settings: " + "; ".join(self.settings_problems),
                )
            )

    def rule_dirs(self) -> list[str]:
        return [*self.cli_rule_dirs, *self.settings.extra_rule_folders]

    @property
    def planner(self) -> Planner:
        """The rules (built-in, ``--rules`` folders, ``extraRuleFolders``) and the fix memo.

        Loaded on first use, after ``initialize`` has answered: loading ~1,000 rules
        takes a second or more, and the settings may name extra folders.
        """
        if self._planner is None:
            self.reload_rules()
            assert self._planner is not None
        return self._planner

    def reload_rules(self) -> None:
        self._planner = make_planner(self.rule_dirs())
        # The rules and everything imported so far live as long as the server: keep them out
        # of the collector's scans, which otherwise cost a third of each analysis.
        gc.collect()
        gc.freeze()
        self._rule_mtimes = self._rule_file_mtimes()

    def _rule_file_mtimes(self) -> dict[str, float]:
        out = {}
        for folder in self.rule_dirs():
            for path in sorted(Path(folder).glob("*.toml")) if Path(folder).is_dir() else []:
                with contextlib.suppress(OSError):
                    out[str(path)] = path.stat().st_mtime
        return out

    def reload_rules_if_changed(self) -> bool:
        if self._rule_file_mtimes() == self._rule_mtimes:
            return False
        self.reload_rules()
        self.publish_rule_errors()
        self.reanalyse_all()
        return True

    def publish_rule_errors(self) -> None:
        """Broken rule files get diagnostics of their own; files fixed since lose theirs."""
        errors = self.planner.rules.errors
        for err in errors:
            if not Path(err.file).is_file():  # a missing folder: no file to show it on
                self.window_show_message(
                    types.ShowMessageParams(
                        type=types.MessageType.Warning, message=f"Paddleport: {err.file}: {err.message}"
                    )
                )
        by_path = rule_error_diagnostics(e for e in errors if Path(e.file).is_file())
        now = set()
        for path, diags in by_path.items():
            uri = uris.from_fs_path(path) or path
            now.add(uri)
            self.publish_json(uri, None, diags)
        for uri in self._rule_error_uris - now:
            self.publish_json(uri, None, [])
        self._rule_error_uris = now

    def debug_info(self) -> dict[str, Any]:
        import libcst
        import pygls

        return {
            "paddleport": __version__,
            "python": sys.version.split()[0],
            "executable": sys.executable,
            "pygls": getattr(pygls, "__version__", _dist_version("pygls")),
            "lsprotocol": _dist_version("lsprotocol"),
            "libcst": getattr(libcst, "__version__", _dist_version("libcst")),
            "positionEncoding": self.encoding,
            "diagnosticsMode": "pull" if self.pull_mode else "push",
            "settings": self.settings.as_dict(),
            "settingsProblems": list(self.settings_problems),
            "ruleFolders": self.rule_dirs(),
            "rules": len(self.planner.rules),
            "ruleErrors": [str(e) for e in self.planner.rules.errors],
            "openDocuments": [
                {
                    "uri": s.key,
                    "version": s.version,
                    "uses": s.counts.uses,
                    "fixable": s.counts.convertible,
                    "onSave": s.counts.on_save,
                    "parsed": s.parsed,
                }
                for s in sorted(self.states.values(), key=lambda s: s.key)
            ],
            # What the server holds of each open text, to compare with the editor's (sync bugs).
            "documents": [
                {"uri": d.uri, "version": d.version,
                 "sha256": hashlib.sha256(d.source.encode("utf-8", "surrogatepass")).hexdigest()}
                for d in sorted(self.workspace.text_documents.values(), key=lambda d: d.uri)
            ],
            "pid": os.getpid(),
            "torchImported": "torch" in sys.modules,
            "paddleImported": "paddle" in sys.modules,
        }


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def _capability(server: LanguageServer, path: str) -> Any:
    value: Any = server.client_capabilities
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def can_resolve_edits(server: LanguageServer) -> bool:
    support = _capability(server, "text_document.code_action.resolve_support")
    return bool(support and "edit" in (support.properties or []))


def create_server(extra_rule_dirs: Sequence[str] = ()) -> PaddleportServer:
    server = PaddleportServer(extra_rule_dirs)
    _register(server)
    try:
        from paddleport.lsp import equivalence  # type: ignore[attr-defined, unused-ignore]
    except ImportError:
        pass
    else:
        equivalence.register(server)
    return server


def _register(server: PaddleportServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: PaddleportServer, params: types.InitializeParams) -> None:
        adopt_workspace(ls.workspace)
        ls.apply_settings(params.initialization_options)
        ls.pull_mode = _capability(ls, "text_document.diagnostic") is not None

    @server.feature(types.INITIALIZED)
    def initialized(ls: PaddleportServer, params: types.InitializedParams) -> None:
        ls.warn_settings()
        ls._rule_mtimes = ls._rule_file_mtimes()
        ls.publish_rule_errors()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: PaddleportServer, params: types.DidChangeConfigurationParams) -> None:
        old_errors = list(ls.planner.rules.errors)
        ls.apply_settings(params.settings)
        ls.warn_settings()
        if ls.planner.rules.errors != old_errors or ls._rule_error_uris:
            ls.publish_rule_errors()
        ls.reanalyse_all()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PaddleportServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PaddleportServer, params: types.DidChangeTextDocumentParams) -> None:
        doc = ls.workspace.text_documents.get(unquote(params.text_document.uri))
        large = doc is not None and len(doc.source) > ON_TYPE_MAX_CHARS  # analysed on save
        if ls.settings.run == "onType" and not large:
            ls.schedule(params.text_document.uri, ls.settings.debounce_ms / 1000)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PaddleportServer, params: types.DidSaveTextDocumentParams) -> None:
        if not ls.reload_rules_if_changed():
            ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PaddleportServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def notebook_open(ls: PaddleportServer, params: types.DidOpenNotebookDocumentParams) -> None:
        ls.schedule(params.notebook_document.uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def notebook_change(ls: PaddleportServer, params: types.DidChangeNotebookDocumentParams) -> None:
        cells = params.change.cells
        structural = cells is not None and cells.structure is not None
        if ls.settings.run == "onType" or structural:
            ls.schedule(params.notebook_document.uri, ls.settings.debounce_ms / 1000)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def notebook_save(ls: PaddleportServer, params: types.DidSaveNotebookDocumentParams) -> None:
        ls.schedule(params.notebook_document.uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def notebook_close(ls: PaddleportServer, params: types.DidCloseNotebookDocumentParams) -> None:
        ls.forget(params.notebook_document.uri)
        for cell in params.cell_text_documents:
            ls.clear(cell.uri)

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier="paddleport", inter_file_dependencies=False, workspace_diagnostics=False
        ),
    )
    async def pull_diagnostics(
        ls: PaddleportServer, params: types.DocumentDiagnosticParams
    ) -> types.DocumentDiagnosticReport:
        uri = params.text_document.uri
        if not ls.settings.enable:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        key = ls.key_for(uri)
        state = ls.states.get(key)
        view = ls.view(uri)
        stale = state is None or view is None or state.text != view.text
        if stale and (ls.settings.run == "onType" or state is None):
            state = await ls.refresh_async(key, publish=False, stale_ok=True) or ls.states.get(key)
        items = (state.diagnostics.get(uri, []) if state else []) + ls.extra_diagnostics.get(uri, [])
        report: types.RelatedFullDocumentDiagnosticReport = ls.protocol._converter.structure(
            {"kind": "full", "items": items}, types.RelatedFullDocumentDiagnosticReport
        )
        return report

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, actions.FIX_ALL_KIND],
            resolve_provider=True,
        ),
    )
    def code_action(ls: PaddleportServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        if not ls.settings.enable:
            return None
        uri = params.text_document.uri
        view = ls.view(uri)
        if view is None:
            return None
        state = ls.states.get(view.uri)
        offer_fix_all = state is None or state.counts.convertible > 0
        only = [str(k) for k in params.context.only] if params.context.only else None
        found = actions.code_actions(
            view,
            uri,
            params.context.diagnostics,
            only,
            ls.planner,
            can_resolve=can_resolve_edits(ls),
            offer_fix_all=offer_fix_all,
        )
        if not only or any(k.startswith(types.CodeActionKind.QuickFix) for k in only):
            for hook in ls.action_hooks:
                found.extend(hook(uri, params.context.diagnostics))
        return found or None

    @server.feature(types.CODE_ACTION_RESOLVE)
    def code_action_resolve(ls: PaddleportServer, action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        uri = data.get("uri")
        view = ls.view(uri) if isinstance(uri, str) else None
        if view is not None and action.edit is None:
            action.edit = actions.resolve_edit(view, ls.planner, data) or types.WorkspaceEdit(changes={})
        return action

    # -- commands -----------------------------------------------------------------

    @server.command("paddleport.convertFile")
    async def convert_file(ls: PaddleportServer, *args: Any) -> dict[str, Any]:
        uri = _uri_arg(args)
        try:
            view = ls.view_or_disk(uri)
        except (ReadProblem, ValueError) as exc:
            ls.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=f"Paddleport: {uri}: {exc}")
            )
            return {"uri": uri, "changed": False, "error": str(exc)}
        conv, edit = actions.convert_view(view, ls.planner, None, ls.settings.annotate)
        applied = False
        if edit is not None:
            result = await ls.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(edit=edit, label="Paddleport: convert file")
            )
            applied = result.applied
        if conv.error:
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning,
                    message=f"Paddleport: not converted: {conv.error}",
                )
            )
        return {"uri": uri, "changed": applied, "counts": conv.counts(), "error": conv.error}

    @server.command("paddleport.convertWorkspace")
    async def convert_workspace(ls: PaddleportServer, *args: Any) -> dict[str, Any]:
        return await _convert_workspace(ls)

    @server.command("paddleport.showRule")
    def show_rule(ls: PaddleportServer, *args: Any) -> dict[str, str]:
        from paddleport.cli.rules_cmd import rule_markdown

        rule_id = str(args[0]).strip() if args else ""
        rule = ls.planner.rules.get(rule_id)
        if rule is None:
            return {
                "markdown": f"## `{rule_id}`\n\nNo paddleport rule for `{rule_id}` yet: port it "
                "by hand, or add a rule in a project rule folder (`paddleport.extraRuleFolders`)."
            }
        return {"markdown": rule_markdown(rule)}

    @server.command("paddleport.debugInfo")
    def debug_info(ls: PaddleportServer, *args: Any) -> dict[str, Any]:
        return ls.debug_info()


def _uri_arg(args: Sequence[Any]) -> str:
    first = args[0] if args else None
    if isinstance(first, dict):
        first = first.get("uri")
    if not isinstance(first, str) or not first:
        raise ValueError("paddleport.convertFile expects [uri]")
    return first


async def _convert_workspace(ls: PaddleportServer) -> dict[str, Any]:
    """Every Python file under the workspace folders, as one undoable WorkspaceEdit.

    Open documents are converted from their editor text; others from disk, in
    a worker thread (``paddleport.batch.convert_path``), file by file so a cancel stops soon.
    """
    folders = [uris.to_fs_path(f.uri) for f in ls.workspace.folders.values()]
    if not folders and ls.workspace.root_path:
        folders = [ls.workspace.root_path]
    paths = sorted({p for f in folders if f for p in python_files(Path(f))})
    token: str | None = None
    if _capability(ls, "window.work_done_progress"):
        ls._progress_count += 1
        token = f"paddleport-convert-{os.getpid()}-{ls._progress_count}"
        await ls.work_done_progress.create_async(token)
        ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title="Paddleport: converting the workspace",
                cancellable=True,
                percentage=0,
                message=f"{len(paths)} files",
            ),
        )
    cancelled = False
    changes: dict[str, list[types.TextEdit]] = {}
    results = []
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    last_report = 0.0
    # What the project's files tell about each other (returns, callers), as `paddleport convert` does.
    index = await loop.run_in_executor(None, build_index, paths, ls.planner) if paths else None
    for i, path in enumerate(paths):
        if token is not None and ls.work_done_progress.tokens[token].cancelled():
            cancelled = True
            break
        uri = uris.from_fs_path(str(path)) or str(path)
        view = ls.view(uri)
        if view is not None:  # open in the editor: convert what the user sees
            conv, edit = actions.convert_view(view, ls.planner, None, ls.settings.annotate)
            result = file_result(path, conv, ls.planner)
            for edit_uri, edits in (edit.changes or {}).items() if edit else ():
                changes[edit_uri] = list(edits)
        else:
            # A worker thread, never a forked process: forking this threaded server can hang.
            result = await loop.run_in_executor(None, convert_path, path, ls.planner, ls.settings.annotate,
                                                False, index)  # fmt: skip
            if result.changed and result.code is not None and result.original is not None:
                on_disk = DocumentView(uri, result.original, None, ls.encoding)
                changes.update(on_disk.changes_for(result.code) or {})
        results.append(result)
        now = time.monotonic()
        if token is not None and (now - last_report > 0.2 or i + 1 == len(paths)):
            last_report = now
            ls.work_done_progress.report(
                token,
                types.WorkDoneProgressReport(
                    message=f"{i + 1}/{len(paths)} files: {path.name}",
                    percentage=int(100 * (i + 1) / max(len(paths), 1)),
                ),
            )
    summary = summarise(results).as_dict()
    applied = False
    if changes and not cancelled:
        answer = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(
                edit=types.WorkspaceEdit(changes=changes), label="Paddleport: convert workspace"
            )
        )
        applied = answer.applied
    summary.update(cancelled=cancelled, applied=applied, seconds=round(time.monotonic() - started, 2))
    if token is not None:
        ls.work_done_progress.end(
            token, types.WorkDoneProgressEnd(message="cancelled" if cancelled else "done")
        )
    message = (
        "Paddleport: workspace conversion cancelled; nothing was changed."
        if cancelled
        else f"Paddleport: {summary['verdict']} "
        f"Workspace: converted {summary['changed']} of {summary['files']} files — "
        f"{summary['exact']} exact, {summary['review']} to review, {summary['manual']} "
        f"left to port by hand ({summary['rate']:.0%} of {summary['found']} torch uses)"
        + (f"; {len(summary['problems'])} files had problems" if summary["problems"] else "")  # type: ignore[arg-type]
        + (f"; first blocker: {_first_blocker(summary)}" if summary["needs_torch"] else "")
    )
    kind = types.MessageType.Warning if summary["needs_torch"] and not cancelled else types.MessageType.Info
    ls.window_show_message(types.ShowMessageParams(type=kind, message=message))
    return summary


def _first_blocker(summary: dict[str, Any]) -> str:
    first = summary["torch_files"][0]
    item = (first["imports"] or first["blockers"])[0]
    return f"{first['path']}:{item['line']}:{item['col']} {item['api']}"


def run_stdio(extra_rule_dirs: list[str]) -> None:
    # An analysis allocates ~100k short-lived ast nodes: collect young objects less often.
    gc.set_threshold(50_000, 20, 20)
    server = create_server(extra_rule_dirs)
    send_logs_to_client(server)
    server.start_io()
