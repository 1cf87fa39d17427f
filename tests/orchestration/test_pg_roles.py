"""Least privilege: each job's PostgreSQL role reads and writes what its job needs, no more.

One small feature store is built through the real pipeline as the roles themselves: the
importer as `ingest`, dbt as `transform`; then `ml`, `audit` and `hr_lead` read it.
"""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import psycopg2
import pytest
import yaml
from psycopg2 import errors

from hris.ingest import load_simulated
from hris.pseudonym import install_pseudonym_key
from hris.simulator import simulate
from monitoring import quality_store
from orchestration.dbt import DBT_PROJECT_DIR, run_dbt_build
from orchestration.pg_roles import (
    ALL_ROLES,
    PROTECTED_COLUMNS,
    PROTECTED_TABLE,
    REPORT_SCHEMA,
    ROLES,
    apply_roles,
    dbt_select_grants,
    ensure_report_views,
    job_endpoint,
    role,
    role_endpoint,
    store_endpoint,
)


@dataclasses.dataclass
class RoleStore:
    database: str
    endpoints: dict  # job -> PgEndpoint

    def connect(self, job: str):
        conn = self.endpoints[job].connect(self.database)
        conn.autocommit = True
        return conn

    def query(self, job: str, statement: str):
        conn = self.connect(job)
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()


@pytest.fixture(scope="module")
def role_store(pg_server) -> RoleStore:
    settings = pg_server.runtime.settings
    database = pg_server.create_database("roles")
    apply_roles(pg_server.endpoint, settings, databases=(database,))
    endpoints = {job: role_endpoint(settings, pg_server.endpoint, job) for job in ROLES}
    sim = simulate(n_candidates=600, seed=5, end="2024-12-31", as_of="2025-01-01")
    ingest = endpoints["ingest"].connect(database)
    with ingest:
        load_simulated(ingest, sim, f"simulator:{database}")
    ingest.close()
    transform = endpoints["transform"].connect(database)
    with transform, transform.cursor() as cur:
        install_pseudonym_key(cur, b"not-secret-roles-key")
    transform.close()
    run_dbt_build(endpoints["transform"].dbt_env(database), sim.as_of.isoformat(),
                  target_path=f"target/{database}")
    ml = endpoints["ml"].connect(database)
    with ml, ml.cursor() as cur:
        quality_store.ensure_schema(cur)
        ensure_report_views(cur)
    ml.close()
    return RoleStore(database, endpoints)


@pytest.fixture(scope="module")
def all_tables(role_store, pg_server) -> list[str]:
    """Every table and view of the store, as the administrator sees them."""
    conn = pg_server.endpoint.connect(role_store.database)
    with conn.cursor() as cur:
        cur.execute("""SELECT quote_ident(table_schema) || '.' || quote_ident(table_name)
                       FROM information_schema.tables
                       WHERE table_schema NOT IN ('pg_catalog', 'information_schema')""")
        names = [r[0] for r in cur.fetchall()]
    conn.close()
    return names


def test_the_ml_role_reads_its_marts_and_is_denied_raw_and_protected_columns(role_store,
                                                                              all_tables):
    """Of raw, only the load register: every HR table there is denied."""
    (n,), = role_store.query("ml", "SELECT count(*) FROM marts.fct_training_examples")
    assert n > 0
    role_store.query("ml", "SELECT role_family FROM marts.fct_candidates_to_score LIMIT 1")
    role_store.query("ml", f"SELECT candidate_id, role_family FROM {PROTECTED_TABLE} LIMIT 1")
    role_store.query("ml", "SELECT as_of_date FROM raw._exports")  # the as-of in force
    for statement in ("SELECT count(*) FROM raw.candidates",
                      "SELECT count(*) FROM raw.interviews",
                      "SELECT count(*) FROM raw.candidates__replaced",
                      "SELECT count(*) FROM raw._value_map",
                      "SELECT * FROM private.pseudonym_key",
                      f"SELECT * FROM {PROTECTED_TABLE} LIMIT 1",
                      *(f"SELECT {c} FROM {PROTECTED_TABLE} LIMIT 1" for c in PROTECTED_COLUMNS),
                      "SELECT count(*) FROM staging.stg_hris__candidates"):
        with pytest.raises(errors.InsufficientPrivilege):
            role_store.query("ml", statement)
    raw_tables = [t for t in all_tables if t.startswith("raw.") and t != "raw._exports"]
    assert len(raw_tables) > 10
    for table in raw_tables:
        with pytest.raises(errors.InsufficientPrivilege):
            role_store.query("ml", f"SELECT 1 FROM {table} LIMIT 1")


def test_the_audit_role_reads_the_protected_attributes_but_not_raw(role_store):
    rows = role_store.query("audit", f"SELECT {', '.join(PROTECTED_COLUMNS)} "
                                     f"FROM {PROTECTED_TABLE}")
    assert rows
    role_store.query("audit", "SELECT count(*) FROM staging.stg_hris__interview_scores")
    with pytest.raises(errors.InsufficientPrivilege):
        role_store.query("audit", "SELECT count(*) FROM raw.candidates")


def test_the_hr_lead_reads_the_report_views_and_nothing_else(role_store, all_tables):
    views = [t for t in all_tables if t.startswith(f"{REPORT_SCHEMA}.")]
    assert f"{REPORT_SCHEMA}.model_quality" in views
    for view in views:
        role_store.query("hr_lead", f"SELECT * FROM {view} LIMIT 1")
    others = [t for t in all_tables if t not in views]
    assert {"raw.candidates", "marts.dim_candidates", "monitoring.model_quality"} <= set(others)
    for table in others:
        with pytest.raises(errors.InsufficientPrivilege):
            role_store.query("hr_lead", f"SELECT 1 FROM {table} LIMIT 1")


def test_the_ingest_role_writes_raw_but_cannot_touch_the_marts(role_store):
    role_store.query("ingest", "CREATE TABLE raw._roles_probe (a int)")
    role_store.query("ingest", "INSERT INTO raw._roles_probe VALUES (1)")
    role_store.query("ingest", "DROP TABLE raw._roles_probe")
    for statement in ("SELECT count(*) FROM marts.fct_training_examples",
                      "DELETE FROM marts.fct_training_examples",
                      "CREATE TABLE marts.intruder (a int)"):
        with pytest.raises(errors.InsufficientPrivilege):
            role_store.query("ingest", statement)


def test_the_interview_tool_reads_the_hr_systems_records_and_nothing_of_the_models(
        role_store):
    """The interview tool's records come from raw and staging as its own role, for the
    waiting candidates ml reads from the marts; it writes nothing and reads no mart,
    monitoring table or key."""
    from hris.ats_requests import waiting_candidate_requests
    from hris.interview_tool import waiting_candidates

    ml = role_store.connect("ml")
    waiting = waiting_candidates(ml)
    ml.close()
    assert waiting
    tool = role_store.connect("interview_tool")
    try:
        requests = waiting_candidate_requests(tool, b"not-secret-roles-key", waiting)
    finally:
        tool.close()
    assert len(requests) == len(waiting)
    assert all(r["candidate_id"] and r["interviews"] for r in requests)
    for statement in ("SELECT count(*) FROM marts.fct_candidates_to_score",
                      "SELECT count(*) FROM monitoring.model_quality",
                      "SELECT * FROM private.pseudonym_key",
                      "INSERT INTO raw._exports (source) VALUES ('intruder')",
                      "CREATE TABLE raw.intruder (a int)"):
        with pytest.raises(errors.InsufficientPrivilege):
            role_store.query("interview_tool", statement)


def test_the_scan_role_reads_every_schema_and_database_and_writes_nothing(role_store,
                                                                          pg_server):
    """The personal-data scan's role: raw, the marts' protected columns and the Dagster
    database are readable; no insert, no new table, anywhere."""
    scan = role_endpoint(pg_server.runtime.settings, pg_server.endpoint, "privacy_scan")
    conn = scan.connect(role_store.database)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM raw.candidates")
            assert cur.fetchone()[0] > 0
            cur.execute(f"SELECT {', '.join(PROTECTED_COLUMNS)} FROM {PROTECTED_TABLE} LIMIT 1")
            for statement in ("INSERT INTO raw._exports (source) VALUES ('intruder')",
                              "DELETE FROM marts.fct_training_examples",
                              "CREATE TABLE monitoring.intruder (a int)"):
                with pytest.raises(errors.InsufficientPrivilege):
                    cur.execute(statement)
    finally:
        conn.close()
    dagster = scan.connect("dagster")  # Dagster's own store: connect and read, no more
    with dagster.cursor() as cur:
        cur.execute("SELECT session_user, has_database_privilege('dagster', 'CREATE'), "
                    "has_schema_privilege('public', 'CREATE')")
        assert cur.fetchone() == (role("privacy_scan").login, False, False)
    dagster.close()


# Where code still connects as the administrator, and why (everything names its job's
# role: HireloopRuntime.connection(job), cli._connect(job)); none today.
ADMINISTRATOR_CONNECTIONS: dict[str, int] = {}


def test_every_service_connects_as_its_jobs_role_but_the_listed_few():
    """A new `connection()` without a job, or a `Runtime.up().connect()`, fails here until it
    names its role (or is listed above with its reason)."""
    import re

    pattern = re.compile(r"\.connection\(\)|\.up\(\)\.connect\(|\.endpoint\(\)\.connect")
    root = Path(__file__).resolve().parents[2]
    found = {}
    for package in ("orchestration", "ml", "monitoring", "hris"):
        for path in sorted((root / package).rglob("*.py")):
            hits = len(pattern.findall(path.read_text(encoding="utf-8")))
            if hits:
                found[str(path.relative_to(root))] = hits
    assert found == ADMINISTRATOR_CONNECTIONS


def test_each_table_belongs_to_the_group_of_the_job_that_makes_it(role_store):
    """What dbt builds belongs to the transform group, what the importer loads to the
    ingest group, whichever login user made it."""
    (owner,), = role_store.query(
        "transform", "SELECT tableowner FROM pg_tables WHERE schemaname = 'marts' "
                     "AND tablename = 'fct_training_examples'")
    assert owner == role("transform").group
    (raw_owner,), = role_store.query(
        "ingest", "SELECT tableowner FROM pg_tables WHERE schemaname = 'raw' "
                  "AND tablename = 'candidates'")
    assert raw_owner == role("ingest").group
    owners = dict(role_store.query(
        "transform", "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = "
                     "'private'"))
    assert owners == {"raw_hash_key": role("ingest").group,  # the importer's hash key
                      "pseudonym_key": role("transform").group}


def test_a_role_without_its_password_is_refused(role_store, monkeypatch):
    monkeypatch.delenv("PGPASSFILE", raising=False)
    ml = role_store.endpoints["ml"]
    with pytest.raises(psycopg2.OperationalError, match="password"):
        dataclasses.replace(ml, passfile="/nonexistent/hireloop-no-passfile").connect(
            role_store.database)
    other = role_store.endpoints["hr_lead"]  # another role's file holds no ml password
    with pytest.raises(psycopg2.OperationalError, match="password"):
        dataclasses.replace(ml, passfile=other.passfile).connect(role_store.database)


def test_each_role_has_its_own_private_password_file(pg_server):
    secrets = pg_server.runtime.settings.home / "secrets"
    lines = set()
    for spec in ALL_ROLES.values():
        path = secrets / spec.passfile_name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        (line,) = path.read_text().splitlines()
        assert line.split(":")[3] == spec.login
        password = (secrets / spec.password_secret).read_text().strip()
        assert line.endswith(password)
        lines.add(line)
    assert len(lines) == len(ALL_ROLES)


def test_the_report_views_are_remade_idempotently(role_store):
    ml = role_store.connect("ml")
    with ml.cursor() as cur:
        assert f"{REPORT_SCHEMA}.model_quality" in ensure_report_views(cur)
    ml.close()


def test_a_report_view_appears_for_the_hr_lead_once_its_table_exists(role_store,
                                                                     pg_server):
    """A monitoring table made after the grants: the HR lead's next connection finds its
    view (job_endpoint brings the grants up to date), still not the table."""
    from monitoring import drift_store

    ml = role_store.connect("ml")
    with ml.cursor() as cur:
        drift_store.ensure_schema(cur)
    ml.close()
    settings = pg_server.runtime.settings
    hr_lead = job_endpoint(settings, pg_server.endpoint, "hr_lead", role_store.database)
    conn = hr_lead.connect(role_store.database)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {REPORT_SCHEMA}.feature_drift_summary")
        with pytest.raises(errors.InsufficientPrivilege):
            cur.execute("SELECT count(*) FROM monitoring.feature_drift_summary")
    conn.close()


def test_a_table_the_administrator_makes_later_passes_to_its_schemas_owner(role_store,
                                                                           pg_server):
    """A step still on the administrator makes a table in raw: the ingest job's next
    connection finds it owned by the ingest group (so the importer may alter it)."""
    admin = pg_server.endpoint.connect(role_store.database)
    with admin, admin.cursor() as cur:
        cur.execute("CREATE TABLE raw._made_by_admin (a int)")
    admin.close()
    job_endpoint(pg_server.runtime.settings, pg_server.endpoint, "ingest",
                 role_store.database)
    role_store.query("ingest", "ALTER TABLE raw._made_by_admin ADD COLUMN b int")
    role_store.query("transform", "SELECT a, b FROM raw._made_by_admin")
    role_store.query("ingest", "DROP TABLE raw._made_by_admin")


def test_dbt_grants_are_the_roles_definition():
    """dbt_project.yml's +grants and protected columns say what orchestration.pg_roles
    says (the roles are defined once; dbt's config must follow)."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    models = project["models"]["hireloop"]
    grants = {schema: sorted(models[schema].get("+grants", {}).get("select", []))
              for schema in dbt_select_grants()}
    assert grants == dbt_select_grants()
    assert tuple(project["vars"]["protected_columns"]) == PROTECTED_COLUMNS
    marts_readers = dbt_select_grants()["marts"]
    narrowed = [g for g in marts_readers if g != role("ml").group]
    assert project["vars"]["protected_column_readers"] == [role("ml").group]
    model = (Path(DBT_PROJECT_DIR) / "models/marts/dim_candidates.sql").read_text()
    assert f"grants={{'select': {narrowed!r}}}" in model


def test_on_an_external_server_each_job_connects_with_the_url_the_operator_gave(
        tmp_path, monkeypatch):
    """HIRELOOP_PG_<JOB>_URL names a job's own user; a job without one uses the admin URL."""
    from orchestration.config import Settings
    from orchestration.runtime import endpoint_from_url

    admin = endpoint_from_url("postgresql+psycopg2://admin:pw@db.example:5433/x")
    monkeypatch.setenv("HIRELOOP_PG_ML_URL",
                       "postgresql+psycopg2://hireloop_ml_user@db.example:5433/x"
                       "?passfile=/etc/hireloop/pgpass-ml")
    monkeypatch.delenv("HIRELOOP_PG_AUDIT_URL", raising=False)
    settings = Settings(home=tmp_path, database_url="postgresql+psycopg2://admin:pw@db/x")
    ml = role_endpoint(settings, admin, "ml")
    assert (ml.user, ml.host, ml.port, ml.passfile, ml.password) == (
        "hireloop_ml_user", "db.example", 5433, "/etc/hireloop/pgpass-ml", "")
    assert role_endpoint(settings, admin, "audit") == admin
    with pytest.raises(KeyError, match="no PostgreSQL role"):
        role_endpoint(settings, admin, "nobody")


def test_the_checks_results_are_the_transform_roles_and_read_by_ml_audit_and_the_hr_lead(
        role_store, pg_server):
    """The data-quality checks run as transform and write monitoring.dq_results, a table
    in ml's schema: it stays transform's, ml (its report view) and audit read it."""
    from monitoring.data_quality.results import ensure_dq_results

    transform = role_store.connect("transform")
    with transform.cursor() as cur:
        ensure_dq_results(cur)
    transform.close()
    job_endpoint(pg_server.runtime.settings, pg_server.endpoint, "hr_lead",
                 role_store.database)
    (owner,), = role_store.query("ml", "SELECT tableowner FROM pg_tables WHERE "
                                       "schemaname = 'monitoring' AND tablename = 'dq_results'")
    assert owner == role("transform").group
    for job in ("ml", "audit"):
        role_store.query(job, "SELECT count(*) FROM monitoring.dq_results")
    role_store.query("hr_lead", f"SELECT count(*) FROM {REPORT_SCHEMA}.data_quality_results")
    with pytest.raises(errors.InsufficientPrivilege):
        role_store.query("hr_lead", "SELECT count(*) FROM monitoring.dq_results")


def _owners(pg_server, database: str) -> tuple[str, set[str]]:
    """The database's owner and the owners of every table and sequence in its `public`."""
    conn = pg_server.endpoint.connect(database)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                        [database])
            (owner,) = cur.fetchone()
            cur.execute("""SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c
                           JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S', 'v')""")
            return owner, {r[0] for r in cur.fetchall()}
    finally:
        conn.close()


def test_mlflow_owns_its_store_and_no_job_can_connect_to_it(pg_server, tmp_path):
    """MLflow's tracking store, as MlflowResource hands it out: made by MLflow's own role
    (its migrations included), closed to every job's role; MLflow's role cannot reach the
    installation's database."""
    from mlflow import MlflowClient

    from orchestration.resources import HireloopRuntime, MlflowResource

    settings = pg_server.runtime.settings
    database = pg_server.create_database("mlflow_owned")
    store = MlflowResource(runtime=HireloopRuntime.from_settings(settings), database=database,
                           artifact_root=str(tmp_path / "artifacts"))
    uri = store.tracking_uri
    assert role("mlflow").login in uri and "passfile=" in uri
    MlflowClient(tracking_uri=uri, registry_uri=uri).create_experiment("owned")
    owner, objects = _owners(pg_server, database)
    assert owner == role("mlflow").group and objects == {role("mlflow").group}
    for job in ROLES:
        with pytest.raises(psycopg2.OperationalError, match="permission denied"):
            role_endpoint(settings, pg_server.endpoint, job).connect(database)
    with pytest.raises(psycopg2.OperationalError, match="permission denied"):
        role_endpoint(settings, pg_server.endpoint, "mlflow").connect("hireloop")


def test_a_store_the_administrator_filled_is_handed_over_whole(pg_server):
    """An installation from before the store roles: its Dagster database and the tables
    in it pass to Dagster's role at the next start, and a second look changes nothing."""
    settings = pg_server.runtime.settings
    database = pg_server.create_database("dagster_old")
    conn = pg_server.endpoint.connect(database)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE runs (id serial PRIMARY KEY, body text)")
        cur.execute("CREATE VIEW recent AS SELECT * FROM runs")
    conn.close()
    endpoint = store_endpoint(settings, pg_server.endpoint, "dagster", database)
    owner, objects = _owners(pg_server, database)
    assert owner == role("dagster").group and objects == {role("dagster").group}
    dagster = endpoint.connect(database)
    with dagster, dagster.cursor() as cur:
        cur.execute("INSERT INTO runs (body) VALUES ('a run') RETURNING id")
        assert cur.fetchone() == (1,)
    dagster.close()
    check = pg_server.endpoint.connect(database)
    with check.cursor() as cur:
        from orchestration.pg_roles import _store_handover

        assert _store_handover(cur, database, role("dagster").group) == []
    check.close()


def test_the_dagster_instance_is_configured_as_dagsters_own_role(pg_server):
    import json

    config = json.loads((pg_server.runtime.settings.dagster_home / "dagster.yaml").read_text())
    url = config["storage"]["postgres"]["postgres_url"]
    assert role("dagster").login in url and "passfile=" in url
    assert pg_server.runtime.settings.home.as_posix() in url  # its own file, no password
