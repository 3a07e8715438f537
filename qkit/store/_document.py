"""An exported run as it comes in: read within limits, checked whole against a versioned schema.

``qkit results import FILE`` trusts nothing in FILE. Before anything is stored, the document
is read from a regular file of at most :data:`MAX_BYTES` (a device such as ``/dev/zero`` or a
FIFO is refused before it is read), parsed with a nesting limit of :data:`MAX_DEPTH`, and
checked against the JSON Schema of its format (:data:`SCHEMAS`, ``qkit-run/1``: the run record,
its jobs and its provenance) and then against what a schema cannot say: dates that are dates,
a run that is ``running`` or ``submitted`` has jobs, a finished run has its finish time, the
provenance names the same backend as the record, every PUB points at a stored circuit, and the
compressed circuits (QPY) expand to at most :data:`MAX_QPY_BYTES`. The first problem is one
line naming the field (``run.status``, ``provenance.pubs[3].circuit``) as a ``ValueError``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import re
import stat
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

from qkit.store._export_schema import EXACT_PROVENANCE, SAMPLED_PROVENANCE, SCHEMAS

MAX_BYTES = 256 * 1024 * 1024
"""Largest file ``qkit results import`` reads (256 MiB; exports of real runs are far smaller)."""
MAX_DEPTH = 32
"""Deepest nesting of lists and objects in a document (exports reach about 8)."""
MAX_QPY_BYTES = 64 * 1024 * 1024
"""Largest decompressed QPY of a provenance (64 MiB; a compression bomb is refused)."""


def read(path: str | os.PathLike[str]) -> Any:
    """The JSON document in the file at ``path``, read within the limits (ValueError if not)."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the open
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder, not an exported run") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path} is not a regular file, so not an exported run")
        if info.st_size > MAX_BYTES:
            raise ValueError(f"{path} is larger than {MAX_BYTES} bytes, the import limit")
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValueError(f"{path} is larger than {MAX_BYTES} bytes, the import limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not JSON: not UTF-8 at byte {exc.start}") from None
    depth = _bracket_depth(text)
    if depth > MAX_DEPTH:
        raise ValueError(f"{path} nests deeper than {MAX_DEPTH} levels, the import limit")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _bracket_depth(text: str) -> int:
    """Deepest nesting of ``[`` / ``{`` outside strings (stops early past the limit)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    break
        elif token in "]}":
            depth -= 1
    return deepest


def check(document: Any) -> None:
    """ValueError naming the first field of ``document`` that its format does not allow."""
    import jsonschema

    if not isinstance(document, dict):
        raise ValueError(f"not an exported qkit run: a JSON {_kind(document)}, not an object")
    fmt = document.get("format")
    if not isinstance(fmt, str) or fmt not in SCHEMAS:
        known = ", ".join(SCHEMAS)
        raise ValueError(f"not an exported qkit run (format must be one of {known}, got {fmt!r})")
    validator = jsonschema.Draft202012Validator(SCHEMAS[fmt], format_checker=_format_checker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        raise ValueError(_line([], error))
    _check_meaning(document)


def _date(text: object) -> bool:
    if not isinstance(text, str):
        return True
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return False
    return stamp.tzinfo is not None


@functools.cache
def _format_checker():
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time")(_date)
    return checker


def _line(prefix: list, error) -> str:
    """``field: reason`` for the first schema error (a missing field is named as the field)."""
    path = [*prefix, *error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return f"{_where([*path, missing])}: missing"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in error.instance if k not in allowed)[:1] or ["?"]
        return f"{_where([*path, extra[0]])}: not a field of this format"
    return f"{_where(path)}: {_reason(error)}"


def _where(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "the document"


def _reason(error) -> str:
    value = error.instance
    shown = json.dumps(value)[:60] if _scalar(value) else f"a JSON {_kind(value)}"
    validator = error.validator
    if validator == "enum":
        return f"must be one of {', '.join(map(str, error.validator_value))}, got {shown}"
    if validator == "format":
        return f"must be a date and time with its UTC offset (ISO 8601), got {shown}"
    if validator == "pattern":
        return f"has characters or a length not allowed, got {shown}"
    if validator == "required":
        return error.message.replace("'", "")
    if validator in ("type", "anyOf"):
        return f"has the wrong type ({_kind(value)}: {shown})"
    return f"{error.message[:120]}"


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "number" if isinstance(value, int | float) else "null"
    )


def _check_meaning(document: dict[str, Any]) -> None:
    run = document["run"]
    jobs = document.get("jobs") or []
    created = datetime.fromisoformat(run["created_at"])
    if run["status"] in ("done", "failed") and run["finished_at"] is None:
        raise ValueError(f"run.finished_at: a {run['status']} run must have its finish time")
    if run["finished_at"] is not None:
        if run["status"] not in ("done", "failed"):
            raise ValueError(f"run.finished_at: a {run['status']} run has not finished")
        if datetime.fromisoformat(run["finished_at"]) < created:
            raise ValueError("run.finished_at: earlier than run.created_at")
    if run["status"] in ("running", "submitted") and not jobs:
        raise ValueError(
            f"run.status: a {run['status']} run must come with its jobs (the export has none)"
        )
    for k, job in enumerate(jobs):
        if job["run_id"] != run["run_id"]:
            raise ValueError(f"jobs[{k}].run_id: belongs to another run ({job['run_id']!r})")
        if job["job_id"].startswith("qkit-local-"):
            from qkit.backends._detached import is_local_job_id

            if not is_local_job_id(job["job_id"]):
                raise ValueError(f"jobs[{k}].job_id: not a local job id ({job['job_id'][:60]!r})")
    if document.get("provenance") is not None:
        check_provenance(document["provenance"], run["backend"])


def check_provenance(provenance: Any, backend: Any) -> None:
    """ValueError naming the first bad field of a run's provenance (``provenance.<field>``),
    or if it names another backend than the run's record (``backend``)."""
    import jsonschema

    if not isinstance(provenance, dict) or provenance.get("engine") not in ("sampler", "exact"):
        raise ValueError("provenance.engine: must be one of sampler, exact")
    schema = SAMPLED_PROVENANCE if provenance["engine"] == "sampler" else EXACT_PROVENANCE
    schema = {**schema, "$defs": SCHEMAS["qkit-run/1"]["$defs"]}
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(provenance)
    )
    if error is not None:
        raise ValueError(_line(["provenance"], error))
    if backend != provenance["backend"]:
        raise ValueError(
            f"provenance.backend: {provenance['backend']!r} disagrees with the run's backend"
            f" {backend!r}"
        )
    if provenance["engine"] == "sampler":
        _check_sampled(provenance)


def _check_sampled(provenance: dict[str, Any]) -> None:
    circuits = provenance["circuits"]
    count = len(circuits["qasm3"])
    for k, pub in enumerate(provenance["pubs"]):
        if pub["circuit"] >= count:
            raise ValueError(
                f"provenance.pubs[{k}].circuit: {pub['circuit']} but {count} circuits are stored"
            )
    if len(provenance["counts"]) != len(provenance["pubs"]):
        raise ValueError(
            f"provenance.counts: {len(provenance['counts'])} entries for"
            f" {len(provenance['pubs'])} PUBs"
        )
    owners = provenance.get("owners")
    if owners is not None and len(owners) != len(provenance["pubs"]):
        raise ValueError(f"provenance.owners: {len(owners)} entries for the PUBs")
    if circuits["qpy"] is not None:
        qpy_bytes(circuits["qpy"], "provenance.circuits.qpy")


def qpy_bytes(blob: str, field: str = "circuits.qpy") -> bytes:
    """The QPY bytes of a base64, zlib-compressed blob, at most :data:`MAX_QPY_BYTES` of them."""
    try:
        compressed = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{field}: not base64") from None
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(compressed, MAX_QPY_BYTES)
    except zlib.error as exc:
        raise ValueError(f"{field}: not zlib-compressed QPY ({exc})") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise ValueError(
            f"{field}: expands beyond {MAX_QPY_BYTES} bytes (the limit) or is truncated"
        )
    if not data.startswith(b"QISKIT"):
        raise ValueError(f"{field}: not QPY (no QISKIT header)")
    return data
