"""A store never lies: broken, foreign, newer, read-only and old stores, as a user meets them.

Every kind of file a user may point ``--store`` at is tried with the reading commands (which
must report it on one line, exit non-zero, and leave it byte for byte as it was) and with a
writing open (which must refuse it just the same). Read-only stores are read as another user
would read them: when the tests run as root, a forked child drops to an unprivileged user id,
so the permission bits really apply.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sqlite3
import stat
import tempfile
from pathlib import Path

import pytest

from qkit.cli import main
from qkit.store import APPLICATION_ID, SCHEMA_VERSION, ResultsStore, StoreError, StoreNotFound

FIXTURE_V1 = Path(__file__).parent / "data" / "store_v1.sqlite"  # written by qkit at d13dafc
V1_RUNS = [
    "20250101T000003.000000-dddddd",
    "20250101T000002.000000-cccccc",
    "20250101T000001.000000-bbbbbb",
    "20250101T000000.000000-aaaaaa",
]
NOBODY = 65534


def _store_with_runs(path: Path, n: int = 30) -> Path:
    store = ResultsStore(path)
    for i in range(n):
        store.save_run("mixup", {"i": i}, estimate={"chsh": {"value": 2.0, "stderr": 0.1}})
    return path


def _sqlite(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _make(kind: str, path: Path) -> str:
    """Put a broken or foreign file of ``kind`` at ``path``; return a word the error must say."""
    if kind == "text file":
        path.write_text("run_id,kind\n1,mixup\n" * 50)
        return "not a SQLite database"
    if kind == "garbage header":
        path.write_bytes(b"\x00\xffQKIT?" + os.urandom(8186))
        return "not a SQLite database"
    if kind == "half truncated":
        _store_with_runs(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return "corrupt"
    if kind == "directory":
        path.mkdir()
        return "folder"
    if kind == "empty file":
        path.write_bytes(b"")
        return "empty file"
    if kind == "empty sqlite database":
        _sqlite(path, "CREATE TABLE t (x)", "DROP TABLE t")  # valid, and holding nothing
        return "empty SQLite database"
    if kind == "foreign tables":
        _sqlite(
            path, "CREATE TABLE notes (id INTEGER, text TEXT)", "INSERT INTO notes VALUES (1, 'x')"
        )
        return "not a results store"
    if kind == "foreign with runs table":
        _sqlite(path, "CREATE TABLE runs (id INTEGER)", "CREATE TABLE cache (k, v)")
        return "not a results store"
    if kind == "foreign application id":
        _sqlite(
            path, "PRAGMA application_id = 1234", "CREATE TABLE runs (id)", "CREATE TABLE jobs (x)"
        )
        return "another program"
    if kind == "newer qkit":
        _store_with_runs(path, 3)
        _sqlite(path, "PRAGMA user_version = 99")
        return "newer qkit"
    if kind == "newer qkit, version 1 header":
        shutil.copy(FIXTURE_V1, path)
        _sqlite(path, "PRAGMA user_version = 99")
        return "newer qkit"
    raise AssertionError(kind)


KINDS = [
    "text file",
    "garbage header",
    "half truncated",
    "directory",
    "empty file",
    "empty sqlite database",
    "foreign tables",
    "foreign with runs table",
    "foreign application id",
    "newer qkit",
    "newer qkit, version 1 header",
]


def _snapshot(path: Path) -> tuple:
    """The file's bytes and mtime (a folder: its listing), to prove nothing was written."""
    if path.is_dir():
        return ("dir", sorted(os.listdir(path)))
    return (path.read_bytes(), path.stat().st_mtime_ns, stat.S_IMODE(path.stat().st_mode))


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("kind", KINDS)
def test_reading_commands_report_a_broken_or_foreign_store_on_one_line(tmp_path, capsys, kind):
    path = tmp_path / "results.sqlite"
    word = _make(kind, path)
    before = _snapshot(path)
    for argv in (
        ["results", "list"],
        ["results", "list", "--json"],
        ["results", "show", "20250101"],
        ["jobs", "list"],
        ["jobs", "status", "20250101"],
    ):
        code, out, err = _cli(capsys, *argv, "--store", str(path))
        assert code != 0, (argv, out)
        assert out == "", argv  # never "no runs in ..."
        assert err.count("\n") == 1 and err.startswith("qkit: error: "), err
        assert str(path) in err and word in err, err
        assert "Traceback" not in err
    assert _snapshot(path) == before


# An empty file or database holds nothing to lose: a writing open initialises it (tested below).
@pytest.mark.parametrize("kind", [kind for kind in KINDS if not kind.startswith("empty")])
def test_writing_refuses_a_broken_or_foreign_store_and_changes_nothing(tmp_path, kind):
    path = tmp_path / "results.sqlite"
    word = _make(kind, path)
    before = _snapshot(path)
    with pytest.raises(StoreError, match=word) as exc:
        ResultsStore(path).save_run("mixup", {})
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)
    assert _snapshot(path) == before
    if kind.startswith("foreign"):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not made WAL
        conn.close()


def test_a_missing_store_is_reported_and_never_created_by_reading(tmp_path, capsys):
    path = tmp_path / "sub" / "results.sqlite"
    code, out, err = _cli(capsys, "results", "list", "--store", str(path))
    assert code == 0 and out.strip() == f"no results store at {path} yet" and err == ""
    code, out, _ = _cli(capsys, "jobs", "list", "--store", str(path), "--json")
    assert code == 0 and out.strip() == "[]"
    code, _, err = _cli(capsys, "results", "show", "x", "--store", str(path))
    assert code == 2 and "no results store" in err
    with pytest.raises(StoreNotFound):
        ResultsStore(path, readonly=True)
    assert not path.parent.exists()


def test_an_empty_file_is_not_initialised_by_a_read(tmp_path, capsys):
    path = tmp_path / "r.sqlite"
    path.touch()
    code, _, err = _cli(capsys, "results", "list", "--store", str(path))
    assert code == 2 and "empty file" in err
    with pytest.raises(StoreError, match="empty file"):
        ResultsStore(path, create=False)
    assert path.stat().st_size == 0
    ResultsStore(path).save_run("mixup", {})  # a writer may start a store in it
    assert len(ResultsStore(path, readonly=True).list_runs()) == 1


def test_an_empty_store_says_no_runs_and_a_broken_one_does_not(tmp_path, capsys):
    empty = tmp_path / "empty.sqlite"
    ResultsStore(empty)
    code, out, _ = _cli(capsys, "results", "list", "--store", str(empty))
    assert code == 0 and out.strip() == f"no runs in {empty}"
    broken = tmp_path / "broken.sqlite"
    _make("half truncated", broken)
    code, out, err = _cli(capsys, "results", "list", "--store", str(broken))
    assert code == 2 and out == "" and "corrupt" in err


def test_a_newer_store_is_refused_with_the_versions(tmp_path):
    path = tmp_path / "r.sqlite"
    _make("newer qkit", path)
    message = f"store version 99; this qkit reads up to {SCHEMA_VERSION}"
    for readonly in (True, False):
        with pytest.raises(StoreError, match=message):
            ResultsStore(path, readonly=readonly)


# ---------------------------------------------------------------- read-only files and folders


def _as_unprivileged(fn) -> tuple[int, str, str]:
    """Run ``fn() -> int`` with stdout/stderr captured, as a user the permission bits bind.

    As root, in a forked child whose effective user id is ``nobody`` (the modules ``fn``
    needs must be imported already: the interpreter's own files may be out of its reach).
    """
    if os.geteuid() != 0:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = fn()
        return code, out.getvalue(), err.getvalue()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 99
        out, err = io.StringIO(), io.StringIO()
        try:
            os.close(read)
            os.setegid(NOBODY)
            os.seteuid(NOBODY)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = fn()
        except BaseException as exc:
            err.write(f"{type(exc).__name__}: {exc}")
        finally:
            os.write(write, f"{code}\0{out.getvalue()}\0{err.getvalue()}".encode())
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 16):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    code, out, err = b"".join(chunks).decode().split("\0")
    return int(code), out, err


@pytest.fixture
def shared_dir():
    """A folder outside pytest's private tmp tree, so an unprivileged child can reach it."""
    path = Path(tempfile.mkdtemp(prefix="qkit-ro-", dir="/tmp"))
    os.chmod(path, 0o755)
    yield path
    os.chmod(path, 0o755)
    shutil.rmtree(path)


@pytest.mark.parametrize("folder_writable", [False, True], ids=["read-only folder", "file only"])
def test_a_read_only_store_is_read_and_left_untouched(
    shared_dir, tmp_path, capsys, folder_writable
):
    path = _store_with_runs(shared_dir / "results.sqlite", 12)
    run_id = ResultsStore(path).list_runs(limit=1)[0].run_id
    warm = shutil.copy(path, tmp_path / "warm.sqlite")
    os.chmod(path, 0o444)
    os.chmod(shared_dir, 0o777 if folder_writable else 0o555)
    before, listing = _snapshot(path), sorted(os.listdir(shared_dir))

    def read_all(target: Path = path) -> int:
        codes = [
            main(["results", "list", "--store", str(target), "--limit", "100"]),
            main(["results", "show", run_id, "--store", str(target)]),
            main(["jobs", "list", "--store", str(target)]),
        ]
        return max(codes)

    read_all(warm)  # imports everything the child will need (on a copy: root writes anywhere)
    capsys.readouterr()
    code, out, err = _as_unprivileged(read_all)
    assert code == 0 and err == "", err
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["RUN_ID", "KIND", "STATUS"] and len(lines) >= 13
    assert f"run {run_id}  (mixup, done)" in out and "no jobs recorded" in out
    assert _snapshot(path) == before
    if not folder_writable:
        assert sorted(os.listdir(shared_dir)) == listing  # not even a -shm file
    with pytest.raises(StoreError, match="read-only"):
        ResultsStore(path, readonly=True).save_run("mixup", {})


def test_an_unreadable_store_is_one_line_not_a_listing(shared_dir, capsys):
    path = _store_with_runs(shared_dir / "results.sqlite", 2)
    os.chmod(path, 0o000)

    def list_it() -> int:
        return main(["results", "list", "--store", str(path)])

    code, out, err = _as_unprivileged(list_it)
    assert code == 2 and out == "", out
    assert err.startswith("qkit: error: ") and err.count("\n") == 1 and str(path) in err
    assert "Permission denied" in err or "unable to open" in err


# ---------------------------------------------------------------- versions and migration


def test_a_version_1_store_is_read_as_is_and_migrated_on_write_with_a_backup(tmp_path):
    path = tmp_path / "results.sqlite"
    shutil.copy(FIXTURE_V1, path)
    original = path.read_bytes()
    reader = ResultsStore(path, readonly=True)
    runs = [r.to_dict() for r in reader.list_runs(limit=None, with_counts=True)]
    jobs = [j.to_dict() for j in reader.list_jobs()]
    assert [r["run_id"] for r in runs] == V1_RUNS
    assert reader.get_run("20250101T000001").params == {"eta": 0.5, "token": "<redacted>"}
    assert path.read_bytes() == original  # reading did not migrate

    store = ResultsStore(path)
    backups = sorted(tmp_path.glob("results.sqlite.v1-*.bak"))
    assert backups == [store.backup]
    assert stat.S_IMODE(store.backup.stat().st_mode) == 0o600
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
    conn = sqlite3.connect(store.backup)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT run_id FROM runs ORDER BY run_id DESC").fetchall() == [
        (r,) for r in V1_RUNS
    ]
    conn.close()

    assert [r.to_dict() for r in store.list_runs(limit=None, with_counts=True)] == runs
    assert [j.to_dict() for j in store.list_jobs()] == jobs
    store.finish_run("20250101T000001.000000-bbbbbb", estimate={"mi": 0.3})
    assert store.get_run("20250101T000001").status == "done"
    assert ResultsStore(path).backup is None  # migrated once
    assert sorted(tmp_path.glob("*.bak")) == backups


def test_a_failed_migration_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    from qkit.store import _schema

    path = tmp_path / "results.sqlite"
    shutil.copy(FIXTURE_V1, path)
    broken = ("PRAGMA application_id = 77", "INSERT INTO no_such_table VALUES (1)")
    monkeypatch.setitem(_schema.MIGRATIONS, 1, broken)
    with pytest.raises(StoreError, match="cannot upgrade .* unchanged, and copied to"):
        ResultsStore(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("PRAGMA application_id").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 4
    conn.close()
    assert len(list(tmp_path.glob("results.sqlite.v1-*.bak"))) == 1


# ---------------------------------------------------------------- bad rows, added columns


def test_one_malformed_row_is_named_and_the_other_runs_are_listed(tmp_path, capsys):
    path = _store_with_runs(tmp_path / "r.sqlite", 5)
    ids = [r.run_id for r in ResultsStore(path).list_runs()]
    bad = ids[2]
    _sqlite(path, f"UPDATE runs SET estimate = '{{\"chsh\": ' WHERE run_id = '{bad}'")

    code, out, err = _cli(capsys, "results", "list", "--store", str(path))
    assert code == 2
    listed = [line.split()[0] for line in out.splitlines()[1:]]
    assert listed == [i for i in ids if i != bad]
    assert err.count("\n") == 1 and f"run {bad}" in err and "estimate" in err
    code, out, err = _cli(capsys, "results", "show", bad, "--store", str(path))
    assert code == 2 and f"run {bad}" in err and str(path) in err
    code, out, _ = _cli(capsys, "results", "show", ids[0], "--store", str(path))
    assert code == 0 and ids[0] in out

    store = ResultsStore(path, readonly=True)
    with pytest.raises(StoreError, match=f"run {bad} .* unreadable"):
        store.list_runs()
    unreadable: list[str] = []
    assert len(store.list_runs(unreadable=unreadable)) == 4 and len(unreadable) == 1


def test_a_column_added_by_someone_else_does_not_break_reading(tmp_path, capsys):
    path = _store_with_runs(tmp_path / "r.sqlite", 2)
    _sqlite(path, "ALTER TABLE runs ADD COLUMN note TEXT", "ALTER TABLE jobs ADD COLUMN x")
    run_id = ResultsStore(path).list_runs()[0].run_id
    assert _cli(capsys, "results", "show", run_id, "--store", str(path))[0] == 0
    assert _cli(capsys, "results", "list", "--store", str(path), "--json")[0] == 0
    ResultsStore(path).save_run("mixup", {"after": True})


# ---------------------------------------------------------------- errors after opening


def test_sqlite_errors_after_opening_are_one_line_naming_the_store(tmp_path):
    path = _store_with_runs(tmp_path / "r.sqlite", 1)
    store = ResultsStore(path, timeout=0.2)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="busy") as exc:
            store.save_run("mixup", {})
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert str(path) in str(exc.value)
    path.unlink()
    with pytest.raises(StoreError, match="cannot open") as exc:
        store.list_runs()
    assert str(path) in str(exc.value) and not path.exists()  # not re-created empty


# ---------------------------------------------------------------- private files


def test_a_new_store_and_its_folders_are_private_whatever_the_umask(tmp_path):
    os.chmod(tmp_path, 0o755)
    old = os.umask(0)
    try:
        path = tmp_path / "a" / "b" / "results.sqlite"
        store = ResultsStore(path)
        holder = sqlite3.connect(path)  # keeps the -wal and -shm files in place
        holder.execute("SELECT count(*) FROM runs").fetchone()
        store.save_run("mixup", {"x": 1})
        for name in ("results.sqlite", "results.sqlite-wal", "results.sqlite-shm"):
            assert stat.S_IMODE((path.parent / name).stat().st_mode) == 0o600, name
        holder.close()
        for folder in (tmp_path / "a", tmp_path / "a" / "b"):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    finally:
        os.umask(old)
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755  # an existing folder is left alone
