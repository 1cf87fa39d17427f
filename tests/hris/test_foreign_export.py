"""The foreign-export fixture is what it claims: another HR system's files, and an exact
re-encoding of the history that PROFILE maps back (checked here without the importer)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from hris.simulator import simulate
from tests.hris.foreign_export import ENCODING, PROFILE, import_only_profile, write_foreign_export


@pytest.fixture(scope="module")
def history():
    return simulate(n_candidates=150, seed=29).raw


@pytest.fixture(scope="module")
def foreign(history, tmp_path_factory):
    directory = tmp_path_factory.mktemp("foreign")
    write_foreign_export(history, directory)
    return directory


def test_files_are_gb18030_with_chinese_headers_and_values(foreign):
    raw = (foreign / "candidates.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    candidates = pd.read_csv(foreign / "candidates.csv", dtype=str, encoding=ENCODING)
    assert {"性别", "学历"} <= set(candidates.columns)
    assert {"gender", "education"}.isdisjoint(candidates.columns)
    assert set(candidates["性别"].dropna()) <= {"男", "女", "其他", "未说明"}
    assert "本科" in set(candidates["学历"])
    assert candidates["application_date"].str.fullmatch(r"\d{4}/\d{2}/\d{2}").all()
    roles = pd.read_csv(foreign / "job_roles.csv", dtype=str, encoding=ENCODING)
    assert set(roles["岗位类别"]) == {"销售", "客服", "研发", "生产"}
    interviews = pd.read_csv(foreign / "interviews.csv", dtype=str, encoding=ENCODING)
    assert set(interviews["推荐意见"]) == {"hire", "no_hire", "strong_hire", "strong_no_hire"}


def test_profile_maps_the_files_back_to_the_history(history, foreign):
    spec = yaml.safe_load(PROFILE)
    for table, frame in history.items():
        back = pd.read_csv(foreign / f"{table}.csv", dtype=str, encoding=ENCODING,
                           keep_default_na=False, na_values=[""])
        back = back.rename(columns=spec["columns"].get(table, {}))
        for key, mapping in spec["values"].items():
            t, column = key.split(".")
            if t == table:
                back[column] = back[column].map({str(k): str(v) for k, v in mapping.items()})
        for key in spec["dates"]:
            t, column = key.split(".")
            if t == table:
                back[column] = back[column].str.replace("/", "-", regex=False)
        expected = frame.astype(object).where(frame.notna(), None)
        got = back[list(frame.columns)].astype(object).where(back.notna(), None)
        pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                      expected.reset_index(drop=True), check_dtype=False)


def test_import_only_profile_keeps_encoding_and_renames_only():
    spec = yaml.safe_load(import_only_profile())
    assert set(spec) == {"encoding", "columns"}
    assert spec["columns"] == yaml.safe_load(PROFILE)["columns"]
