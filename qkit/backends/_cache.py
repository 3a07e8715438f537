"""What does not change between runs on a device, kept on disk: one folder per calibration.

A run on a device spends most of its time on things that depend only on the device's
calibration and on qkit, not on the point: the noise-aware layout ranking, the transpiled
circuit families, the readout calibration, a point's exact device-noise prediction
(:func:`qkit.device_model.run_probabilities`) and, for a fake device, its target
(:mod:`qkit.backends._snapshot`, so that a later run need not import qiskit-ibm-runtime). They
are kept in
``$QKIT_CACHE_DIR`` (default: the user cache folder, ``platformdirs.user_cache_dir("qkit")``)
under ``devices/<fingerprint>/``, where the fingerprint hashes the device's name, its target
(every instruction's error and duration, every qubit's T1, T2 and frequency, ``dt``) and the
versions of qkit, Qiskit, Aer and qiskit-ibm-runtime. A new calibration or a new qkit is a
new folder, so nothing stale is ever read.

Entries are data, never code: JSON, and circuits as QPY (Qiskit's own data format, no
pickle). Every entry is written to a temporary file in the same folder and moved into place
with ``os.replace``, so concurrent processes never see half an entry (two may compute the
same entry; the last one wins, and both are the same). An entry that cannot be read is a miss.
``qkit cache info`` shows the folder and its size; ``qkit cache clear`` deletes it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

ENV = "QKIT_CACHE_DIR"
"""Environment variable naming the cache folder."""


def cache_dir() -> Path:
    """The cache folder: ``$QKIT_CACHE_DIR`` or the user cache folder of qkit."""
    configured = os.environ.get(ENV)
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("qkit"))


@functools.cache
def _versions() -> str:
    from importlib import metadata

    out = []
    for package in ("qkit-comm", "qiskit", "qiskit-aer", "qiskit-ibm-runtime"):
        try:
            out.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            out.append(f"{package}=-")
    return ";".join(out)


def _number(value: Any) -> str:
    return "-" if value is None else repr(float(value))


def _snapshot_files(device) -> list[Path] | None:
    """The configuration and calibration files a fake device is built from, if it is one."""
    names = [getattr(device, a, None) for a in ("conf_filename", "props_filename")]
    tmp = getattr(device, "_tmp_data_dir", None)
    folder = getattr(tmp, "name", None) or getattr(device, "dirname", None)
    if not isinstance(folder, str) or not all(isinstance(n, str) and n for n in names):
        return None
    return [Path(folder, str(n)) for n in names]


def fingerprint(name: str, device) -> str:
    """Hash of ``name``, the device's calibration and the package versions.

    A fake device's calibration is the snapshot it is built from (its two JSON files, hashed
    as bytes: milliseconds); any other device's is its target, every instruction's error and
    duration and every qubit's T1, T2 and frequency.
    """
    files = _snapshot_files(device)
    if files is not None:
        try:
            return fingerprint_files(name, files)
        except OSError:
            pass
    target = device.target
    digest = hashlib.sha256()
    digest.update(f"{name}|{_versions()}|{target.num_qubits}|{_number(target.dt)}".encode())
    for qubit, props in enumerate(target.qubit_properties or ()):
        values = (getattr(props, k, None) for k in ("t1", "t2", "frequency"))
        digest.update(f"q{qubit}:{','.join(_number(v) for v in values)};".encode())
    for op_name in sorted(target.operation_names):
        entries = target[op_name]
        for qargs in sorted(entries, key=lambda q: (q is None, q or ())):
            props = entries[qargs]
            error = getattr(props, "error", None) if props is not None else None
            duration = getattr(props, "duration", None) if props is not None else None
            digest.update(f"{op_name}{qargs}:{_number(error)},{_number(duration)};".encode())
    return digest.hexdigest()[:24]


def fingerprint_files(name: str, files: list[Path]) -> str:
    """:func:`fingerprint` of a fake device from its snapshot files alone (no device built)."""
    digest = hashlib.sha256(f"{name}|{_versions()}|files".encode())
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path`` and move it into place; a cache
    that cannot be written is only slower (read-only home, full disk): errors are ignored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        pass


class DeviceCache:
    """The cache folder of one device calibration (``fingerprint``)."""

    def __init__(self, fingerprint: str, root: Path | None = None):
        self.folder = (root or cache_dir()) / "devices" / fingerprint

    def _path(self, kind: str, key: str, suffix: str) -> Path:
        name = hashlib.sha256(key.encode()).hexdigest()[:32]
        return self.folder / f"{kind}-{name}{suffix}"

    def _read(self, path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except OSError:
            return None

    def _write(self, path: Path, data: bytes) -> None:
        write_atomic(path, data)

    def get_json(self, kind: str, key: str) -> Any | None:
        data = self._read(self._path(kind, key, ".json"))
        if data is None:
            return None
        try:
            entry = json.loads(data)
        except ValueError:
            return None
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None  # a hash collision or a foreign file: a miss
        return entry.get("value")

    def put_json(self, kind: str, key: str, value: Any) -> None:
        data = json.dumps({"key": key, "value": value}, allow_nan=False).encode()
        self._write(self._path(kind, key, ".json"), data)

    def get_circuit(self, kind: str, key: str):
        """The circuit stored under ``key`` (QPY), or ``None``."""
        data = self._read(self._path(kind, key, ".qpy"))
        if data is None:
            return None
        from qiskit import qpy

        try:
            key_bytes, _, body = data.partition(b"\n")
            if key_bytes.decode() != hashlib.sha256(key.encode()).hexdigest():
                return None
            circuits = qpy.load(io.BytesIO(body))
        except Exception:  # noqa: BLE001 - any unreadable entry is a miss
            return None
        return circuits[0] if len(circuits) == 1 else None

    def put_circuit(self, kind: str, key: str, circuit) -> None:
        from qiskit import qpy

        buffer = io.BytesIO()
        try:
            qpy.dump(circuit, buffer)
        except Exception:  # noqa: BLE001 - a circuit QPY cannot hold is simply not cached
            return
        header = hashlib.sha256(key.encode()).hexdigest().encode() + b"\n"
        self._write(self._path(kind, key, ".qpy"), header + buffer.getvalue())


def info(root: Path | None = None) -> dict[str, Any]:
    """``{"path", "devices", "files", "bytes"}`` of the cache folder (a file another process
    moves or deletes meanwhile is not counted)."""
    folder = (root or cache_dir()) / "devices"
    files, size = 0, 0
    devices = 0
    try:
        for device in folder.iterdir():
            devices += device.is_dir()
            for path in device.rglob("*") if device.is_dir() else ():
                try:
                    size += path.stat().st_size if path.is_file() else 0
                    files += path.is_file()
                except FileNotFoundError:
                    pass
    except FileNotFoundError:
        pass
    return {"path": str(folder), "devices": devices, "files": files, "bytes": size}


def _vanished_is_fine(function, path, exc_info) -> None:
    if not issubclass(exc_info[0], FileNotFoundError):
        raise exc_info[1]


def clear(root: Path | None = None) -> dict[str, Any]:
    """Delete every cached device folder (only what qkit wrote: ``<cache>/devices``).

    Safe while other processes run on devices: the folder is first renamed aside in one step
    (a run writing meanwhile starts a new one, or loses an entry it would only have reused),
    then deleted; folders set aside by a clear that was interrupted go too.
    """
    before = info(root)
    folder = Path(before["path"])
    trash = folder.with_name(f".{folder.name}-cleared-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        folder.rename(trash)
    except FileNotFoundError:
        pass
    for leftover in sorted(folder.parent.glob(f".{folder.name}-cleared-*")):
        for attempt in range(3):  # a writer may still finish a file in it: then once more
            try:
                shutil.rmtree(leftover, onerror=_vanished_is_fine)
            except OSError:
                if attempt == 2:
                    raise
                continue
            if not leftover.exists():
                break
    return before
