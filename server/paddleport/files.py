"""Reading and writing user files safely: never a half-written file, never a crash on junk."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

MAX_BYTES = 20 * 1024 * 1024
SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "node_modules", ".tox",
             ".mypy_cache", ".ruff_cache", ".pytest_cache"}  # fmt: skip


class ReadProblem(Exception):
    """A file that cannot be analysed; the message says why, for the user."""


def read_source(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadProblem(f"cannot read: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise ReadProblem(f"skipped: {len(data) // 1024 // 1024} MiB is larger than the 20 MiB limit")
    if b"\0" in data:
        raise ReadProblem("skipped: binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadProblem(
            f"skipped: not UTF-8 (byte {exc.start}: {data[exc.start:exc.start + 1]!r}); "
            "re-save it as UTF-8"
        ) from None
    return text.removeprefix("\ufeff")


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def python_files(root: Path) -> Iterator[Path]:
    """Python files under ``root`` (or ``root`` itself), skipping VCS and virtualenv folders."""
    if root.is_file():
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            if name.endswith((".py", ".pyi")):
                yield Path(dirpath) / name


def all_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            yield Path(dirpath) / name
