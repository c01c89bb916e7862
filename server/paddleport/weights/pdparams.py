"""Write Paddle's ``.pdparams`` (a pickle of ``{name: numpy.ndarray}``) one array at a time.

``pickle.dump`` of a dict needs every array in memory at once, and NumPy's own pickling copies each
array into a bytes object first. This writer emits the same opcodes NumPy and ``paddle.save`` do —
``numpy...._reconstruct`` + ``BUILD`` with the raw bytes — but streams each array's buffer straight
to the file, so peak memory is one converted array. An array given under two names (tied weights)
is written once and the second name refers to it through the pickle memo, as ``pickle`` itself does.
The output goes to a temporary file renamed into place at the end: an error leaves no file.
"""

from __future__ import annotations

import os
import pickle
import struct
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import numpy as np

_CHUNK = 8 * 1024 * 1024
_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy.(_)core.multiarray._reconstruct


class PdparamsWriter:
    """``with PdparamsWriter(path) as w: w.add(name, array)``; the file appears only on success."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp: BinaryIO | None = None
        self._pickler: _StreamPickler | None = None
        self.bytes_written = 0

    def __enter__(self) -> PdparamsWriter:
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent or ".")
        self._tmp_name = name
        self._tmp = os.fdopen(fd, "wb")
        self._pickler = _StreamPickler(self._tmp)
        self._pickler.begin()
        return self

    def add(self, name: str, array: np.ndarray[Any, Any], key: object | None = None) -> None:
        """Write ``name``; ``key`` (e.g. the checkpoint tensor identity) lets a second name share the data."""
        assert self._pickler is not None
        self._pickler.item(name, array, key)

    def alias(self, name: str, key: object) -> bool:
        """Write ``name`` as another name of the array already written under ``key``; False if none was."""
        assert self._pickler is not None
        return self._pickler.alias(name, key)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._tmp is not None and self._pickler is not None
        try:
            if kind is None:
                self._pickler.end()
                self._tmp.flush()
                os.fsync(self._tmp.fileno())
                self.bytes_written = self._tmp.tell()
        finally:
            self._tmp.close()
            if kind is None:
                os.replace(self._tmp_name, self.path)
            else:
                os.unlink(self._tmp_name)


_PythonPickler: Any = pickle._Pickler  # the Python pickler: it exposes its opcodes


class _StreamPickler(_PythonPickler):  # type: ignore[misc]
    """Protocol 4: ``{`` MARK (key, array)… SETITEMS ``}``, one SETITEMS per pair."""

    def __init__(self, fh: BinaryIO) -> None:
        super().__init__(fh, protocol=4)
        self.fh = fh
        self._shared: dict[object, int] = {}  # tensor identity → memo index of its array

    def begin(self) -> None:
        self.write(pickle.PROTO + struct.pack("<B", self.proto))
        self.framer.start_framing()
        self.write(pickle.EMPTY_DICT)
        self.write(pickle.MEMOIZE)
        self.memo[id(self)] = len(self.memo), self  # the dict's memo slot

    def item(self, name: str, array: np.ndarray[Any, Any], key: object | None) -> None:
        if key is not None and self.alias(name, key):
            return
        if array.dtype.byteorder == ">":
            array = array.astype(array.dtype.newbyteorder("<"))
        self.save(name)
        self.save(_RECONSTRUCT)
        self.save((np.ndarray, (0,), b"b"))
        self.write(pickle.REDUCE)
        self.write(pickle.MARK)
        self.save(1)
        self.save(tuple(int(n) for n in array.shape))
        self.save(array.dtype)
        self.save(False)
        self._raw(array)
        self.write(pickle.TUPLE)
        self.write(pickle.BUILD)
        if key is not None:
            self._shared[key] = len(self.memo)
            self.write(pickle.MEMOIZE)
            # a slot under a key no id() can equal: the array itself need not stay alive
            self.memo[("array", len(self.memo))] = len(self.memo), None
        self.write(pickle.SETITEM)
        self.framer.commit_frame()

    def alias(self, name: str, key: object) -> bool:
        index = self._shared.get(key)
        if index is None:
            return False
        self.save(name)
        self.write(self.get(index))
        self.write(pickle.SETITEM)
        return True

    def _raw(self, array: np.ndarray[Any, Any]) -> None:
        """BINBYTES8 with the array's bytes written straight to the file: a contiguous array from its
        own buffer (no copy), another (a transposed view) in row blocks of about ``_CHUNK`` bytes, so
        a transposed tensor never exists twice in memory."""
        header = pickle.BINBYTES8 + struct.pack("<Q", array.nbytes)
        if array.nbytes < self.framer._FRAME_SIZE_TARGET:
            self.write(header + np.ascontiguousarray(array).tobytes())
            return
        self.framer.commit_frame(force=True)
        write = self.framer.file_write
        write(header)
        if array.flags.c_contiguous:
            write(memoryview(array.reshape(-1).view(np.uint8).data))
            return
        rows = max(1, _CHUNK // max(1, array[:1].nbytes))
        for start in range(0, array.shape[0], rows):
            write(memoryview(np.ascontiguousarray(array[start:start + rows]).reshape(-1).view(np.uint8).data))

    def end(self) -> None:
        self.write(pickle.STOP)
        self.framer.end_framing()
