"""The dbt feature store as Dagster assets; dbt tests are asset checks."""

import json

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from hris.exports import required_as_of
from hris.pseudonym import install_pseudonym_key
from orchestration.dbt import dbt_project, ensure_manifest, translator
from orchestration.resources import HireloopRuntime


def prepare_dbt_run(hireloop: HireloopRuntime) -> str:
    """Install the pseudonym key and find the as-of date; returns the dbt vars (no key).
    dbt, and the key it reads, are the transform role's (orchestration.pg_roles)."""
    hireloop.export_dbt_env("transform")
    with hireloop.connection("transform") as conn, conn.cursor() as cur:
        install_pseudonym_key(cur, hireloop.settings.pseudonym_key())
        as_of = required_as_of(cur)
    return json.dumps({"as_of_date": as_of.isoformat()})


# The manifest is made here, where the decorator reads it: importing this module on a
# fresh clone (no dbt_project/target yet) must work.
@dbt_assets(manifest=ensure_manifest(), project=dbt_project, dagster_dbt_translator=translator)
def feature_store(context: AssetExecutionContext, dbt: DbtCliResource, hireloop: HireloopRuntime):
    dbt_vars = prepare_dbt_run(hireloop)
    yield from dbt.cli(["build", "--vars", dbt_vars], context=context).stream()
