"""Reading and writing user files safely: never a half-written file, never a crash on junk."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

MAX_BYTES = 20 * 1024 * 1024
SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "node_modules", ".tox",
             ".mypy_cache", ".ruff_cache", ".pytest_cache"}  # fmt: skip


class ReadProblem(Exception):
    """A file that cannot be analysed; the message says why, for the user."""


def read_regular(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or a ReadProblem saying why not.

    Opened without blocking and checked on the open descriptor, so a FIFO never hangs the
    caller and a device such as /dev/zero is never read into memory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ReadProblem(f"cannot read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ReadProblem(f"skipped: not a regular file ({_file_kind(mode)})")
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise ReadProblem(f"cannot read: {exc.strerror}") from None
    if len(data) > limit:
        raise ReadProblem(f"skipped: larger than the {limit // 1024 // 1024} MiB limit")
    return data


def _file_kind(mode: int) -> str:
    kinds = [(stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISDIR, "a folder")]  # fmt: skip
    return next((name for test, name in kinds if test(mode)), "not a file")


def read_source(path: Path) -> str:
    data = read_regular(path)
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
