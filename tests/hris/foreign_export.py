"""A foreign export: the same HR history as another (Chinese) HR system would export it.

GB18030-encoded CSV files, some Chinese column names, Chinese values for gender, education
and role family, `hire / no_hire / strong_hire / strong_no_hire` recommendations, and
dates written YYYY/MM/DD. `PROFILE` is the import profile (format: hris/profile.py) a user
keeps beside such exports to map them back onto the raw contract; the writer derives the
foreign form from it (each mapping inverted), so the two cannot disagree.
`IMPORT_ONLY_PROFILE` keeps just what acts at import (encoding, column renames): with it
the files load, and every value mapping and date format is missing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from monitoring.data_quality.rules import load_rules

PROFILE = """\
# Import profile for exports of the HR system "人才管家" (hireloop import --profile FILE).
encoding: gb18030
columns:
  candidates: {性别: gender, 学历: education}
  employees: {性别: gender}
  job_roles: {岗位类别: role_family}
  interviews: {面试日期: interview_date, 推荐意见: recommendation}
values:
  candidates.gender: {男: male, 女: female, 其他: non_binary, 未说明: undisclosed}
  employees.gender: {男: male, 女: female, 其他: non_binary, 未说明: undisclosed}
  candidates.education: {高中: high_school, 大专: associate, 本科: bachelor, 硕士: master,
                         博士: phd, 其他: other}
  job_roles.role_family: {销售: sales, 客服: customer_service, 研发: rnd, 生产: manufacturing}
  interview_questions.role_family: {销售: sales, 客服: customer_service, 研发: rnd,
                                    生产: manufacturing}
  interviews.recommendation: {strong_hire: strong_yes, hire: "yes", no_hire: "no",
                              strong_no_hire: strong_no}
dates:
  candidates.birth_date: YYYY/MM/DD
  candidates.application_date: YYYY/MM/DD
  employees.birth_date: YYYY/MM/DD
  employees.hire_date: YYYY/MM/DD
  employees.termination_date: YYYY/MM/DD
  interviews.interview_date: YYYY/MM/DD
  performance_reviews.period_start: YYYY/MM/DD
  performance_reviews.period_end: YYYY/MM/DD
  performance_reviews.submitted_at: YYYY/MM/DD
"""

ENCODING = "gb18030"
DATE_FORMAT = "YYYY/MM/DD"


def import_only_profile() -> str:
    """PROFILE without `values` and `dates`: the files load, nothing is mapped."""
    spec = yaml.safe_load(PROFILE)
    return yaml.safe_dump({"encoding": spec["encoding"], "columns": spec["columns"]},
                          allow_unicode=True, sort_keys=False)


def _date_columns() -> set[tuple[str, str]]:
    return {(t, c) for t, rules in load_rules().tables.items()
            for c, kind in rules.types.items() if kind == "date"}


def write_foreign_export(frames: dict[str, pd.DataFrame], directory: Path) -> dict[str, Path]:
    """Write `frames` (contract tables of str/None, contract vocabulary, ISO dates) into
    `directory` as the foreign HR system would; returns the files written."""
    spec = yaml.safe_load(PROFILE)
    dates = {tuple(k.split(".")): v for k, v in spec["dates"].items()}
    if set(dates) != _date_columns() or set(dates.values()) != {DATE_FORMAT}:
        raise AssertionError("PROFILE must give every date column of the rule spec "
                             f"the format {DATE_FORMAT}")
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for table, frame in frames.items():
        out = frame.copy()
        for key, mapping in spec["values"].items():
            t, column = key.split(".")
            if t != table:
                continue
            inverse = {contract: export for export, contract in mapping.items()}
            unmapped = set(out[column].dropna()) - set(inverse)
            if unmapped:
                raise AssertionError(f"{key}: PROFILE maps no export value to {unmapped}")
            out[column] = out[column].map(inverse, na_action="ignore")
        for (t, column), _fmt in dates.items():
            if t == table:
                out[column] = out[column].str.replace("-", "/", regex=False)
        renames = {contract: export for export, contract in spec["columns"].get(table, {}).items()}
        out = out.rename(columns=renames)
        path = directory / f"{table}.csv"
        out.to_csv(path, index=False, encoding=ENCODING)
        written[table] = path
    return written
