"""A warm Jupyter kernel for equivalence checks, driven from the CLI or the language server.

This module never imports torch or paddle: the kernel does (``runner``). The
kernel is a fresh process (never a fork: torch hangs in a forked child after
it has computed), started lazily on the first check and kept for the next.

Limits per check:
- time: past ``timeout`` the kernel is interrupted (SIGINT, a KeyboardInterrupt
  in the user's code); if it does not answer within ``INTERRUPT_GRACE_S`` it
  is restarted.
- memory: ``resource.setrlimit(RLIMIT_AS)`` would break torch and paddle, which
  reserve far more address space than they use, so the manager watches the
  kernel's resident memory (RSS) every 50 ms instead and restarts the kernel
  when it passes ``memory_mb`` (default 4096 MB; the kernel idles at ~0.6 GB
  with both frameworks loaded).
A kernel that dies is restarted on the next check, and the result says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from paddleport.kernel.protocol import MIME

SERVER_DIR = str(Path(__file__).resolve().parents[2])
INTERRUPT_GRACE_S = 5.0
START_TIMEOUT_S = 60.0
DEFAULT_MEMORY_MB = 4096
POLL_S = 0.05


class KernelError(RuntimeError):
    """The kernel could not run the check; the message is meant for the user."""


@dataclass
class Outcome:
    """What came back from one execution in the kernel."""

    data: dict[str, Any] | None = None
    error: str | None = None  # a problem with the run itself (timeout, memory, crash), for the user
    restarted: bool = False
    stream: list[str] = field(default_factory=list)


def _kernel_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GLOG_minloglevel", "2")
    env.setdefault("FLAGS_call_stack_level", "1")
    env["PYTHONWARNINGS"] = "ignore"
    env.pop("PYDEVD_USE_FRAME_EVAL", None)
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = SERVER_DIR + (os.pathsep + path if path else "")
    return env


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MB (Linux /proc; psutil elsewhere if present)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import psutil  # type: ignore[import-untyped]

        return float(psutil.Process(pid).memory_info().rss) / 2**20
    except Exception:
        return None


class KernelSession:
    """One kernel, one check at a time (a lock serialises callers from several threads)."""

    def __init__(self, python: str | None = None, memory_mb: int = DEFAULT_MEMORY_MB) -> None:
        self.python = python or sys.executable
        self.memory_mb = memory_mb
        self._km: Any = None
        self._kc: Any = None
        self._lock = threading.Lock()
        self._log: IO[bytes] | None = None
        self._dir: str | None = None
        self.versions: dict[str, str] = {}
        self.starts = 0

    # -- lifecycle --------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._km is not None and self._km.is_alive()

    @property
    def pid(self) -> int | None:
        prov = getattr(self._km, "provisioner", None)
        proc = getattr(prov, "process", None)
        return getattr(proc, "pid", None)

    def _start(self) -> None:
        from jupyter_client.kernelspec import KernelSpec
        from jupyter_client.manager import KernelManager

        # ipc sockets and the connection file in a folder of our own: jupyter's default
        # ("kernel-ipc-N" in the current directory) litters the user's project and lets two
        # kernels started side by side pick the same sockets.
        self._dir = tempfile.mkdtemp(prefix="paddleport-kernel-")
        km = KernelManager(
            transport="ipc",
            connection_file=os.path.join(self._dir, "kernel.json"),
            ip=os.path.join(self._dir, "ipc"),
        )
        km._kernel_spec = KernelSpec(
            argv=[self.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="paddleport equivalence",
            language="python",
            interrupt_mode="signal",
        )
        # The kernel must never write to our stdout: in the language server that is the
        # JSON-RPC channel, and C-level output (glog, MKL) bypasses ipykernel's capture.
        self._log = tempfile.TemporaryFile(mode="w+b")  # noqa: SIM115 (lives as long as the kernel)
        try:
            km.start_kernel(
                env=_kernel_env(), cwd=os.getcwd(), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=self._log,
            )  # fmt: skip
            kc = km.blocking_client()
            kc.start_channels()
            kc.wait_for_ready(timeout=START_TIMEOUT_S)
        except Exception as exc:
            self._km = km
            tail = self.kernel_log()[-600:].strip()
            self._shutdown_quietly()
            hint = " (install ipykernel in that interpreter)" if "ipykernel" in tail else ""
            raise KernelError(
                f"could not start a kernel with {self.python}{hint}: {exc}" + (f"\n{tail}" if tail else "")
            ) from None
        self._km, self._kc = km, kc
        self.starts += 1
        setup = (
            "import sys\n"
            f"if {SERVER_DIR!r} not in sys.path: sys.path.insert(0, {SERVER_DIR!r})\n"
            "from paddleport.kernel import runner as _pp_runner\n"
            "_pp_versions = _pp_runner.setup()\n"
            "import IPython.display as _pp_d\n"
            f"_pp_d.display({{{MIME!r}: _pp_versions}}, raw=True)\n"
        )
        out = self._execute(setup, START_TIMEOUT_S, watch_memory=False)
        if out.data is None:
            self._shutdown_quietly()
            raise KernelError(
                f"the kernel ({self.python}) could not load torch and paddle: {out.error or 'no answer'}"
            )
        self.versions = out.data

    def kernel_log(self) -> str:
        """What the kernel process wrote to its stderr (start-up failures end up here)."""
        if self._log is None:
            return ""
        try:
            self._log.seek(0)
            return self._log.read().decode("utf-8", errors="replace")
        except (OSError, ValueError):
            return ""

    def ensure(self) -> None:
        """Start the kernel if it is not running (lazily, on the first check)."""
        if not self.alive:
            self._shutdown_quietly()
            self._start()

    def restart(self) -> None:
        self._shutdown_quietly()
        self._start()

    def _shutdown_quietly(self) -> None:
        if self._kc is not None:
            with contextlib.suppress(Exception):
                self._kc.stop_channels()
        if self._km is not None:
            with contextlib.suppress(Exception):
                self._km.shutdown_kernel(now=True)
        self._km = self._kc = None
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def shutdown(self) -> None:
        with self._lock:
            self._shutdown_quietly()

    # -- running ----------------------------------------------------------------------
    def run(self, request: dict[str, Any], timeout: float) -> Outcome:
        """Send one check request to the kernel; limits enforced here, never in the kernel."""
        with self._lock:
            restarted = False
            if self._km is not None and not self.alive:
                restarted = True
            self.ensure()
            out = self._execute(f"_pp_runner.run_check({json.dumps(request)!r})", timeout)
            out.restarted = out.restarted or restarted
            mem = rss_mb(self.pid) if self.pid and not out.restarted else None
            if mem is not None and mem > self.memory_mb:  # grown past the cap between checks
                self.restart()
            return out

    def _execute(self, code: str, timeout: float, watch_memory: bool = True) -> Outcome:
        kc, km = self._kc, self._km
        assert kc is not None and km is not None
        msg_id = kc.execute(code, silent=False, store_history=False, allow_stdin=False)
        out = Outcome()
        deadline = time.monotonic() + timeout
        interrupted_at: float | None = None
        pid = self.pid
        while True:
            try:
                msg = kc.get_iopub_msg(timeout=POLL_S)
            except queue.Empty:
                msg = None
            if msg is not None and msg.get("parent_header", {}).get("msg_id") == msg_id:
                kind, content = msg["msg_type"], msg["content"]
                if kind in ("display_data", "execute_result") and MIME in content.get("data", {}):
                    out.data = content["data"][MIME]
                elif kind == "stream":
                    out.stream.append(content.get("text", ""))
                elif kind == "error" and interrupted_at is None:
                    out.error = f"{content.get('ename')}: {content.get('evalue')}"
                elif kind == "status" and content.get("execution_state") == "idle":
                    if interrupted_at is not None:
                        out.error = f"the check took longer than {timeout:g} s and was interrupted"
                    return out
                continue
            if msg is not None:
                continue
            now = time.monotonic()
            if not km.is_alive():
                out.error = "the kernel died during the check (a crash?); it was restarted"
                self._shutdown_quietly()
                self._start()
                out.restarted = True
                return out
            mem = rss_mb(pid) if pid and watch_memory else None
            if mem is not None and mem > self.memory_mb:
                out.error = (
                    f"the check used more than {self.memory_mb} MB of memory "
                    f"({mem:.0f} MB); the kernel was restarted"
                )
                self.restart()
                out.restarted = True
                return out
            if interrupted_at is None and now > deadline:
                km.interrupt_kernel()
                interrupted_at = now
            elif interrupted_at is not None and now > interrupted_at + INTERRUPT_GRACE_S:
                out.error = (
                    f"the check took longer than {timeout:g} s and did not stop when "
                    "interrupted; the kernel was restarted"
                )
                self.restart()
                out.restarted = True
                return out
