"""Dagster definitions: ingest → dbt feature store → summary, with dbt tests as checks."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job

from orchestration.assets.feature_store import feature_store
from orchestration.assets.ingest import raw_hr_tables
from orchestration.assets.summary import feature_store_summary
from orchestration.config import Settings, disable_telemetry
from orchestration.dbt import dbt_resource, ensure_manifest
from orchestration.resources import HireloopRuntime

disable_telemetry()
ensure_manifest()

build_feature_store_job = define_asset_job(
    "build_feature_store",
    selection=AssetSelection.assets(raw_hr_tables, feature_store, feature_store_summary),
    description="Load HR data into raw, build the dbt feature store, summarise it.",
)

defs = Definitions(
    assets=[raw_hr_tables, feature_store, feature_store_summary],
    jobs=[build_feature_store_job],
    resources={
        "hireloop": HireloopRuntime.from_settings(Settings.from_env()),
        "dbt": dbt_resource(),
    },
)
