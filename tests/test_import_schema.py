"""``qkit results import`` as an attacker uses it: nothing is stored from a document that is
not a qkit export, the answer is one line naming the field, exit 2, and no code is loaded."""

from __future__ import annotations

import base64
import copy
import json
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qkit.cli import main
from qkit.store import ResultsStore, _document

RUN = ["run", "mixup", "-S", "0.9", "-a", "0.7", "--shots", "100", "--seed", "2"]


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, dict]:
    """Two real exports: a sampled run (with its circuits) and an exact-engine run."""
    folder = tmp_path_factory.mktemp("exports")
    store = folder / "s.sqlite"
    out = {}
    for engine in ("sampler", "exact"):
        extra = ["--intervals", "none", "--engine", engine, "--store", str(store), "--json"]
        assert main([*RUN, *extra]) == 0
        run_id = ResultsStore(store).list_runs(limit=1)[0].run_id
        out[engine] = ResultsStore(store, readonly=True).export_run(run_id)
    return out


def import_(tmp_path: Path, document, capsys) -> tuple[int, str, Path]:
    """Write ``document`` (text, bytes or JSON) and import it into a fresh store path."""
    path = tmp_path / "doc.json"
    if isinstance(document, bytes):
        path.write_bytes(document)
    else:
        path.write_text(document if isinstance(document, str) else json.dumps(document))
    store = tmp_path / "fresh" / "s.sqlite"
    capsys.readouterr()
    code = main(["results", "import", str(path), "--store", str(store)])
    return code, capsys.readouterr().err, store


def refused(code: int, err: str, store: Path, *words: str) -> None:
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("qkit: error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err
    assert not store.exists() and not store.parent.exists()  # nothing created, nothing stored


def test_a_real_export_imports(exports, tmp_path, capsys):
    for document in exports.values():
        code, err, store = import_(tmp_path, document, capsys)
        assert code == 0, err
        ResultsStore(store).get_run(document["run"]["run_id"])
        store.unlink()


def _set(document, path, value):
    node = document
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value


CASES = [
    # (engine, path, value, words in the error line)
    ("sampler", ["run", "status"], "pwned", ["run.status", "done"]),
    ("sampler", ["run", "created_at"], "not a date", ["run.created_at", "ISO 8601"]),
    ("sampler", ["run", "created_at"], "2026-01-01T00:00:00", ["run.created_at"]),  # no offset
    ("sampler", ["run", "finished_at"], None, ["run.finished_at"]),
    ("sampler", ["run", "run_id"], "../../etc/passwd", ["run.run_id"]),
    ("sampler", ["run", "run_id"], "", ["run.run_id"]),
    ("sampler", ["run", "kind"], {"a": 1}, ["run.kind"]),
    ("sampler", ["run", "params"], [1, 2], ["run.params"]),
    ("sampler", ["run", "surprise"], 1, ["surprise"]),
    ("sampler", ["provenance", "circuits"], KeyError, ["provenance.circuits", "missing"]),
    ("sampler", ["provenance", "pubs"], [[1]], ["provenance.pubs[0]"]),
    ("sampler", ["provenance", "pubs", 0, "circuit"], 7, ["provenance.pubs[0].circuit"]),
    ("sampler", ["provenance", "pubs", 0, "shots"], -5, ["provenance.pubs[0].shots"]),
    ("sampler", ["provenance", "shots"], 10**30, ["provenance.shots"]),
    ("sampler", ["provenance", "backend"], "ibm:ibm_fez", ["provenance.backend", "disagrees"]),
    ("sampler", ["provenance", "counts"], [], ["provenance.counts"]),
    ("sampler", ["provenance", "counts", 0, 0], {"00": -3}, ["provenance.counts[0][0]"]),
    ("sampler", ["provenance", "circuits", "qpy"], "!!!", ["provenance.circuits.qpy", "base64"]),
    ("sampler", ["provenance", "format"], 99, ["provenance.format"]),
    ("exact", ["provenance", "engine"], "shell", ["provenance.engine"]),
    ("exact", ["provenance", "seed"], "1; rm -rf /", ["provenance.seed"]),
    ("exact", ["format"], "qkit-run/999", ["format"]),
    # found by the generated documents below: `results show` formatted the bound as a number
    ("sampler", ["run", "estimate", "concurrence", "upper_bound"], [], ["upper_bound"]),
    ("sampler", ["run", "estimate", "concurrence", "threshold"], "x", ["threshold"]),
]


@pytest.mark.parametrize(("engine", "path", "value", "words"), CASES)
def test_a_malformed_document_is_one_line_naming_the_field(
    exports, tmp_path, capsys, engine, path, value, words
):
    document = copy.deepcopy(exports[engine])
    _set(document, path, value)
    refused(*import_(tmp_path, document, capsys), *words)


def test_a_running_run_without_jobs_is_refused(exports, tmp_path, capsys):
    document = copy.deepcopy(exports["exact"])
    document["run"]["status"] = "running"
    document["run"]["finished_at"] = None
    refused(*import_(tmp_path, document, capsys), "run.status", "jobs")


def test_a_job_id_that_walks_out_of_the_jobs_folder_is_refused(exports, tmp_path, capsys):
    document = copy.deepcopy(exports["exact"])
    run = document["run"]
    document["jobs"] = [
        {
            "job_id": "qkit-local-" + "a" * 32 + "/../../Downloads/shared-run",
            "run_id": run["run_id"],
            "backend": "aer",
            "status": "DONE",
            "payload": None,
            "result": None,
            "created_at": run["created_at"],
            "updated_at": run["created_at"],
        }
    ]
    refused(*import_(tmp_path, document, capsys), "jobs[0].job_id")


def test_dev_zero_is_refused_at_once(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    started = time.monotonic()
    assert main(["results", "import", "/dev/zero", "--store", str(store)]) == 2
    assert time.monotonic() - started < 2
    err = capsys.readouterr().err
    assert "not a regular file" in err and len(err.splitlines()) == 1 and not store.exists()


def test_deep_nesting_is_refused_without_recursion(tmp_path, capsys):
    refused(*import_(tmp_path, "[" * 100_000 + "]" * 100_000, capsys), "nests deeper")


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_document, "MAX_BYTES", 1000)
    refused(*import_(tmp_path, " " * 2000, capsys), "larger than 1000 bytes")


def test_a_compressed_qpy_bomb_is_refused(exports, tmp_path, capsys):
    document = copy.deepcopy(exports["sampler"])
    bomb = zlib.compress(b"QISKIT" + bytes(_document.MAX_QPY_BYTES + 1), 9)
    document["provenance"]["circuits"]["qpy"] = base64.b64encode(bomb).decode()
    assert len(json.dumps(document)) < 1_000_000  # a small file ...
    refused(*import_(tmp_path, document, capsys), "expands beyond")  # ... refused unexpanded


@pytest.mark.parametrize("text", [b"\xff\xfe{}", "NaN", '{"format": Infinity}', "", "[]"])
def test_what_is_not_a_json_object_is_refused(tmp_path, capsys, text):
    refused(*import_(tmp_path, text, capsys))


# -- generated: documents an attacker could write ---------------------------------------------
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


def _paths(node, prefix=()):
    """Every path to a value in the document (the places a mutation can hit)."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:3]):
            yield from _paths(value, (*prefix, index))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_malformed_documents_are_one_line_exit_2_nothing_stored(
    exports, tmp_path_factory, capsys, data
):
    """A real export with one value replaced by arbitrary JSON (or a field removed), or any
    JSON at all: either a valid run (then reading it back never fails as a bug) or one line,
    exit 2, no store."""
    tmp_path = tmp_path_factory.mktemp("gen")
    if data.draw(st.booleans(), label="mutate a real export"):
        document = copy.deepcopy(exports[data.draw(st.sampled_from(["sampler", "exact"]))])
        paths = [p for p in _paths(document) if p]
        path = list(data.draw(st.sampled_from(paths), label="path"))
        value = data.draw(st.just(KeyError) | JSON, label="value")
        _set(document, path, value)
    else:
        document = data.draw(JSON, label="document")
    code, err, store = import_(tmp_path, document, capsys)
    if code == 0:  # still a well-formed run: it reads back without a bug
        assert main(["results", "show", json.loads(json.dumps(document))["run"]["run_id"],
                     "--store", str(store)]) == 0  # fmt: skip
        return
    refused(code, err, store)
