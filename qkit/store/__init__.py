"""The results store: every run and every cloud job, kept in one SQLite file.

Where: an explicit ``path``, else the ``QKIT_STORE`` environment variable, else
``platformdirs.user_data_dir("qkit") / "results.sqlite"``.

A *run* is one experiment (``kind`` "mixup", "channel", "sweep", ...). Its life is
``create_run`` (status "running", or "submitted" for cloud work) then ``finish_run``
("done") or ``fail_run`` ("failed"); ``save_run`` does both at once. Parameters, prediction,
estimate, raw counts, backend, seeds, package versions and metadata are JSON columns; times
are UTC ISO 8601. Cloud *jobs* are recorded with ``add_jobs`` before waiting on them, so an
interrupted session can find and resume them.

Guarantees:

- every write is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``) in WAL mode: an
  interrupted process leaves either the whole record or nothing;
- several processes may write at once: writers queue on SQLite's lock (``timeout`` seconds);
- a store never lies: a file that is corrupt, another program's database, from a newer qkit
  or unreadable is a one-line :class:`StoreError` naming it; ``readonly=True`` never creates,
  migrates or writes anything (read-only files and folders can be read); a row that cannot be
  decoded is reported by its id;
- the schema carries a version (``PRAGMA user_version``); an older store is migrated on its
  first write, in one transaction, after a backup copy is written next to it;
- the files are private: a new store (and its ``-wal``/``-shm``) is 0600, new folders 0700;
- nothing that looks like a credential is stored: values under keys such as ``token``,
  ``api_key``, ``secret``, ``password``, ``instance`` are replaced by ``"<redacted>"``
  (at any depth) and the redacted paths listed in ``metadata["redacted"]``.

Modules: ``_files`` (locating the file, private files and folders), ``_schema`` (tables,
version, migrations, what a file holds), ``_database`` (opening, connections, transactions,
errors), ``_records`` (records and JSON columns), ``_redaction``, ``_runs`` and ``_jobs``
(the two tables), ``_store`` (:class:`ResultsStore`).
"""

from qkit.store._errors import StoreError, StoreNotFound
from qkit.store._files import ENV_VAR, default_store_path
from qkit.store._records import (
    JOB_STATUSES,
    RUN_STATUSES,
    JobRecord,
    RunRecord,
    new_run_id,
)
from qkit.store._redaction import REDACTED
from qkit.store._schema import APPLICATION_ID, SCHEMA_VERSION
from qkit.store._store import ResultsStore

__all__ = [
    "APPLICATION_ID",
    "ENV_VAR",
    "JOB_STATUSES",
    "REDACTED",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "JobRecord",
    "ResultsStore",
    "RunRecord",
    "StoreError",
    "StoreNotFound",
    "default_store_path",
    "new_run_id",
]
