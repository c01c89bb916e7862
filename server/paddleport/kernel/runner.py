"""Runs inside the equivalence kernel: the original under torch, the conversion under paddle.

Both sides live in one kernel process (torch and paddle import together fine;
one warm process halves memory and start-up against two kernels). Each side
gets a fresh module object; while the paddle side runs, torch and every module
that holds torch objects are hidden from ``sys.modules`` and ``import torch``
fails, so a missed conversion shows up as an error instead of silently
running torch. Only this module imports torch and paddle.
"""

from __future__ import annotations

import contextlib
import io
import json
import linecache
import os
import sys
import time
import traceback
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.abc import MetaPathFinder
from pathlib import Path
from typing import Any

import numpy as np

from paddleport.analysis.source import split_lines
from paddleport.kernel.compare import Leaf, compare, to_plain
from paddleport.kernel.data import DataMaker, _named_state
from paddleport.kernel.example_worker import import_torchvision
from paddleport.kernel.protocol import MIME, MODULE_NAME

TORCH_PACKAGES = ("torch", "torchvision", "torchaudio", "functorch", "torchgen")
OUTPUT_LIMIT = 2000

_baseline: set[str] = set()


class _BlockTorch(MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.split(".", 1)[0] in TORCH_PACKAGES:
            raise ImportError(f"torch is not importable on the paddle side (imported {fullname!r})")
        return None


def setup() -> dict[str, str]:
    """Import both frameworks once, quietly; remember which modules belong to the kernel itself."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    warnings.filterwarnings("ignore", message=".*ccache.*")
    import torch

    with contextlib.redirect_stderr(io.StringIO()):
        import paddle
    paddle.disable_signal_handler()
    _baseline.update(sys.modules)
    return {
        "torch": torch.__version__,
        "paddle": str(getattr(paddle, "__version__", "?")),
        "python": sys.version.split()[0],
    }


def run_check(request_json: str) -> None:
    """Entry point the kernel manager calls; the result goes out as display data."""
    from IPython.display import display

    result = check(json.loads(request_json))
    display({MIME: result}, raw=True)  # type: ignore[no-untyped-call]


# ---- one side ---------------------------------------------------------------------------


@dataclass
class SideRun:
    framework: str
    ok: bool = True
    stage: str = ""
    error: dict[str, Any] | None = None
    out: Any = None
    grads: dict[str, Any] = field(default_factory=dict)
    state: list[tuple[str, np.ndarray]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    total_seconds: float = 0.0
    output: str = ""
    trace: list[tuple[tuple[str, str, int], int, Any]] = field(default_factory=list)
    layers: list[tuple[str, str, Any]] = field(default_factory=list)  # (sublayer, class, output), call order

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "error": self.error,
            "seconds": round(self.seconds, 4),
            "total_seconds": round(self.total_seconds, 4),
            "output": self.output[-OUTPUT_LIMIT:],
        }


def _framework(name: str) -> Any:
    if name == "torch":
        import torch

        return torch
    import paddle

    return paddle


def _is_tensor(value: Any, framework: str) -> bool:
    return (
        type(value).__module__.startswith(framework) and hasattr(value, "shape") and hasattr(value, "dtype")
    )


def _is_module(value: Any, framework: str) -> bool:
    fw = _framework(framework)
    return isinstance(value, fw.nn.Module if framework == "torch" else fw.nn.Layer)


def _tensors(value: Any, framework: str, path: str) -> Iterator[tuple[str, Any]]:
    if _is_tensor(value, framework):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _tensors(v, framework, f"{path}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _tensors(v, framework, f"{path}[{i}]")


def _is_float(t: Any) -> bool:
    return "float" in str(t.dtype) or "bfloat" in str(t.dtype)


def _error(
    exc: BaseException,
    side: str,
    filename: str,
    lines: list[int] | None,
    source: list[str],
    original: list[str],
    stage: str,
) -> dict[str, Any]:
    """The exception with the line of the user's original file it comes from."""
    tb = traceback.extract_tb(exc.__traceback__)
    user = [f for f in tb if f.filename == filename]
    info: dict[str, Any] = {
        "type": type(exc).__name__,
        "message": str(exc).strip()[:1500],
        "side": side,
        "stage": stage,
        "line": None,
        "code": "",
    }
    if user and user[-1].lineno:
        line = user[-1].lineno
        orig = lines[line - 1] if lines and 1 <= line <= len(lines) else line
        info["line"] = orig
        info["code"] = original[orig - 1].strip() if 1 <= orig <= len(original) else ""
        if lines is not None and 1 <= line <= len(source):
            info["converted_code"] = source[line - 1].strip()
    elif any(f.filename == "<example>" for f in tb):
        info["stage"] = "example"
    return info


_LAYOUTS: dict[str, Any] = {}


def _copy_state(module: Any, state: list[tuple[str, np.ndarray]]) -> list[str]:
    """Copy torch's parameters and buffers into the paddle layer with the rules' weights layouts.

    The same mapping ``paddleport weights`` applies to checkpoints (``paddleport.weights.layout``),
    in memory: one copy logic for checkpoints, the equivalence check and the editor's code lens.
    """
    import paddle

    from paddleport.kernel.weights_model import describe
    from paddleport.weights.convert import result_shape, transform
    from paddleport.weights.layout import ModelLayout, plan_by_model

    if not _LAYOUTS:
        from paddleport.catalog import load_catalog
        from paddleport.weights.layout import layouts

        _LAYOUTS.update(layouts(load_catalog()))
    model = ModelLayout.from_json(describe(module, sorted(_LAYOUTS)))
    torch_state = dict(state)
    plan = plan_by_model({k: tuple(v.shape) for k, v in torch_state.items()}, _LAYOUTS, model)
    params = module.state_dict()
    notes: list[str] = []
    filled: set[str] = set()
    for key, targets in plan.targets.items():
        arr = torch_state[key]
        for t in targets:
            value = params.get(t.name)
            if value is None:
                notes.append(f"torch {key} has no paddle counterpart")
                continue
            shape, final = tuple(value.shape), result_shape(tuple(arr.shape), t)
            if final != shape and int(np.prod(final)) == int(np.prod(shape)):
                final = shape
            if final != shape:
                notes.append(f"{key}: torch shape {list(arr.shape)} vs paddle {t.name} {list(shape)}, "
                             "not copied")
                continue
            data = np.ascontiguousarray(transform(arr, t, final))
            value.set_value(paddle.to_tensor(data).astype(value.dtype))
            filled.update((t.name, *t.aliases))
    tied = {n for group in model.ties if filled & set(group) for n in group}
    for name in params:
        if name not in filled and name not in tied:
            notes.append(f"paddle {name} has no torch counterpart: it keeps its own initial values")
    return notes


def _load_torch_checkpoint(module: Any, path: str) -> list[str]:
    """The torch side gets the original weights (``weights_only``: no pickled code runs)."""
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        state = next((state[k] for k in ("state_dict", "model_state_dict", "model", "module", "net")
                      if isinstance(state.get(k), dict)), state)  # fmt: skip
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    missing, unexpected = module.load_state_dict(state, strict=False)
    return [f"torch {n}: not in the checkpoint" for n in missing] + [
        f"checkpoint {n}: not a torch parameter" for n in unexpected
    ]


def _record_layers(module: Any, framework: str, records: list[tuple[str, str, Any]]) -> None:
    """Hooks that keep every sublayer's output in call order, to name the first layer that diverges."""
    def hook(name: str) -> Callable[..., None]:
        def record(layer: Any, inputs: Any, output: Any) -> None:
            records.append((name, type(layer).__name__, to_plain(output)))

        return record

    if framework == "torch":
        for name, sub in module.named_modules():
            if name:
                sub.register_forward_hook(hook(name))
    else:
        for name, sub in module.named_sublayers():
            sub.register_forward_post_hook(hook(name))


def first_divergent_layer(t: SideRun, p: SideRun, rtol: float, atol: float) -> dict[str, Any] | None:
    """The first sublayer (in torch's call order) whose output differs between the sides."""
    counts: dict[str, int] = {}
    theirs: dict[tuple[str, int], tuple[str, Any]] = {}
    for name, cls, value in p.layers:
        counts[name] = counts.get(name, 0) + 1
        theirs[(name, counts[name])] = (cls, value)
    counts = {}
    for name, cls, value in t.layers:
        counts[name] = counts.get(name, 0) + 1
        other = theirs.get((name, counts[name]))
        if other is None:
            continue
        bad = [leaf for leaf in compare(value, other[1], rtol=rtol, atol=atol, path=name) if not leaf.ok]
        if bad:
            return {"layer": name, "torch_class": cls, "paddle_class": other[0], "call": counts[name],
                    "detail": bad[0].describe()}  # fmt: skip
    return None


def _param_grads(module: Any, framework: str) -> dict[str, Any]:
    if framework == "torch":
        return {n: p.grad for n, p in module.named_parameters()}
    out = {}
    for name, value, transpose in _named_state(module, "paddle"):
        if value.stop_gradient:
            continue
        g = value.grad
        out[name] = g.T if (g is not None and transpose) else g
    return out


class _Tracer:
    """Records each tensor a line of the user's file assigns to a local, in order."""

    def __init__(self, filename: str, framework: str, lines: list[int] | None) -> None:
        self.filename, self.framework, self.lines = filename, framework, lines
        self.frames: dict[Any, tuple[int, dict[str, Any]]] = {}
        self.counts: dict[tuple[str, str], int] = {}
        self.records: list[tuple[tuple[str, str, int], int, Any]] = []

    def __call__(self, frame: Any, event: str, arg: Any) -> Callable[..., Any] | None:
        if frame.f_code.co_filename != self.filename:
            return None
        self.frames[frame] = (frame.f_lineno, {})
        return self._local

    def _local(self, frame: Any, event: str, arg: Any) -> Callable[..., Any] | None:
        last_line, seen = self.frames.get(frame, (frame.f_lineno, {}))
        for name, value in list(frame.f_locals.items()):
            if _is_tensor(value, self.framework) and seen.get(name) is not value:
                seen[name] = value
                key = (frame.f_code.co_qualname, name)
                n = self.counts.get(key, 0)
                self.counts[key] = n + 1
                line = (
                    self.lines[last_line - 1]
                    if self.lines and 1 <= last_line <= len(self.lines)
                    else last_line
                )
                self.records.append(((key[0], name, n), line, to_plain(value)))
        if event == "return":
            self.frames.pop(frame, None)
        else:
            self.frames[frame] = (frame.f_lineno, seen)
        return self._local


@contextlib.contextmanager
def _torch_hidden() -> Iterator[None]:
    """Hide torch and every non-kernel module holding torch objects; block new torch imports."""
    hidden = {}
    for name, mod in list(sys.modules.items()):
        if name.split(".", 1)[0] in TORCH_PACKAGES or (name not in _baseline and _holds_torch(mod)):
            hidden[name] = sys.modules.pop(name)
    blocker = _BlockTorch()
    sys.meta_path.insert(0, blocker)
    try:
        yield
    finally:
        sys.meta_path.remove(blocker)
        sys.modules.update(hidden)


def _holds_torch(mod: Any) -> bool:
    try:
        values = list(vars(mod).values())
    except TypeError:
        return False
    for v in values:
        name = v.__name__ if isinstance(v, types.ModuleType) else getattr(v, "__module__", None)
        if isinstance(name, str) and name.split(".", 1)[0] in TORCH_PACKAGES:
            return True
    return False


def run_side(
    framework: str,
    req: dict[str, Any],
    torch_state: list[tuple[str, np.ndarray]] | None = None,
    trace: bool = False,
) -> SideRun:
    """Exec the module, build the inputs, call the target (and backward with --grad)."""
    run = SideRun(framework)
    is_torch = framework == "torch"
    source = req["source"] if is_torch else req["converted"]
    filename = req["path"] if is_torch else f"{req['path']} (paddle)"
    lines = None if is_torch else req["line_map"]
    src_lines = split_lines(source)
    orig_lines = split_lines(req["source"])
    linecache.cache[filename] = (len(source), None, [ln + "\n" for ln in src_lines], filename)
    fw = _framework(framework)
    buffer = io.StringIO()
    started = time.perf_counter()
    tracer = _Tracer(filename, framework, lines) if trace else None
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            run.stage = "module"
            module = types.ModuleType(MODULE_NAME)
            module.__file__ = req["path"]
            module.__package__ = package_of(req["path"])[0]  # relative imports work
            if is_torch:
                fw.manual_seed(0)
                # its compiled ops may not load next to the CPU torch; a package may import it itself
                if "torchvision" in source or req.get("converted_root"):
                    with contextlib.suppress(ImportError):
                        import_torchvision()
            else:
                fw.seed(0)
            exec(compile(source, filename, "exec"), module.__dict__)
            helpers: dict[str, Any] = DataMaker(framework, seed=0).namespace()
            helpers["__pp_args"] = lambda *a, **k: (a, k)
            run.stage = "example"
            callee = eval(compile(req["callee"], "<example>", "eval"), module.__dict__, helpers)
            args, kwargs = eval(
                compile("__pp_args" + req["arguments"], "<example>", "eval"),
                module.__dict__,
                helpers,
            )
            is_module = _is_module(callee, framework)
            if is_module:
                run.stage = "state"
                if is_torch:
                    if req.get("checkpoint"):
                        run.notes += _load_torch_checkpoint(callee, req["checkpoint"])
                    run.state = [
                        (n, v.detach().cpu().numpy().copy())
                        for n, v in [*callee.named_parameters(), *callee.named_buffers()]
                    ]
                elif req.get("pdparams"):
                    missing, unexpected = callee.set_state_dict(fw.load(req["pdparams"]))
                    run.notes += [f"paddle {n}: not in the converted checkpoint" for n in missing]
                    run.notes += [f"converted checkpoint {n}: not a paddle parameter" for n in unexpected]
                else:
                    run.notes += _copy_state(callee, torch_state or [])
                callee.eval()
                if req.get("checkpoint"):
                    _record_layers(callee, framework, run.layers)
            inputs = list(_tensors((list(args), kwargs), framework, ""))
            if req.get("grad"):
                for _, t in inputs:
                    if _is_float(t):
                        if is_torch:
                            t.requires_grad_(True)
                        else:
                            t.stop_gradient = False
            run.stage = "call"
            t0 = time.perf_counter()
            if tracer is not None:
                sys.settrace(tracer)
            try:
                out = callee(*args, **kwargs)
            finally:
                sys.settrace(None)
            run.out = to_plain(out)
            if req.get("grad"):
                run.stage = "backward"
                parts = [t.sum() for _, t in _tensors(out, framework, "") if _is_float(t)]
                if parts:
                    sum(parts[1:], parts[0]).backward()
                    run.grads = {
                        f"grad {_input_name(p)}": to_plain(t.grad) for p, t in inputs if _is_float(t)
                    }
                    if is_module:
                        run.grads.update(
                            {f"grad {n}": to_plain(g) for n, g in _param_grads(callee, framework).items()}
                        )
                else:
                    run.notes.append("no float tensor in the output: nothing to differentiate")
            run.seconds = time.perf_counter() - t0
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the user's failure is a result, not a crash
        run.ok = False
        run.error = _error(exc, framework, filename, lines, src_lines, orig_lines, run.stage)
    finally:
        run.total_seconds = time.perf_counter() - started
        run.output = buffer.getvalue()
    if tracer is not None:
        run.trace = tracer.records
    return run


def _input_name(path: str) -> str:
    """``[0][1]`` (args, index 1) → ``args[1]``; ``[1]['mask']`` → ``mask``."""
    if path.startswith("[0]"):
        return "args" + path[3:]
    rest = path[3:]
    return (
        rest[2:-2]
        if rest.startswith("['") and rest.endswith("']") and rest.count("[") == 1
        else "kwargs" + rest
    )


# ---- both sides -------------------------------------------------------------------------


def package_of(path: str) -> tuple[str | None, str]:
    """The dotted package holding ``path`` (folders with ``__init__.py``) and the folder above it."""
    folder = os.path.dirname(os.path.abspath(path))
    parts: list[str] = []
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        parts.insert(0, os.path.basename(folder))
        folder = os.path.dirname(folder)
    return (".".join(parts) or None), folder


@contextlib.contextmanager
def _user_paths(path: str) -> Iterator[None]:
    """Run in the file's folder, with it (and its package's root) on sys.path for its imports.

    Modules imported from there are dropped afterwards, so the next check sees edits to them.
    """
    folder = os.path.dirname(os.path.abspath(path))
    _, root = package_of(path)
    added = [folder] if root == folder else [folder, root]
    sys.path[:0] = added
    before = set(sys.modules)
    cwd = os.getcwd()
    with contextlib.suppress(OSError):
        os.chdir(folder)  # relative paths in the user's code mean what they mean when run
    try:
        yield
    finally:
        os.chdir(cwd)
        for entry in added:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)
        for name in set(sys.modules) - before:
            file = getattr(sys.modules[name], "__file__", None) or ""
            if file.startswith(root + os.sep) and name not in _baseline:
                del sys.modules[name]


@contextlib.contextmanager
def _converted_first(root: str | None) -> Iterator[None]:
    """The paddle side imports the packages in ``root`` (converted) where torch's imported the
    originals: their modules are set aside, and put back afterwards."""
    if not root:
        yield
        return
    tops = {p.stem for p in Path(root).iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()}

    def mine(name: str) -> bool:
        return name.split(".", 1)[0] in tops

    saved = {n: m for n, m in sys.modules.items() if mine(n)}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, root)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(root)
        for name in [n for n in sys.modules if mine(n)]:
            del sys.modules[name]
        sys.modules.update(saved)


def _both(req: dict[str, Any], trace: bool = False) -> tuple[SideRun, SideRun | None]:
    with _user_paths(req["path"]):
        t = run_side("torch", req, trace=trace)
        if not t.ok:
            return t, None
        with _torch_hidden(), _converted_first(req.get("converted_root")):
            p = run_side("paddle", req, torch_state=t.state, trace=trace)
    return t, p


def _leaf_dict(leaf: Leaf) -> dict[str, Any]:
    return {
        "path": leaf.path or "out",
        "ok": leaf.ok,
        "shape": list(leaf.shape) if leaf.shape is not None else None,
        "dtype": leaf.dtype,
        "max_abs": leaf.max_abs,
        "max_rel": leaf.max_rel,
        "detail": leaf.detail,
    }


def _first_divergence(req: dict[str, Any], rtol: float, atol: float) -> dict[str, Any] | None:
    """Re-run both sides tracing locals; the first tensor assignment whose values differ."""
    t, p = _both(req, trace=True)
    if p is None:
        return None
    theirs = {key: (line, value) for key, line, value in p.trace}
    source = split_lines(req["source"])
    for key, line, value in t.trace:
        if key not in theirs:
            continue
        found = compare(value, theirs[key][1], rtol=rtol, atol=atol, path=key[1])
        bad = [leaf for leaf in found if not leaf.ok]
        if bad:
            func, var, n = key
            return {
                "line": line,
                "code": source[line - 1].strip() if 1 <= line <= len(source) else "",
                "function": func,
                "variable": var,
                "assignment": n + 1,
                "detail": bad[0].describe(),
            }
    return None


def check(req: dict[str, Any]) -> dict[str, Any]:
    """Run both sides and compare every output leaf (and gradient with ``grad``)."""
    rtol, atol = float(req.get("rtol", 1e-5)), float(req.get("atol", 1e-6))
    t, p = _both(req)
    result: dict[str, Any] = {
        "status": "error",
        "leaves": [],
        "torch": t.as_dict(),
        "paddle": p.as_dict() if p else None,
        "notes": t.notes + (p.notes if p else []),
        "location": None,
    }
    if p is None or not p.ok:
        return result
    leaves = compare(t.out, p.out, rtol=rtol, atol=atol, path="out")
    for name in t.grads:
        leaves += compare(t.grads[name], p.grads.get(name), rtol=rtol, atol=atol, path=name)
    result["leaves"] = [_leaf_dict(leaf) for leaf in leaves]
    result["status"] = "equal" if all(leaf.ok for leaf in leaves) else "mismatch"
    if result["status"] == "mismatch" and t.layers:
        result["layer"] = first_divergent_layer(t, p, rtol, atol)
    if result["status"] == "mismatch" and req.get("locate", True) and not req.get("checkpoint"):
        with contextlib.suppress(Exception):
            result["location"] = _first_divergence(req, rtol, atol)
    return result
