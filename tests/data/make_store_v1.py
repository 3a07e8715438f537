"""Write tests/data/store_v1.sqlite with the store code at HEAD d13dafc (schema version 1)."""

import sqlite3
import sys

from qkit.store import ResultsStore

path = sys.argv[1]
s = ResultsStore(path)
a = s.save_run(
    "mixup",
    {"success": 0.9, "amplitude": 0.6},
    prediction={"chsh_max": 2.5},
    estimate={"chsh": {"value": 2.48, "stderr": 0.02}},
    counts={"chsh": [[10, 20, 30, 40]] * 4},
    backend="aer",
    seeds={"seed": 3},
    metadata={"shots": 100},
    run_id="20250101T000000.000000-aaaaaa",
)
b = s.create_run(
    "channel",
    {"eta": 0.5, "token": "x"},
    backend="ibm:fez",
    seeds={"seed": 4},
    status="submitted",
    metadata={"shots": 200},
    run_id="20250101T000001.000000-bbbbbb",
)
s.add_jobs(b, "ibm:fez", ["job-a", "job-b"], payloads=[{"pub": 0}, {"pub": 1}])
s.update_job("job-a", "RUNNING")
c = s.create_run(
    "channel",
    {"eta": 0.1},
    backend="aer",
    seeds={"seed": 5},
    run_id="20250101T000002.000000-cccccc",
)
s.fail_run(c, "backend went away")
d = s.create_run(
    "sweep", {"axes": {"eta": [0.0, 0.5, 1.0]}}, run_id="20250101T000003.000000-dddddd"
)
s.finish_run(d, estimate={"rows": 3}, metadata={"out": "r.csv"})
with sqlite3.connect(path) as conn:
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
