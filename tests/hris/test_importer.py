"""The importer against real files and a real PostgreSQL: round trips, refusals, --check."""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hris.contract import RAW_TABLES
from hris.importer import ImportRefused, export_raw, import_export, read_export
from hris.raw_store import load_raw
from hris.simulator import simulate
from tests.hris.raw_fixtures import fingerprints, make_raw_frames, write_csv_export


def _fetch(conn, query: str, params=None) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def _raw_state(conn) -> dict[str, object]:
    """Everything an import could change: rows, versions, load times, history."""
    if _fetch(conn, "SELECT to_regclass('raw.candidates')") == [(None,)]:
        return {"raw": "absent"}
    state: dict[str, object] = dict(fingerprints(conn))
    for table in RAW_TABLES:
        state[f"{table}:loaded_at"] = _fetch(conn, f"SELECT md5(string_agg(_loaded_at::text, ',' "
                                                   f"ORDER BY _loaded_at)) FROM raw.{table}")
        state[f"{table}:replaced"] = _fetch(conn, f"SELECT count(*) FROM raw.{table}__replaced")
    return state


@pytest.fixture(scope="module")
def small_export(tmp_path_factory) -> Path:
    """A valid CSV export with awkward text (commas, quotes, newlines, non-ASCII)."""
    directory = tmp_path_factory.mktemp("small_export")
    write_csv_export(make_raw_frames(60, seed=9), directory)
    return directory


@pytest.fixture
def export_dir(small_export, tmp_path) -> Path:
    """A private copy of the small export that a test may damage."""
    return Path(shutil.copytree(small_export, tmp_path / "export"))


def _csv(directory: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(directory / f"{table}.csv", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
@pytest.mark.parametrize("data", ["simulator", "awkward_text"])
def test_round_trip_through_an_export_is_exact(new_db, tmp_path, fmt, data):
    frames = (simulate(n_candidates=1500, seed=21).raw if data == "simulator"
              else make_raw_frames(300, seed=22))
    source_db, target_db = new_db(), new_db()
    load_raw(source_db, frames, "generated")
    source_db.commit()
    expected = fingerprints(source_db)
    assert {t: rows for t, (rows, _) in expected.items()} == {
        t: len(frames.get(t, ())) for t in RAW_TABLES}

    written = export_raw(source_db, tmp_path, "parquet" if fmt == "parquet" else "csv")
    assert set(written) == set(RAW_TABLES)
    if fmt == "csv.gz":
        for path in written.values():
            with open(path, "rb") as raw, gzip.open(f"{path}.gz", "wb") as packed:
                shutil.copyfileobj(raw, packed)
            path.unlink()

    report = import_export(target_db, tmp_path)
    assert report.load.inserted == report.load.rows_read == sum(len(f) for f in frames.values())
    assert fingerprints(target_db) == expected


def test_importing_the_same_export_twice_changes_nothing(new_db, small_export):
    conn = new_db()
    first = import_export(conn, small_export, source="monday")
    assert first.load.inserted > 0 and first.load.unchanged == 0
    before = _raw_state(conn)

    second = import_export(conn, small_export, source="monday again")
    assert (second.load.inserted, second.load.updated) == (0, 0)
    assert second.load.unchanged == first.load.rows_read
    assert _raw_state(conn) == before
    assert all(before[f"{t}:replaced"] == [(0,)] for t in RAW_TABLES)


def test_an_updated_row_replaces_the_old_version_which_is_kept(new_db, export_dir):
    conn = new_db()
    import_export(conn, export_dir, source="v1")
    candidates = _csv(export_dir, "candidates")
    target = candidates.loc[7, "candidate_id"]
    old_status = candidates.loc[7, "status"]
    candidates.loc[7, "status"] = "withdrawn" if old_status != "withdrawn" else "rejected"
    candidates.to_csv(export_dir / "candidates.csv", index=False)

    report = import_export(conn, export_dir, source="v2")
    assert report.load.tables["candidates"].updated == 1
    assert report.load.updated == 1 and report.load.inserted == 0
    assert _fetch(conn, "SELECT status, _source FROM raw.candidates WHERE candidate_id = %s",
                  [target]) == [(candidates.loc[7, "status"], "v2")]
    assert _fetch(conn, "SELECT candidate_id, status, _source FROM raw.candidates__replaced"
                  ) == [(target, old_status, "v1")]
    assert _fetch(conn, "SELECT count(*) FROM raw.candidates") == [(len(candidates),)]


def _unknown_table(d: Path) -> None:
    shutil.copy(d / "candidates.csv", d / "candidate.csv")


def _missing_column(d: Path) -> None:
    _csv(d, "candidates").drop(columns=["email"]).to_csv(d / "candidates.csv", index=False)


def _renamed_column(d: Path) -> None:
    frame = _csv(d, "interview_scores").rename(columns={"score": "score_value"})
    frame.to_csv(d / "interview_scores.csv", index=False)


def _binary_junk(d: Path) -> None:
    (d / "interviews.csv").write_bytes(bytes(range(256)) * 40)


def _latin1(d: Path) -> None:
    text = (d / "employees.csv").read_text(encoding="utf-8") + "E999,Jörg Ås,1,e@x,,male,"
    (d / "employees.csv").write_bytes(text.encode("latin-1", errors="replace") + b"\n")


def _ragged_row(d: Path) -> None:
    with open(d / "job_roles.csv", "a", encoding="utf-8") as fh:
        fh.write("R99,sales,Seller,1,monthly_sales,100000,true,surplus,cells\n")


def _corrupt_parquet(d: Path) -> None:
    (d / "job_roles.csv").unlink()
    (d / "job_roles.parquet").write_bytes(b"PAR1" + bytes(range(200)) + b"PAR1")


def _truncated_parquet(d: Path) -> None:
    frame = _csv(d, "job_roles")
    (d / "job_roles.csv").unlink()
    frame.to_parquet(d / "job_roles.parquet")
    data = (d / "job_roles.parquet").read_bytes()
    (d / "job_roles.parquet").write_bytes(data[: len(data) // 2])


def _table_twice(d: Path) -> None:
    _csv(d, "job_roles").to_parquet(d / "job_roles.parquet")


def _duplicate_header(d: Path) -> None:
    text = (d / "job_roles.csv").read_text(encoding="utf-8").splitlines()
    text[0] = text[0].replace("title", "role_id")
    (d / "job_roles.csv").write_text("\n".join(text) + "\n", encoding="utf-8")


def _nothing_to_import(d: Path) -> None:
    for path in d.iterdir():
        path.rename(path.with_suffix(".bak"))


@pytest.mark.parametrize(
    ("damage", "names"),
    [
        (_unknown_table, ["candidate.csv", "unknown table", "candidates"]),
        (_missing_column, ["candidates.csv", "'email'"]),
        (_renamed_column, ["interview_scores.csv", "'score'", "score_value"]),
        (_binary_junk, ["interviews.csv"]),
        (_latin1, ["employees.csv", "not UTF-8", "line ", "encoding:", "--profile FILE"]),
        (_ragged_row, ["job_roles.csv", "line 10:", "9 field(s)", "header has 7"]),
        (_corrupt_parquet, ["job_roles.parquet", "unreadable"]),
        (_truncated_parquet, ["job_roles.parquet", "unreadable"]),
        (_table_twice, ["job_roles", "twice"]),
        (_duplicate_header, ["job_roles.csv", "role_id", "more than once"]),
        (_nothing_to_import, ["no export files"]),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else "",
)
def test_a_structurally_bad_export_is_refused_and_loads_nothing(
    new_db, small_export, export_dir, damage, names
):
    conn = new_db()
    import_export(conn, small_export, source="good")
    before = _raw_state(conn)
    damage(export_dir)
    with pytest.raises(ImportRefused) as refused:
        import_export(conn, export_dir, source="bad")
    for name in names:
        assert name in str(refused.value)
    assert _raw_state(conn) == before


def test_a_failure_during_the_load_rolls_back_every_table(new_db, export_dir):
    conn = new_db()
    import_export(conn, export_dir, check=True)  # creates nothing, but proves the export loads
    with conn.cursor() as cur:
        from hris.raw_store import ensure_raw_schema

        ensure_raw_schema(cur)
        # interview_scores loads after candidates: make it fail mid-import.
        cur.execute("ALTER TABLE raw.interview_scores ADD CHECK (score <> '7')")
    conn.commit()
    with pytest.raises(Exception, match="check constraint"):
        import_export(conn, export_dir)
    assert conn.closed == 0
    assert _fetch(conn, "SELECT count(*) FROM raw.candidates") == [(0,)]


def test_bad_values_load_as_they_came(new_db, export_dir):
    conn = new_db()
    scores = _csv(export_dir, "interview_scores")
    scores.loc[0, "score"] = "n/a"
    scores.loc[1, "score"] = "11"
    scores.to_csv(export_dir / "interview_scores.csv", index=False)
    interviews = _csv(export_dir, "interviews")
    interviews.loc[0, "interview_date"] = "2024-13-45"
    interviews.to_csv(export_dir / "interviews.csv", index=False)

    report = import_export(conn, export_dir)
    assert report.load.inserted == report.load.rows_read
    keys = [tuple(scores.loc[i, ["interview_id", "dimension", "scored_by"]]) for i in (0, 1)]
    got = [_fetch(conn, "SELECT score FROM raw.interview_scores WHERE interview_id = %s "
                        "AND dimension = %s AND scored_by = %s", list(k))[0][0] for k in keys]
    assert got == ["n/a", "11"]
    assert _fetch(conn, "SELECT interview_date FROM raw.interviews WHERE interview_id = %s",
                  [interviews.loc[0, "interview_id"]]) == [("2024-13-45",)]


def test_check_reports_what_an_import_would_do_and_changes_nothing(new_db, export_dir):
    conn = new_db()
    empty = import_export(conn, export_dir, check=True)
    assert empty.checked and empty.load.inserted == empty.load.rows_read > 0
    assert _raw_state(conn) == {"raw": "absent"}

    import_export(conn, export_dir, source="base")
    before = _raw_state(conn)
    roles = _csv(export_dir, "job_roles")
    roles.loc[0, "title"] = "Renamed role"
    extra = roles.iloc[[1]].assign(role_id="R_NEW")
    pd.concat([roles, extra]).to_csv(export_dir / "job_roles.csv", index=False)

    report = import_export(conn, export_dir, source="would-be", check=True)
    roles_load = report.load.tables["job_roles"]
    assert (roles_load.inserted, roles_load.updated, roles_load.unchanged) == (
        1, 1, len(roles) - 1)
    assert report.load.updated == 1 and report.load.inserted == 1
    assert "nothing written" in str(report)
    assert _raw_state(conn) == before


def test_duplicate_rows_in_one_export_are_all_kept(new_db, export_dir):
    conn = new_db()
    candidates = _csv(export_dir, "candidates")
    twice = candidates.iloc[[3]]
    changed_twin = candidates.iloc[[5]].assign(status="pending")
    pd.concat([candidates, twice, changed_twin]).to_csv(export_dir / "candidates.csv",
                                                        index=False)
    report = import_export(conn, export_dir)
    assert report.load.tables["candidates"].duplicates == 2
    for i in (3, 5):
        rows = _fetch(conn, "SELECT _dup_seq FROM raw.candidates WHERE candidate_id = %s "
                            "ORDER BY _dup_seq", [candidates.loc[i, "candidate_id"]])
        assert rows == [(1,), (2,)]
    again = import_export(conn, export_dir)
    assert again.load.unchanged == again.load.rows_read


def test_extra_columns_and_stray_files_are_ignored_and_reported(new_db, export_dir):
    conn = new_db()
    roles = _csv(export_dir, "job_roles").assign(cost_centre="CC-1")
    roles.to_csv(export_dir / "job_roles.csv", index=False)
    (export_dir / "README.txt").write_text("exported by the HR system\n")
    report = import_export(conn, export_dir)
    assert any("job_roles.csv" in w and "cost_centre" in w for w in report.warnings)
    assert any("README.txt" in w for w in report.warnings)
    assert "cost_centre" in str(report)
    assert "cost_centre" not in [r[0] for r in _fetch(
        conn, "SELECT column_name FROM information_schema.columns "
              "WHERE table_schema = 'raw' AND table_name = 'job_roles'")]


def test_parquet_values_are_read_as_the_text_an_export_shows(tmp_path):
    table = pa.table({
        "interview_id": pa.array([7, 8], pa.int64()),
        "candidate_id": pa.array(["C1", None]),
        "round": pa.array(["hr", "business"]).dictionary_encode(),
        "interviewer_id": pa.array([1.5, 2.0]),
        "interview_date": pa.array([dt.date(2024, 1, 5), None]),
        "duration_minutes": pa.array([True, False]),
        "overall_rating": pa.array([dt.datetime(2024, 1, 5, 9, 30), dt.datetime(2024, 1, 5)],
                                   pa.timestamp("us")),
        "recommendation": pa.array([None, None], pa.null()),
    })
    pq.write_table(table, tmp_path / "interviews.parquet")
    frame = read_export(tmp_path)["interviews"]
    assert frame.to_dict("records") == [
        {"interview_id": "7", "candidate_id": "C1", "round": "hr", "interviewer_id": "1.5",
         "interview_date": "2024-01-05", "duration_minutes": "true",
         "overall_rating": "2024-01-05T09:30:00", "recommendation": None},
        {"interview_id": "8", "candidate_id": None, "round": "business", "interviewer_id": "2",
         "interview_date": None, "duration_minutes": "false",
         "overall_rating": "2024-01-05T00:00:00", "recommendation": None},
    ]


def test_csv_values_are_kept_verbatim_and_only_the_empty_cell_is_missing(tmp_path):
    (tmp_path / "job_roles.csv").write_bytes(
        "\ufeffrole_id,role_family,title,level,kpi_name,kpi_target,kpi_higher_is_better\n"
        'R1,sales," Lead, ""EMEA""\nline 2",NA,null,N/A,\n'.encode()
    )
    frame = read_export(tmp_path)["job_roles"]
    assert frame.to_dict("records") == [
        {"role_id": "R1", "role_family": "sales", "title": ' Lead, "EMEA"\nline 2',
         "level": "NA", "kpi_name": "null", "kpi_target": "N/A", "kpi_higher_is_better": None}
    ]


def test_before_commit_runs_in_the_import_transaction(new_db, export_dir):
    conn = new_db()

    def register(cur):
        cur.execute("CREATE TABLE IF NOT EXISTS imports_seen (source text)")
        cur.execute("INSERT INTO imports_seen VALUES ('x')")

    import_export(conn, export_dir, check=True, before_commit=register)
    assert _fetch(conn, "SELECT to_regclass('imports_seen')") == [(None,)]
    import_export(conn, export_dir, before_commit=register)
    assert _fetch(conn, "SELECT count(*) FROM imports_seen") == [(1,)]
