"""The record of one experiment: prediction beside estimate, with its provenance.

A :class:`Result` is what every experiment returns, what ``qkit run --json`` prints, and
what the results store keeps. It knows where it came from: parameters, backend, shots,
seeds, package versions, transpiled circuit sizes and wall time.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_PACKAGES = ("qiskit", "qiskit-aer", "qutip", "numpy", "scipy")


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions of the packages a result depends on (missing ones are omitted)."""
    from importlib.metadata import PackageNotFoundError, version

    from qkit._lazy import qkit_version

    versions = {"python": platform.python_version(), "qkit": qkit_version()}
    for name in _PACKAGES + extra:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    return versions


def jsonable(value: Any) -> Any:
    """Plain JSON values: numpy scalars/arrays to Python, NaN and inf to ``None``."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if np.isfinite(value) else None
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    return value


@dataclass
class Result:
    """One experiment: parameters, exact prediction, sampled estimate, raw counts, provenance."""

    kind: str
    params: dict[str, Any]
    prediction: dict[str, Any]
    estimate: dict[str, Any]
    counts: dict[str, Any]
    shots: int
    seed: int | None
    backend: str
    run_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``qkit run --json`` (counts are left to the store)."""
        record = {
            **self.params,
            "prediction": self.prediction,
            "estimate": self.estimate,
            "shots": self.shots,
            "seed": self.seed,
            "backend": self.backend,
            "run_id": self.run_id,
            "metadata": self.metadata,
        }
        return jsonable(record)


_METHOD_WORDS = {
    "delta": "delta-method",
    "delta-concurrence-mapped": "delta-method",
    "binomial": "binomial",
    "linear-normal": "linear (normal)",
    "linear-feldman-cousins": "Feldman-Cousins (linear)",
    "witness-feldman-cousins": "Feldman-Cousins (witness)",
    "witness-feldman-cousins-mapped": "Feldman-Cousins (witness)",
    "clopper-pearson": "Clopper-Pearson",
}


def interval_methods(estimates: dict[str, Any], intervals: bool = True) -> dict[str, str]:
    """How each estimated quantity's interval was made, from the estimator results themselves:
    their ``method`` (``delta``, ``bootstrap-...``, ``clopper-pearson``), ``binomial`` for
    CHSH values (normal interval from binomial standard errors), ``none`` without intervals."""
    out = {}
    for name, value in estimates.items():
        if not hasattr(value, "_batched_fields") or "ci_low" not in value._batched_fields:
            continue
        method = getattr(value, "method", None) or ("binomial" if hasattr(value, "stderr") else "")
        out[name] = method if intervals else "none"
    return out


def describe_intervals(methods: Any) -> str:
    """Words for the interval methods actually used (``methods``: mappings or a list of them,
    as :func:`interval_methods` records them): ``"delta-method, binomial normal"``,
    ``"bootstrap"``, or ``"off (point estimates only)"``."""
    found: list[str] = []
    for mapping in [methods] if isinstance(methods, dict) else list(methods):
        for method in (mapping or {}).values():
            if not method or method == "none":
                continue
            base = method.split("/")[0].split("-")[0] if "/" in method else method
            word = "bootstrap" if method.startswith("bootstrap") else _METHOD_WORDS.get(base, base)
            if word not in found:
                found.append(word)
    return ", ".join(found) if found else "off (point estimates only)"
