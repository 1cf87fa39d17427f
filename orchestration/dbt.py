"""The dbt project as Dagster knows it: location, manifest, and how nodes map to assets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetKey
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
)

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"

# Parsing needs a profile but no server; these placeholders never reach a connection.
_PARSE_ENV = {"HIRELOOP_PG_HOST": "localhost", "HIRELOOP_PG_DBNAME": "hireloop"}

# The venv's dbt, whatever PATH says (the UI and tests may start without the venv on PATH).
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=DBT_EXECUTABLE,
    )


# What the manifest is derived from: a change to any of these makes it stale.
_MANIFEST_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "macros", "tests")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _MANIFEST_SOURCES:
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest


def manifest_is_current() -> bool:
    """The manifest exists and is newer than every file of the dbt project it reads."""
    return MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_source_mtime()


def ensure_manifest(force: bool = False) -> Path:
    """The dbt manifest Dagster's dbt assets are defined from: `dbt parse` when it is missing
    or older than the project (a fresh clone has none; an edited rule must not be missed)."""
    if manifest_is_current() and not force:
        return MANIFEST
    env = {**_PARSE_ENV, **os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    subprocess.run(
        [DBT_EXECUTABLE, "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR)],
        check=True, env=env,
    )
    MANIFEST.touch()  # partial parsing may leave an unchanged manifest's time as it was
    return MANIFEST


def run_dbt_build(
    pg_env: Mapping[str, str], as_of: str, target_path: str | None = None
) -> subprocess.CompletedProcess:
    """`dbt build` outside Dagster (tests, benchmarks); raises with dbt's output on failure.

    `pg_env` is PgEndpoint.dbt_env(database); the pseudonym key must already be installed.
    """
    env = {**os.environ, **pg_env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    cmd = [DBT_EXECUTABLE, "build", "--project-dir", str(DBT_PROJECT_DIR),
           "--profiles-dir", str(DBT_PROJECT_DIR), "--vars", json.dumps({"as_of_date": as_of})]
    if target_path:
        cmd += ["--target-path", target_path]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"dbt build failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")
    return done


def run_dbt_models(
    pg_env: Mapping[str, str], as_of: str, select: list[str], target_path: str
) -> subprocess.CompletedProcess:
    """`dbt run --select ...` (models only, no tests) outside Dagster; raises RuntimeError with
    dbt's output on failure. `target_path` keeps its artifacts (and its manifest) away from
    the project's own target/, which Dagster reads."""
    env = {**os.environ, **pg_env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    cmd = [DBT_EXECUTABLE, "run", "--project-dir", str(DBT_PROJECT_DIR),
           "--profiles-dir", str(DBT_PROJECT_DIR), "--vars", json.dumps({"as_of_date": as_of}),
           "--target-path", target_path, "--log-path", target_path, "--select", *select]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"dbt run failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")
    return done


class HireloopDbtTranslator(DagsterDbtTranslator):
    """dbt sources are our raw tables; model folders become asset groups."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey(["raw", dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props["resource_type"] in ("model", "snapshot", "seed") and len(fqn) > 2:
            return fqn[1]  # staging / intermediate / marts / quarantine
        return super().get_group_name(dbt_resource_props)


translator = HireloopDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
