"""Read torch checkpoints as NumPy, tensor by tensor, without importing torch.

A torch checkpoint (``torch.save`` since 1.6) is a zip: ``<dir>/data.pkl`` pickles the object tree and
each tensor's bytes live in ``<dir>/data/<key>``. Unpickling it with the standard unpickler would
run whatever the pickle names, so ``data.pkl`` is read by an unpickler that resolves only the globals a
state dict needs (tensor rebuilders, storage types, ``OrderedDict``), like ``torch.load(weights_only=
True)``, and turns every tensor into a ``TensorRef``: where its bytes are, not the bytes. Storages
stored uncompressed (torch's default) are memory-mapped when a tensor is read, so reading one
tensor costs that tensor, not the file. ``.safetensors`` files go through the ``safetensors`` package.
"""

from __future__ import annotations

import collections
import json
import pickle
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paddleport.weights import CheckpointError

# torch storage class → NumPy dtype name ("bfloat16" is read as its raw uint16 bits, which is what
# Paddle's own .pdparams stores for bfloat16 parameters)
STORAGE_DTYPES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
    "ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128",
}  # fmt: skip
SAFETENSORS_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64",
    "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool",
}  # fmt: skip
TORCH_DTYPES = {
    "float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
    "complex64", "complex128", "float", "double", "half", "long", "int",
}  # fmt: skip
LAYOUT_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "network")
_CRC_CHUNK = 64 * 1024 * 1024


def numpy_dtype(name: str) -> np.dtype[Any]:
    return np.dtype("uint16" if name == "bfloat16" else name)


@dataclass(frozen=True)
class TensorRef:
    """One tensor of a checkpoint: which bytes, read only when ``read()`` is called."""

    file: Path
    storage: str  # the storage key inside the archive (or the safetensors name)
    dtype: str  # NumPy dtype name, or "bfloat16"
    offset: int  # in elements, into the storage
    shape: tuple[int, ...]
    stride: tuple[int, ...]
    reader: StorageReader = field(repr=False, compare=False)

    @property
    def numel(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.numel * int(numpy_dtype(self.dtype).itemsize)

    @property
    def identity(self) -> tuple[Any, ...]:
        """Equal for two names of the same data (weight tying)."""
        return (self.storage, self.offset, self.shape, self.stride)

    def read(self) -> np.ndarray[Any, Any]:
        """The tensor as a NumPy view (memory-mapped where the file allows it)."""
        return self.reader.view(self)


class StorageReader:
    """Where a checkpoint's storages are; maps each one when a tensor of it is read."""

    def view(self, ref: TensorRef) -> np.ndarray[Any, Any]:
        raise NotImplementedError


class ZipStorages(StorageReader):
    def __init__(self, path: Path, archive: zipfile.ZipFile, prefix: str, byteorder: str) -> None:
        self.path, self.archive, self.prefix, self.byteorder = path, archive, prefix, byteorder
        self._checked: set[str] = set()

    def info(self, key: str) -> zipfile.ZipInfo:
        try:
            return self.archive.getinfo(f"{self.prefix}data/{key}")
        except KeyError:
            raise CheckpointError(f"{self.path}: storage {key!r} is missing from the archive "
                                  "(truncated or corrupt checkpoint)") from None  # fmt: skip

    def view(self, ref: TensorRef) -> np.ndarray[Any, Any]:
        dtype = numpy_dtype(ref.dtype).newbyteorder("<" if self.byteorder == "little" else ">")
        info = self.info(ref.storage)
        count = info.file_size // dtype.itemsize
        last = sum((n - 1) * s for n, s in zip(ref.shape, ref.stride, strict=True))
        needed = ref.offset + 1 + last if ref.numel else 0
        if needed > count:
            raise CheckpointError(f"{self.path}: storage {ref.storage!r} holds {count} elements, "
                                  f"the tensor needs {needed} (corrupt checkpoint)")  # fmt: skip
        if info.compress_type == zipfile.ZIP_STORED:
            start = self._data_start(info)
            if start + info.file_size > self.path.stat().st_size:
                raise CheckpointError(
                    f"{self.path}: the file ends inside storage {ref.storage!r} (truncated)"
                )
            flat: np.ndarray[Any, Any] = (
                np.memmap(self.path, dtype=dtype, mode="r", offset=start, shape=(count,))
                if count else np.zeros(0, dtype)
            )  # fmt: skip
        else:
            flat = np.frombuffer(self.archive.read(info.filename), dtype=dtype, count=count)
        if ref.storage not in self._checked:
            self._check_crc(info, flat)
            self._checked.add(ref.storage)
        out = np.lib.stride_tricks.as_strided(
            flat[ref.offset:], shape=ref.shape, strides=[s * dtype.itemsize for s in ref.stride],
            writeable=False,
        )  # fmt: skip
        return out if dtype.isnative else out.astype(dtype.newbyteorder("="))

    def _data_start(self, info: zipfile.ZipInfo) -> int:
        with self.path.open("rb") as fh:
            fh.seek(info.header_offset)
            header = fh.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise CheckpointError(
                f"{self.path}: bad zip entry header for {info.filename} (corrupt checkpoint)"
            )
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        return int(info.header_offset) + 30 + int(name_len) + int(extra_len)

    def _check_crc(self, info: zipfile.ZipInfo, flat: np.ndarray[Any, Any]) -> None:
        """The zip's checksum of the storage, chunk by chunk: a flipped byte is an error, not a weight."""
        raw = flat.view(np.uint8)
        crc = 0
        for start in range(0, raw.size, _CRC_CHUNK):
            crc = zlib.crc32(raw[start : start + _CRC_CHUNK].data, crc)
        if crc != info.CRC:
            raise CheckpointError(
                f"{self.path}: storage {info.filename} fails its checksum (corrupt checkpoint)"
            )


class _Storage:
    """A persistent-id storage before a tensor view is taken of it."""

    def __init__(self, key: str, dtype: str) -> None:
        self.key, self.dtype = key, dtype


class _Rebuild:
    """Marker for the allowed torch globals; called by REDUCE with the pickled arguments."""

    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        self.name, self.fn = name, fn

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)


class _Dtype:
    def __init__(self, name: str) -> None:
        self.name = name


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only what a state dict needs; any other global is refused by name."""

    def __init__(self, fh: Any, path: Path, storages: ZipStorages) -> None:
        super().__init__(fh, encoding="utf-8")
        self.path, self.storages = path, storages

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _Rebuild(name, self._rebuild_tensor)
        if module == "torch._utils" and name in ("_rebuild_parameter", "_rebuild_parameter_with_state"):
            return _Rebuild(name, lambda data, *_: data)
        if module == "torch" and name in STORAGE_DTYPES:
            return _Dtype(STORAGE_DTYPES[name])
        if module == "torch" and name == "Size":
            return tuple
        if module == "torch" and name == "device":
            return str
        if module == "torch" and name in TORCH_DTYPES:  # a dtype stored next to the weights (configs)
            return f"torch.{name}"
        if module == "_codecs" and name == "encode":
            return lambda text, encoding="latin1": str(text).encode(encoding)
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name == "scalar":
            return _numpy_scalar
        if module == "numpy" and name == "dtype":
            return lambda spec, *_: np.dtype(spec) if spec in np.sctypeDict else None
        raise CheckpointError(
            f"{self.path}: refusing to load: the pickle calls {module}.{name}, which is not part of a state "
            "dict (only tensors, storages, OrderedDict and plain Python values are allowed, like "
            "torch.load(weights_only=True)); if you trust this file, load it with torch and save "
            "model.state_dict() alone"
        )

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage"):
            raise CheckpointError(
                f"{self.path}: unknown persistent id {str(pid)[:80]} (not a torch checkpoint?)"
            )
        storage_type, key = pid[1], str(pid[2])
        if isinstance(storage_type, _Dtype):
            return _Storage(key, storage_type.name)
        raise CheckpointError(f"{self.path}: storage {key} has an unsupported type {storage_type!r}")

    def _rebuild_tensor(self, storage: Any, offset: int, size: Any, stride: Any, *_: Any) -> TensorRef:
        if not isinstance(storage, _Storage):
            raise CheckpointError(f"{self.path}: a tensor without a storage (corrupt checkpoint)")
        return TensorRef(self.path, storage.key, storage.dtype, int(offset), tuple(int(n) for n in size),
                         tuple(int(s) for s in stride), self.storages)  # fmt: skip


def _numpy_scalar(dtype: Any, data: bytes | None = None) -> Any:
    if not isinstance(dtype, np.dtype) or dtype.hasobject or data is None:
        raise CheckpointError("refusing a NumPy scalar that is not a plain number")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


@dataclass
class Checkpoint:
    """The tensors of a checkpoint in file order, and what was left out of it."""

    path: Path
    tensors: dict[str, TensorRef]
    notes: list[str] = field(default_factory=list)
    archive: zipfile.ZipFile | None = None

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def open_checkpoint(path: Path) -> Checkpoint:
    """Open a ``.pt``/``.pth``/``.bin`` zip checkpoint or a ``.safetensors`` file."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read: {exc.strerror}") from None
    if path.suffix == ".safetensors" or (len(head) >= 9 and head[8:9] == b"{" and not head.startswith(b"PK")):
        return _open_safetensors(path)
    if head.startswith(b"\x80") and not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"{path}: a legacy torch checkpoint (saved with _use_new_zipfile_serialization=False or "
            "torch < 1.6): its tensors are not separate from the pickle, so it is not read here; "
            "re-save it with "
            "torch.save(torch.load(path, weights_only=True), new_path)"
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CheckpointError(
            f"{path}: not a complete torch checkpoint (truncated or corrupt zip: {exc})"
        ) from None
    pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
    if not pickles:
        archive.close()
        kind = (
            "a TorchScript archive"
            if any(n.endswith("/constants.pkl") for n in archive.namelist())
            else "no data.pkl"
        )
        raise CheckpointError(
            f"{path}: not a torch.save checkpoint ({kind}); save model.state_dict() with torch.save"
        )
    prefix = pickles[0][: -len("data.pkl")]
    byteorder = "little"
    if f"{prefix}byteorder" in archive.namelist():
        byteorder = archive.read(f"{prefix}byteorder").decode("ascii", "replace").strip() or "little"
    storages = ZipStorages(path, archive, prefix, byteorder)
    try:
        with archive.open(pickles[0]) as fh:
            obj = RestrictedUnpickler(fh, path, storages).load()
    except CheckpointError:
        archive.close()
        raise
    except Exception as exc:  # any malformed pickle: a clear error, never a traceback
        archive.close()
        raise CheckpointError(f"{path}: data.pkl cannot be read (corrupt checkpoint: {exc})") from None
    tensors, notes = select_state_dict(obj, path)
    return Checkpoint(path, tensors, notes, archive)


def select_state_dict(obj: Any, path: Path) -> tuple[dict[str, TensorRef], list[str]]:
    """The state dict inside a checkpoint: the object itself, or its model entry."""
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path}: the checkpoint holds a {type(obj).__name__}, not a state dict")
    notes: list[str] = []
    if obj and all(isinstance(v, TensorRef) for v in obj.values()):
        return dict(obj), notes
    for key in LAYOUT_KEYS:
        inner = obj.get(key)
        if isinstance(inner, Mapping) and inner and all(isinstance(v, TensorRef) for v in inner.values()):
            others = [str(k) for k in obj if k != key]
            if others:
                notes.append(f"using the {key!r} entry; ignored: {', '.join(others)}")
            return dict(inner), notes
    found = {str(k): type(v).__name__ for k, v in obj.items()}
    tensors = {str(k): v for k, v in obj.items() if isinstance(v, TensorRef)}
    if tensors:
        ignored = [k for k in found if k not in tensors]
        notes.append(f"non-tensor entries ignored: {', '.join(ignored)}")
        return tensors, notes
    entries = ", ".join(f"{k}: {t}" for k, t in found.items())
    raise CheckpointError(f"{path}: no state dict found (entries: {entries}); expected tensors at the top "
                          f"level or under one of {', '.join(LAYOUT_KEYS)}")  # fmt: skip


class SafetensorsStorages(StorageReader):
    def __init__(self, path: Path, data_start: int, offsets: dict[str, tuple[int, int]]) -> None:
        self.path, self.data_start, self.offsets = path, data_start, offsets

    def view(self, ref: TensorRef) -> np.ndarray[Any, Any]:
        begin, end = self.offsets[ref.storage]
        dtype = numpy_dtype(ref.dtype).newbyteorder("<")
        if end - begin != ref.nbytes:
            raise CheckpointError(
                f"{self.path}: {ref.storage} has {end - begin} bytes, expected {ref.nbytes}"
            )
        if ref.numel == 0:
            return np.zeros(ref.shape, dtype)
        start = self.data_start + begin
        flat: np.ndarray[Any, Any] = np.memmap(
            self.path, dtype=dtype, mode="r", offset=start, shape=(ref.numel,)
        )
        return flat.reshape(ref.shape)


def _open_safetensors(path: Path) -> Checkpoint:
    """Validated by the ``safetensors`` package; tensors memory-mapped at the offsets its header gives."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy") as handle:
            names = list(handle.keys())
            meta = {
                n: (handle.get_slice(n).get_dtype(), tuple(handle.get_slice(n).get_shape())) for n in names
            }
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(
            f"{path}: not a readable safetensors file (truncated or corrupt: {exc})"
        ) from None
    with path.open("rb") as fh:
        (size,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(size))
    offsets = {n: (int(header[n]["data_offsets"][0]), int(header[n]["data_offsets"][1])) for n in names}
    reader = SafetensorsStorages(path, 8 + size, offsets)
    tensors: dict[str, TensorRef] = {}
    for name in sorted(names, key=lambda n: offsets[n][0]):
        kind, shape = meta[name]
        if kind not in SAFETENSORS_DTYPES:
            raise CheckpointError(
                f"{path}: tensor {name} has dtype {kind}, which Paddle parameters cannot hold"
            )
        stride = tuple(int(np.prod(shape[i + 1 :], dtype=np.int64)) for i in range(len(shape)))
        tensors[name] = TensorRef(path, name, SAFETENSORS_DTYPES[kind], 0, shape, stride, reader)
    return Checkpoint(path, tensors, [])


def iter_tensors(checkpoint: Checkpoint) -> Iterator[tuple[str, TensorRef]]:
    yield from checkpoint.tensors.items()
