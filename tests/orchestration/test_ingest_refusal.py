"""A refused import seen through Dagster: its event log names file and line, never a value."""

from __future__ import annotations

from dagster import DagsterInstance, materialize
from dagster._serdes import serialize_value

from orchestration.assets.ingest import raw_hr_tables
from orchestration.resources import HireloopRuntime
from tests.hris.raw_fixtures import make_raw_frames, write_csv_export

NAME, NATIONAL_ID, EMAIL = "Wang Secretname", "110101199003075678", "leak.me@example.com"


def test_a_ragged_row_reaches_the_event_log_without_its_values(
    pg_server, hireloop_home, tmp_path
):
    write_csv_export(make_raw_frames(20, seed=4), tmp_path)
    with open(tmp_path / "job_roles.csv", "a", encoding="utf-8") as fh:
        fh.write(f"R99,sales,{NAME},{NATIONAL_ID},{EMAIL},1,100,true\n")
    database = pg_server.create_database("ingest_refused")
    config = {"source": "import", "import_dir": str(tmp_path), "as_of": "2025-01-01"}
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [raw_hr_tables],
            resources={"hireloop": HireloopRuntime(home=str(hireloop_home), database=database)},
            run_config={"ops": {"raw_hr_tables": {"config": config}}},
            instance=instance,
            raise_on_error=False,
        )
        logged = "\n".join(serialize_value(e) for e in instance.all_logs(result.run_id))
    assert not result.success
    assert "job_roles.csv: line 10: a row of 8 field(s) where the header has 7" in logged
    for marker in ("Secretname", "199003075678", "leak.me"):
        assert marker not in logged
    conn = pg_server.endpoint.connect(database)
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('raw.job_roles')")
        assert cur.fetchone()[0] is None  # nothing of the refused import was kept
    conn.close()
