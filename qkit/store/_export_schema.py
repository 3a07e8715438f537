"""The JSON Schema of an exported run (format ``qkit-run/1``), one dict per format.

The record, its jobs and its provenance (sampled or exact engine); what a schema cannot say
(dates in order, a running run's jobs, one backend) is checked by :mod:`qkit.store._document`.
"""

from __future__ import annotations

from typing import Any

from qkit.store._records import JOB_COLUMNS, JOB_STATUSES, RUN_COLUMNS, RUN_STATUSES

RUN_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
"""A run id: safe as a file name (never ``.``/``..``, no slash), at most 128 characters."""
NAME = r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$"
JOB_ID = r"^[A-Za-z0-9][A-Za-z0-9._:,/+=-]{0,1023}$"
_DATE = {"type": "string", "format": "date-time", "maxLength": 40}
_INT = {"type": "integer"}
_SEED = {"type": "integer", "minimum": 0, "maximum": 2**64 - 1}
_SHOTS = {"type": "integer", "minimum": 1, "maximum": 10**12}

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_ESTIMATE = {
    "type": ["object", "null"],
    "additionalProperties": {
        "if": {"type": "object"},
        "then": {
            "properties": {
                key: _NUMBER_OR_NULL
                for key in ("ci_low", "ci_high", "stderr", "significance", "threshold")
            }
            | {"at_boundary": {"type": ["boolean", "null"]}},
            "patternProperties": {
                "_bound$": _NUMBER_OR_NULL,  # lower_bound, upper_bound
                "_p_value$": _NUMBER_OR_NULL,
                "_sigma$": _NUMBER_OR_NULL,
            },
        },
    },
}
"""Estimates as ``results show`` prints them: their bounds and tests are numbers."""
_RUN = {
    "type": "object",
    "additionalProperties": False,
    "required": list(RUN_COLUMNS),
    "properties": {
        "run_id": {"type": "string", "pattern": RUN_ID},
        "kind": {"type": "string", "pattern": NAME},
        "status": {"enum": list(RUN_STATUSES)},
        "created_at": _DATE,
        "finished_at": {"anyOf": [{"type": "null"}, _DATE]},
        "backend": {"anyOf": [{"type": "null"}, {"type": "string", "pattern": NAME}]},
        "params": {"type": "object"},
        "prediction": {},
        "estimate": _ESTIMATE,
        "counts": {},
        "seeds": {},
        "versions": {
            "anyOf": [
                {"type": "null"},
                {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
            ]
        },
        "metadata": {"type": ["object", "null"]},
    },
}
_JOB = {
    "type": "object",
    "additionalProperties": False,
    "required": list(JOB_COLUMNS),
    "properties": {
        "job_id": {"type": "string", "pattern": JOB_ID},
        "run_id": {"type": "string", "pattern": RUN_ID},
        "backend": {"type": "string", "pattern": NAME},
        "status": {"enum": list(JOB_STATUSES)},
        "payload": {},
        "result": {},
        "created_at": _DATE,
        "updated_at": _DATE,
    },
}
_COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
_NESTED_COUNTS = {"anyOf": [_COUNTS, {"type": "array", "items": {"$ref": "#/$defs/counts"}}]}
_NUMBERS = {"anyOf": [{"type": "number"}, {"type": "array", "items": {"$ref": "#/$defs/numbers"}}]}
_PROVENANCE_COMMON = {
    "format": {"const": 1},
    "experiment": {"type": "string", "pattern": NAME},
    "point": {"type": "object", "additionalProperties": {"type": ["number", "string", "null"]}},
    "backend": {"type": "string", "pattern": NAME},
    "shots": _SHOTS,
    "seed": _SEED,
    "deterministic": {"type": "boolean"},
    "calibration": {"type": ["object", "null"]},
    "versions": {"type": ["object", "null"]},
}
SAMPLED_PROVENANCE = {
    "type": "object",
    "required": [
        "format",
        "engine",
        "experiment",
        "point",
        "backend",
        "optimization_level",
        "realization",
        "shots",
        "seed",
        "circuits",
        "pubs",
        "counts",
    ],  # fmt: skip
    "properties": {
        **_PROVENANCE_COMMON,
        "engine": {"const": "sampler"},
        "optimization_level": {"type": "integer", "minimum": 0, "maximum": 3},
        "realization": {"anyOf": [{"type": "null"}, {"type": "string", "pattern": NAME}]},
        "mitigate": {"type": ["string", "null"], "maxLength": 40},
        "simulator_seed": _SEED,
        "circuits": {
            "type": "object",
            "required": ["qpy", "qasm3"],
            "properties": {
                "qpy": {"type": ["string", "null"]},
                "qasm3": {"type": "array", "items": {"type": ["string", "null"]}},
            },
        },
        "pubs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["circuit", "values", "shots"],
                "additionalProperties": False,
                "properties": {
                    "circuit": {"type": "integer", "minimum": 0},
                    "values": {
                        "anyOf": [
                            {"type": "null"},
                            {"type": "object", "additionalProperties": {"$ref": "#/$defs/numbers"}},
                        ]
                    },
                    "shots": {"anyOf": [{"type": "null"}, _SHOTS]},
                },
            },
        },
        "noise": {
            "anyOf": [
                {"type": "null"},
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["label", "unitaries_real", "unitaries_imag", "weights"],
                        "properties": {
                            "label": {"type": "string", "maxLength": 128},
                            "unitaries_real": {"$ref": "#/$defs/numbers"},
                            "unitaries_imag": {"$ref": "#/$defs/numbers"},
                            "weights": {"type": "array", "items": {"type": "number"}},
                        },
                    },
                },
            ]
        },
        "owners": {
            "type": "array",
            "items": {
                "type": "array",
                "prefixItems": [_INT, {"type": ["integer", "null"]}],
                "minItems": 2,
                "maxItems": 2,
            },
        },
        "counts": {"type": "array", "items": {"$ref": "#/$defs/counts"}},
    },
}
EXACT_PROVENANCE = {
    "type": "object",
    "required": ["format", "engine", "experiment", "point", "backend", "shots", "seed"],
    "properties": {**_PROVENANCE_COMMON, "engine": {"const": "exact"}},
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "qkit-run/1": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://qkit.invalid/schemas/qkit-run-1.json",
        "title": "A run exported by qkit results export (format qkit-run/1)",
        "type": "object",
        "additionalProperties": False,
        "required": ["format", "run"],
        "properties": {
            "format": {"const": "qkit-run/1"},
            "run": _RUN,
            "jobs": {"anyOf": [{"type": "null"}, {"type": "array", "items": _JOB}]},
            "provenance": {
                "anyOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["engine"],
                        "properties": {"engine": {"enum": ["sampler", "exact"]}},
                    },
                ]
            },
        },
        "$defs": {"counts": _NESTED_COUNTS, "numbers": _NUMBERS},
    }
}
"""The JSON Schema of each export format; the key is the document's ``format``."""
