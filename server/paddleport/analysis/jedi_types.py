"""Ask jedi about receivers the syntax cannot type: is ``x`` in ``x.view(2, 3)`` a tensor?

Opt-in (``paddleport convert --jedi``): the project index types nearly all the
receivers jedi can, in a fraction of the time. Slow (seconds for the first
inference that touches torch's stubs, then milliseconds), so it runs only for
low-confidence uses and never on the typing path. jedi reads torch's source
statically in a subprocess of its own (its in-process mode would import torch);
that subprocess is stopped when the process that started it exits, so no jedi
process outlives a conversion.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing.util
from pathlib import Path

from paddleport.analysis.finder import Analysis
from paddleport.analysis.uses import Confidence, UseKind

_TENSOR_CLASSES = ("torch.Tensor.", "torch._C.TensorBase.", "torch._C._TensorBase.",
                   "torch._tensor.Tensor.", "torch.nn.parameter.Parameter.")  # fmt: skip

_project: object | None = None


def _jedi_project() -> object | None:
    global _project
    if _project is None:
        try:
            import jedi
        except ImportError:  # jedi is a dependency, but degrade rather than fail
            return None
        _project = jedi.Project(Path.cwd(), smart_sys_path=False)
        # Run at the exit of this process, also of a pool worker (those skip atexit).
        multiprocessing.util.Finalize(None, shutdown, exitpriority=100)
    return _project


def shutdown() -> None:
    """Stop jedi's inference subprocess, if one was started here."""
    global _project
    project, _project = _project, None
    if project is None:
        return
    env = getattr(project, "_environment", None)
    sub = getattr(env, "_subprocess", None)
    kill = getattr(sub, "_kill", None)
    if kill is not None:
        with contextlib.suppress(Exception):  # already gone
            kill()


def refine(analysis: Analysis, path: Path | None = None) -> Analysis:
    """Raise LOW-confidence method uses to MEDIUM where jedi resolves the method to torch.Tensor."""
    low = [i for i, u in enumerate(analysis.uses)
           if u.confidence is Confidence.LOW
           and u.kind in (UseKind.METHOD_CALL, UseKind.TENSOR_ATTRIBUTE)]  # fmt: skip
    if not low:
        return analysis
    project = _jedi_project()
    if project is None:
        return analysis
    import jedi

    try:
        script = jedi.Script(analysis.source.text, path=path, project=project)
    except Exception:  # jedi raises many internal errors on odd input; refinement is optional
        return analysis
    uses = list(analysis.uses)
    for i in low:
        use = uses[i]
        line, col = analysis.source.position(use.focus_start)
        if _is_tensor_member(script, line, col):
            uses[i] = dataclasses.replace(use, confidence=Confidence.MEDIUM)
    return dataclasses.replace(analysis, uses=uses)


def _is_tensor_member(script: object, line: int, col: int) -> bool:
    try:
        names = script.infer(line, col)  # type: ignore[attr-defined]
    except Exception:
        return False
    for name in names:
        full = getattr(name, "full_name", None) or ""
        if full.startswith(_TENSOR_CLASSES):
            return True
    return False
