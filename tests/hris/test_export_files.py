"""Real exports the importer used to get wrong (issue 9, item 8), and the import side of
import profiles: encodings, renames, the profile recorded with the import."""

from __future__ import annotations

import gzip
import os
import shutil
import traceback
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hris.data_crypto import DataCipher
from hris.importer import ImportRefused, import_export, read_export
from hris.profile import load_profile
from tests.hris.raw_fixtures import fingerprints, make_raw_frames, write_csv_export
from tests.hris.test_importer import _raw_state

# Personal values planted in damaged rows: no refusal may show any part of them.
NAME, NATIONAL_ID, EMAIL = "Zhang Secretname", "110101199003071234", "leak.me@example.com"
MARKERS = ("Secretname", "199003071234", "leak.me")
JOB_ROLES_HEADER = "role_id,role_family,title,level,kpi_name,kpi_target,kpi_higher_is_better"
PERSONAL_ROW = f"R98,sales,{NAME} {NATIONAL_ID} {EMAIL},1,monthly_sales,100000,true"


@pytest.fixture(scope="module")
def small_export(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("small_export")
    write_csv_export(make_raw_frames(40, seed=3), directory)
    return directory


@pytest.fixture
def export_dir(small_export, tmp_path) -> Path:
    return Path(shutil.copytree(small_export, tmp_path / "export"))


@pytest.fixture
def loaded(new_db, small_export):
    """A database holding the small export, and its state before the test's import."""
    conn = new_db()
    import_export(conn, small_export, source="good")
    return conn, _raw_state(conn)


def _csv(directory: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(directory / f"{table}.csv", dtype=str, keep_default_na=False)


def _profile(tmp_path: Path, text: str) -> object:
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    return load_profile(path)


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


def _recode(directory: Path, encoding: str) -> None:
    """Every CSV file of the export re-encoded, as a system writing `encoding` would."""
    for path in directory.glob("*.csv"):
        path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))


# ------------------------------------------------------------------ a field of 5 MB


def test_a_row_with_a_five_megabyte_field_loads_whole(new_db, export_dir):
    answers = _csv(export_dir, "interview_answers")
    long_answer = ("First I would ask the customer, then the line, \"why\" five times.\n"
                   * 80_000)[: 5 * 2**20]
    answers.loc[3, "answer_text"] = long_answer
    answers.to_csv(export_dir / "interview_answers.csv", index=False)
    conn = new_db()
    report = import_export(conn, export_dir)
    assert report.load.inserted == report.load.rows_read
    with conn.cursor() as cur:
        cur.execute("SELECT answer_text FROM raw.interview_answers WHERE interview_id = %s "
                    "AND question_id = %s", list(answers.loc[3, ["interview_id", "question_id"]]))
        assert cur.fetchone()[0] == long_answer
        cur.execute("SELECT count(*) FROM raw.interview_answers")
        assert cur.fetchone()[0] == len(answers)


def test_a_field_longer_than_two_growths_of_the_block_reads_whole(tmp_path):
    text = "x" * (17 * 2**20)  # beyond the 16 MiB of the first larger block
    (tmp_path / "job_roles.csv").write_text(
        f"{JOB_ROLES_HEADER}\nR1,sales,\"{text}\",1,k,1,true\nR2,rnd,t,1,k,1,true\n",
        encoding="utf-8")
    frame = read_export(tmp_path)["job_roles"]
    assert list(frame["title"].str.len()) == [len(text), 1]


# ----------------------------------------------------------- names, folders, links


def test_an_export_file_is_found_whatever_the_case_of_its_name(new_db, small_export, export_dir):
    expected_db = new_db()
    import_export(expected_db, small_export)
    (export_dir / "candidates.csv").rename(export_dir / "candidates.CSV")
    (export_dir / "job_roles.csv").rename(export_dir / "Job_Roles.Csv")
    with open(export_dir / "interviews.csv", "rb") as raw, \
            gzip.open(export_dir / "interviews.CSV.GZ", "wb") as packed:
        shutil.copyfileobj(raw, packed)
    (export_dir / "interviews.csv").unlink()
    conn = new_db()
    report = import_export(conn, export_dir)
    assert report.files["candidates"].name == "candidates.CSV"
    assert report.files["job_roles"].name == "Job_Roles.Csv"
    assert not report.warnings
    assert fingerprints(conn) == fingerprints(expected_db)


def test_the_same_table_in_two_cases_is_refused(loaded, export_dir):
    conn, before = loaded
    shutil.copy(export_dir / "candidates.csv", export_dir / "CANDIDATES.csv")
    with pytest.raises(ImportRefused, match="'candidates' is given twice"):
        import_export(conn, export_dir)
    assert _raw_state(conn) == before


@pytest.mark.parametrize("holds", ["an export file", "nothing"])
def test_a_subfolder_is_refused_with_what_to_do_never_skipped(loaded, export_dir, holds):
    conn, before = loaded
    (export_dir / "sub").mkdir()
    if holds == "an export file":
        (export_dir / "candidates.csv").rename(export_dir / "sub" / "candidates.csv")
    with pytest.raises(ImportRefused) as refused:
        import_export(conn, export_dir)
    message = str(refused.value)
    assert message.startswith("sub: a folder inside the export folder")
    assert "move its files up" in message and f"hireloop import {export_dir}/sub" in message
    assert _raw_state(conn) == before


def test_a_link_to_a_file_outside_the_folder_is_refused(loaded, export_dir, tmp_path):
    conn, before = loaded
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (export_dir / "candidates.csv").rename(outside / "candidates.csv")
    (export_dir / "candidates.csv").symlink_to(outside / "candidates.csv")
    with pytest.raises(ImportRefused) as refused:
        import_export(conn, export_dir)
    assert str(refused.value).startswith(
        f"candidates.csv: a link to {outside / 'candidates.csv'}, outside the export folder")
    assert "copy the file in" in str(refused.value)
    assert _raw_state(conn) == before


@pytest.mark.parametrize("target", ["nothing", "a folder"])
def test_a_broken_link_or_a_link_to_a_folder_is_refused(loaded, export_dir, tmp_path, target):
    conn, before = loaded
    if target == "nothing":
        (export_dir / "employees.csv").rename(tmp_path / "gone.csv")
        (tmp_path / "gone.csv").unlink()
        (export_dir / "employees.csv").symlink_to(tmp_path / "gone.csv")
        expected = "employees.csv: a link to nothing"
    else:
        (export_dir / "more").symlink_to(export_dir, target_is_directory=True)
        expected = "more: a folder inside the export folder"
    with pytest.raises(ImportRefused, match=expected):
        import_export(conn, export_dir)
    assert _raw_state(conn) == before


def test_a_link_within_the_folder_is_read(new_db, small_export, export_dir):
    expected_db = new_db()
    import_export(expected_db, small_export)
    (export_dir / "candidates.csv").rename(export_dir / "candidates_2024.txt")
    (export_dir / "candidates.csv").symlink_to("candidates_2024.txt")
    conn = new_db()
    report = import_export(conn, export_dir)
    assert report.warnings == ["candidates_2024.txt: not an export file (.csv, .csv.gz, "
                               ".parquet); ignored"]
    assert fingerprints(conn) == fingerprints(expected_db)


def test_a_hidden_export_file_is_reported_not_silently_skipped(new_db, export_dir):
    (export_dir / "job_roles.csv").rename(export_dir / ".job_roles.csv")
    report = import_export(new_db(), export_dir)
    assert "job_roles" not in report.files
    assert any(w.startswith(".job_roles.csv: a hidden file; ignored") for w in report.warnings)


@pytest.mark.parametrize(
    ("raw_name", "shown"),
    [("cand\x1b[2J\x1bidates.csv", "cand\\x1b[2J\\x1bidates.csv"),
     ("notes\rcandidates.csv", "notes\\rcandidates.csv".replace("\\r", "\\x0d")),
     ("candidates\u202evsc.csv", "candidates\\u202evsc.csv")],
)
def test_control_characters_in_file_names_never_reach_the_terminal(
    new_db, export_dir, raw_name, shown
):
    stray = export_dir / raw_name.replace(".csv", ".txt")
    stray.write_text("hello\n")
    shutil.copy(export_dir / "candidates.csv", export_dir / raw_name)
    with pytest.raises(ImportRefused) as refused:
        import_export(new_db(), export_dir)
    message = str(refused.value)
    assert message.startswith(f"{shown}: unknown table")
    assert message.isprintable()

    (export_dir / raw_name).unlink()
    report = import_export(new_db(), export_dir)
    assert any(w.startswith(shown.replace(".csv", ".txt")) for w in report.warnings)
    assert all(w.isprintable() for w in report.warnings)

    stray.unlink()
    (export_dir / raw_name).mkdir()
    with pytest.raises(ImportRefused) as refused:
        import_export(new_db(), export_dir)
    assert str(refused.value).startswith(f"{shown}: a folder") and str(
        refused.value).isprintable()


def test_undecodable_bytes_in_a_name_are_shown_escaped(new_db, export_dir):
    os.rename(export_dir / "candidates.csv", os.fsencode(export_dir) + b"/\xffcand.csv")
    with pytest.raises(ImportRefused) as refused:
        import_export(new_db(), export_dir)
    assert str(refused.value).startswith("\\xffcand.csv: unknown table")


def test_a_folder_whose_name_is_not_utf8_imports(new_db, small_export, tmp_path):
    directory = Path(os.fsdecode(os.fsencode(tmp_path) + b"/export-\xff"))
    shutil.copytree(small_export, directory)
    report = import_export(new_db(), directory)
    assert report.load.inserted == report.load.rows_read > 0
    assert "export-\\xff as source 'export-\\xff'" in str(report)
    str(report).encode("utf-8")  # printable: no undecodable byte left


def test_the_report_escapes_the_folder_name(new_db, small_export, tmp_path):
    directory = Path(shutil.copytree(small_export, tmp_path / "q3\x1b[31m"))
    report = import_export(new_db(), directory)
    assert "q3\\x1b[31m" in str(report) and "\x1b" not in str(report)


# --------------------------------------------------------- no value in any refusal


def _ragged(d: Path) -> None:
    _append(d / "job_roles.csv", f"{PERSONAL_ROW},surplus,{EMAIL}\n".encode())


def _short(d: Path) -> None:
    _append(d / "job_roles.csv", f'R97,sales,"{NAME}\n{NATIONAL_ID}",{EMAIL}\n'.encode())


def _unclosed_quote(d: Path) -> None:
    # The last value's quote never closes: the parser reads every later row into it.
    _append(d / "job_roles.csv", f'R97,sales,t,1,k,1,"true\n{PERSONAL_ROW}\n'.encode())


def _latin1(d: Path) -> None:
    _append(d / "job_roles.csv", f"{PERSONAL_ROW.replace('Zhang', 'Jörg')}\n".encode("latin-1"))


def _gbk(d: Path) -> None:
    _append(d / "job_roles.csv", f"{PERSONAL_ROW.replace('Zhang', '张伟')}\n".encode("gbk"))


def _nul(d: Path) -> None:
    _append(d / "job_roles.csv", f"{PERSONAL_ROW.replace(' ', chr(0), 1)}\n".encode())


def _headerless(d: Path) -> None:
    lines = (d / "job_roles.csv").read_text(encoding="utf-8").splitlines()
    (d / "job_roles.csv").write_text("\n".join([PERSONAL_ROW, *lines[1:]]) + "\n",
                                     encoding="utf-8")


def _parquet_binary(d: Path) -> None:
    (d / "job_roles.csv").unlink()
    frame = pd.DataFrame([PERSONAL_ROW.split(",")], columns=JOB_ROLES_HEADER.split(","))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    title = pa.array([b"\xff\xfe" + f"{NAME} {NATIONAL_ID} {EMAIL}".encode()], pa.binary())
    pq.write_table(table.set_column(2, "title", title), d / "job_roles.parquet")


def _truncated_gzip(d: Path) -> None:
    data = gzip.compress((d / "job_roles.csv").read_bytes() + f"{PERSONAL_ROW}\n".encode())
    (d / "job_roles.csv").unlink()
    (d / "job_roles.csv.gz").write_bytes(data[: len(data) - 30])


@pytest.mark.parametrize(
    ("damage", "names"),
    [
        (_ragged, ["job_roles.csv", "line 10:", "9 field(s)", "header has 7"]),
        (_short, ["job_roles.csv", "line 10:", "4 field(s)"]),
        (_unclosed_quote, ["job_roles.csv", "line 10:", "never closed"]),
        (_latin1, ["job_roles.csv", "line 10", "not UTF-8"]),
        (_gbk, ["job_roles.csv", "line 10", "not UTF-8", "encoding: gb18030", "--profile FILE"]),
        (_nul, ["job_roles.csv", "'title'", "NUL", "data row 9"]),
        (_headerless, ["job_roles.csv", "header row missing"]),
        (_parquet_binary, ["job_roles.parquet", "'title'", "cannot be read as text"]),
        (_truncated_gzip, ["job_roles.csv.gz", "corrupt or truncated"]),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else "",
)
def test_no_refusal_quotes_a_value_of_the_row(loaded, export_dir, damage, names):
    conn, before = loaded
    damage(export_dir)
    with pytest.raises(ImportRefused) as refused:
        import_export(conn, export_dir)
    message = str(refused.value)
    for name in names:
        assert name in message
    # Everything a log would print, chained causes included (Dagster records those too).
    logged = "".join(traceback.format_exception(refused.value))
    assert "codec can't decode" not in logged and "CSV parse error" not in logged
    for marker in MARKERS:
        assert marker not in logged
    assert _raw_state(conn) == before


def test_a_lone_quote_inside_an_unquoted_value_is_kept_as_text(export_dir):
    _append(export_dir / "job_roles.csv", b'R96,sales,12" screen seller,1,k,1,true\n')
    frames = read_export(export_dir)
    assert frames["job_roles"]["title"].iloc[-1] == '12" screen seller'


def test_the_line_of_a_ragged_row_is_the_one_an_editor_shows(new_db, export_dir):
    _append(export_dir / "job_roles.csv",
            'R90,sales,"two\nlines",1,k,1,true\nR91,sales,a\u2028b\x0cc,1,k,1,true\n'
            f"{PERSONAL_ROW},surplus\n".encode())
    with pytest.raises(ImportRefused, match=r"job_roles\.csv: line 13: a row of 8 field"):
        import_export(new_db(), export_dir)


def test_a_wrong_profile_encoding_is_refused_without_values(loaded, export_dir, tmp_path):
    conn, before = loaded
    _recode(export_dir, "gb18030")
    _append(export_dir / "job_roles.csv", f"{PERSONAL_ROW}\n".encode() + b"\x80\n")
    profile = _profile(tmp_path, "encoding: gb18030\n")
    with pytest.raises(ImportRefused) as refused:
        import_export(conn, export_dir, profile=profile, profile_source="p.yaml")
    logged = "".join(traceback.format_exception(refused.value))
    assert "job_roles.csv: not gb18030 text, the profile's encoding (line 11" in logged
    assert "check the profile's `encoding`" in logged
    for marker in MARKERS:
        assert marker not in logged
    assert _raw_state(conn) == before


# ------------------------------------------------------- encodings and renames


def _chinese_candidates(directory: Path) -> pd.DataFrame:
    """candidates.csv as a Chinese HR system writes it: Chinese headers and values."""
    frame = _csv(directory, "candidates")
    frame["full_name"] = [f"张{'伟芳娜秀英敏静丽强磊'[i % 10]}" for i in range(len(frame))]
    frame["gender"] = ["男" if i % 2 else "女" for i in range(len(frame))]
    frame["education"] = "本科"
    return frame.rename(columns={"candidate_id": "候选人编号", "gender": "性别",
                                 "education": "学历"})


CHINESE_PROFILE = (
    "encoding: gb18030\n"
    "columns:\n  candidates: {候选人编号: candidate_id, 性别: gender, 学历: education}\n"
    "values:\n  candidates.gender: {男: male, 女: female}\n")


def test_a_gbk_export_without_a_profile_is_refused_with_the_profile_line_to_add(
    loaded, export_dir
):
    conn, before = loaded
    _chinese_candidates(export_dir).to_csv(export_dir / "candidates.csv", index=False,
                                           encoding="gbk")
    with pytest.raises(ImportRefused) as refused:
        import_export(conn, export_dir)
    message = str(refused.value)
    assert message.startswith("candidates.csv: not UTF-8 text (line 1 ")
    assert "GB18030/GBK" in message and "`encoding: gb18030`" in message
    assert "--profile FILE" in message and "codec" not in message
    assert _raw_state(conn) == before


@pytest.mark.parametrize("written_as", ["gbk", "gb18030"])
def test_a_gbk_export_loads_with_a_profile_and_raw_keeps_its_values(
    new_db, export_dir, tmp_path, written_as
):
    chinese = _chinese_candidates(export_dir)
    _recode(export_dir, "gb18030")  # the other tables hold Latin names GBK lacks
    chinese.to_csv(export_dir / "candidates.csv", index=False, encoding=written_as)
    profile = _profile(tmp_path, CHINESE_PROFILE)
    conn = new_db()
    report = import_export(conn, export_dir, profile=profile, profile_source="cn.yaml")
    assert report.load.inserted == report.load.rows_read and report.profile_recorded
    with conn.cursor() as cur:
        cur.execute("SELECT candidate_id, full_name, gender, education FROM raw.candidates "
                    "ORDER BY candidate_id")
        got = [(c, DataCipher.from_env().decrypt("full_name", n), g, e)
               for c, n, g, e in cur.fetchall()]
        cur.execute("SELECT source, profile->>'encoding' FROM raw._profiles")
        assert cur.fetchall() == [("cn.yaml", "gb18030")]
        cur.execute("SELECT source_value, contract_value FROM raw._value_map ORDER BY 1")
        assert cur.fetchall() == [("女", "female"), ("男", "male")]
    expected = chinese[["候选人编号", "full_name", "性别", "学历"]].sort_values("候选人编号")
    assert got == [tuple(r) for r in expected.itertuples(index=False)]


def test_a_utf8_export_read_under_a_chinese_encoding_is_refused_not_garbled(
    loaded, export_dir, tmp_path
):
    conn, before = loaded
    _chinese_candidates(export_dir).to_csv(export_dir / "candidates.csv", index=False)
    with pytest.raises(ImportRefused) as refused:
        import_export(conn, export_dir, profile=_profile(tmp_path, CHINESE_PROFILE))
    assert "candidates.csv: valid UTF-8 text, not gb18030 as the profile says" in str(
        refused.value)
    assert _raw_state(conn) == before


@pytest.mark.parametrize("encoding", [None, "utf-8", "utf-8-sig"])
def test_a_utf8_byte_order_mark_is_accepted_with_or_without_a_profile(
    new_db, small_export, export_dir, tmp_path, encoding
):
    expected_db = new_db()
    import_export(expected_db, small_export)
    for table in ("candidates", "job_roles"):
        data = (export_dir / f"{table}.csv").read_bytes()
        (export_dir / f"{table}.csv").write_bytes(b"\xef\xbb\xbf" + data)
    profile = _profile(tmp_path, f"encoding: {encoding}\n") if encoding else None
    conn = new_db()
    import_export(conn, export_dir, profile=profile, profile_source="bom.yaml")
    assert fingerprints(conn) == fingerprints(expected_db)


def test_renames_act_before_the_header_check_in_csv_and_parquet(new_db, export_dir, tmp_path):
    scores = _csv(export_dir, "interview_scores").rename(
        columns={"score": "得分", "scored_by": "评分人"})
    scores.to_csv(export_dir / "interview_scores.csv", index=False)
    roles = _csv(export_dir, "job_roles").rename(columns={"role_family": "岗位族"})
    (export_dir / "job_roles.csv").unlink()
    roles.to_parquet(export_dir / "job_roles.parquet")
    profile = _profile(tmp_path, "columns:\n  interview_scores: {得分: score, 评分人: scored_by}\n"
                                 "  job_roles: {岗位族: role_family, 旧列: title}\n")
    frames = read_export(export_dir, profile)
    assert list(frames["interview_scores"]["score"]) == list(scores["得分"])
    assert list(frames["job_roles"]["role_family"]) == list(roles["岗位族"])
    report = import_export(new_db(), export_dir, profile=profile, profile_source="r.yaml")
    assert report.warnings == ["job_roles.parquet: the profile renames column(s) the file does "
                               "not have: '旧列'"]


def test_a_missing_column_refusal_names_the_profile_rename_to_add(loaded, export_dir):
    conn, before = loaded
    scores = _csv(export_dir, "interview_scores").rename(columns={"score": "score_value"})
    scores.to_csv(export_dir / "interview_scores.csv", index=False)
    with pytest.raises(ImportRefused) as refused:
        import_export(conn, export_dir)
    assert str(refused.value) == (
        "interview_scores.csv: missing required column(s) 'score' (found 'score_value') for "
        "table 'interview_scores'; if those are the same columns, rename them in an import "
        "profile (columns: {interview_scores: {score_value: score}}) and import with "
        "--profile FILE")
    assert _raw_state(conn) == before


def test_a_rename_onto_a_column_the_file_has_is_refused_naming_the_rename(
    loaded, export_dir, tmp_path
):
    conn, before = loaded
    candidates = _csv(export_dir, "candidates").assign(性别="男")
    candidates.to_csv(export_dir / "candidates.csv", index=False)
    profile = _profile(tmp_path, "columns:\n  candidates: {性别: gender}\n")
    with pytest.raises(ImportRefused) as refused:
        import_export(conn, export_dir, profile=profile)
    assert str(refused.value) == ("candidates.csv: column 'gender' appears more than once "
                                  "(the profile renames '性别' to it)")
    missing = _profile(tmp_path, "columns:\n  candidates: {邮箱: email}\n")
    _csv(export_dir, "candidates").drop(columns=["email", "性别"]).to_csv(
        export_dir / "candidates.csv", index=False)
    with pytest.raises(ImportRefused, match="'email' \\(the profile renames '邮箱' to it, but "
                                            "the file has no such column\\)"):
        import_export(conn, export_dir, profile=missing)
    assert _raw_state(conn) == before


# ------------------------------------------------ the profile, kept with the import


def _profiles(conn) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('raw._profiles')")
        if cur.fetchone()[0] is None:
            return []
        cur.execute("SELECT profile_id, source FROM raw._profiles ORDER BY profile_id")
        return cur.fetchall()


def test_the_profile_is_recorded_in_the_imports_transaction(new_db, export_dir, tmp_path):
    profile = _profile(tmp_path, "values:\n  interviews.recommendation: {hire: 'yes'}\n")
    conn = new_db()
    checked = import_export(conn, export_dir, check=True, profile=profile,
                            profile_source="p.yaml")
    assert checked.profile_recorded and _profiles(conn) == []

    broken = Path(shutil.copytree(export_dir, tmp_path / "broken"))
    _ragged(broken)
    with pytest.raises(ImportRefused):
        import_export(conn, broken, profile=profile, profile_source="p.yaml")
    assert _profiles(conn) == []

    first = import_export(conn, export_dir, profile=profile, profile_source="p.yaml")
    assert first.profile_recorded and [s for _, s in _profiles(conn)] == ["p.yaml"]
    assert f"import profile {first.profile_id}: recorded by this import" in str(first)
    before = _raw_state(conn)

    again = import_export(conn, export_dir, profile=profile, profile_source="p.yaml")
    assert (again.load.inserted, again.load.updated) == (0, 0)
    assert not again.profile_recorded and again.profile_id == first.profile_id
    assert len(_profiles(conn)) == 1 and _raw_state(conn) == before

    without = import_export(conn, export_dir)
    assert any(w.startswith(f"import profile {first.profile_id} is in force")
               for w in without.warnings)
