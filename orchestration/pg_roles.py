"""Least privilege in PostgreSQL: one role per job, defined here once.

Each job has a NOLOGIN group role (`hireloop_<job>`, what privileges are granted to) and
one LOGIN user in it (`hireloop_<job>_user`, what a service connects as). The login user's
session starts as its group (`ALTER ROLE ... SET role`), so what it creates is owned by
the group, and the group's default privileges apply to it.

- ingest: writes `raw` (and the row-hash key in `private`; a simulation's truth in
  `sim_truth`);
- transform (dbt, and the data-quality checks on raw and staging): reads `raw` and
  `private`, writes staging / intermediate / marts / quarantine and the checks' results
  (`monitoring.dq_results`);
- ml: reads the marts it trains and scores on, without `dim_candidates`' protected
  columns, and `intermediate` (drift compares every applicant's features; no protected
  column there), writes `monitoring` and the report views (`report`); of `raw` it reads only
  the load register `raw._exports` (the as-of date in force), no HR table;
- audit: reads the marts (protected attributes included), staging, the monitoring
  tables (scores) and the load register, writes `audit`;
- hr_lead: reads the report views only;
- interview_tool: the ATS's side of the simulation, which holds the HR system's records:
  reads `raw` (the HR system's own ids) and staging (the export's rows the feature store
  accepted), writes nothing; which candidates wait is ml's to read (the marts).

Beside the jobs: MLflow and Dagster each own their own database (STORE_ROLES,
`store_endpoint`), and the personal-data scan reads everything and writes nothing
(SCAN_ROLE: pg_read_all_data).

dbt drops and re-creates the tables it builds, so a grant made once on a table does not
outlive the next build: the grants on dbt's schemas are dbt's `+grants`
(dbt_project.yml), which tests/orchestration/test_pg_roles.py holds equal to
`dbt_select_grants()`; the other schemas get schema grants and default privileges here.

On the embedded server `apply_roles` (run by `hireloop up`) creates the roles, generates a
SCRAM password per login user into `$HIRELOOP_HOME/secrets/pg-<job>.password` (0600) and
a libpq password file holding only that password (`secrets/pgpass-<job>`): each service is
handed its own file. On an external server the operator creates the roles (this module's
statements, run once as an administrator: `apply_roles`) and supplies each job's URL in
`HIRELOOP_PG_<JOB>_URL` (orchestration.config.role_database_url); a job whose variable is
unset connects with `HIRELOOP_DATABASE_URL`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from psycopg2 import sql

from hris.contract import TRUTH_SCHEMA
from hris.data_crypto import write_private
from hris.raw_protect import HASH_KEY_TABLE
from orchestration.config import Settings, role_database_url
from orchestration.runtime import PgEndpoint, endpoint_from_url, pgpass_line

# Schemas dbt builds: their table grants come from dbt's +grants, rebuilt with each table.
DBT_SCHEMAS = ("staging", "intermediate", "marts", "quarantine")
# dim_candidates' protected attributes: only the fairness audit reads them.
PROTECTED_TABLE = "marts.dim_candidates"
PROTECTED_COLUMNS = ("gender", "age_band", "age_40_plus", "race_ethnicity")
REPORT_SCHEMA = "report"
# The load register (hris.exports): which export is in force and its as-of date, no HR
# data; the jobs that work "as of the export" read it without reading `raw`.
REGISTER_TABLE = "raw._exports"
# The data-quality checks' results (monitoring.data_quality): the checks read raw and
# staging as dbt does, so they run as transform, which writes this one monitoring table.
DQ_RESULTS_TABLE = "monitoring.dq_results"


@dataclass(frozen=True)
class PgRole:
    """A job's privileges: the schemas it owns (creates and rebuilds tables in), those it
    may create tables in without owning them, those whose tables it reads, and single
    tables elsewhere it reads."""

    job: str
    owns: tuple[str, ...] = ()
    creates_in: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    reads_tables: tuple[str, ...] = ()  # single tables of a schema it does not read
    owns_tables: tuple[str, ...] = ()  # single tables it makes in a schema it does not own

    @property
    def group(self) -> str:
        return f"hireloop_{self.job}"

    @property
    def login(self) -> str:
        return f"hireloop_{self.job}_user"

    @property
    def password_secret(self) -> str:
        return f"pg-{self.job}.password"  # $HIRELOOP_HOME/secrets/<this>

    @property
    def passfile_name(self) -> str:
        return f"pgpass-{self.job}"  # $HIRELOOP_HOME/secrets/<this>


ROLES: dict[str, PgRole] = {role.job: role for role in (
    PgRole("ingest", owns=("raw", TRUTH_SCHEMA), creates_in=("private",),
           owns_tables=(HASH_KEY_TABLE,)),
    PgRole("transform", owns=("private", *DBT_SCHEMAS), reads=("raw", "private"),
           creates_in=("monitoring",), owns_tables=(DQ_RESULTS_TABLE,)),
    PgRole("ml", owns=("monitoring", REPORT_SCHEMA), reads=("marts", "intermediate"),
           reads_tables=(REGISTER_TABLE,)),
    PgRole("audit", owns=("audit",), reads=("marts", "staging", "monitoring"),
           reads_tables=(REGISTER_TABLE,)),
    PgRole("hr_lead", reads=(REPORT_SCHEMA,)),
    PgRole("interview_tool", reads=("raw", "staging")),
)}


# The services' own stores, each a database its service's role owns and no job's role may
# connect to: MLflow's tracking and registry store, Dagster's instance storage (runs, event
# log, schedules). Their login users are made and handed passwords like the jobs'.
STORE_ROLES: dict[str, PgRole] = {r.job: r for r in (PgRole("mlflow"), PgRole("dagster"))}
# The personal-data scan must read every schema of every database to show that nothing
# personal left `raw`: PostgreSQL's predefined read-only role pg_read_all_data, and CONNECT
# to each database; it writes and creates nothing.
SCAN_ROLE = PgRole("privacy_scan")
ALL_ROLES: dict[str, PgRole] = {**ROLES, **STORE_ROLES, SCAN_ROLE.job: SCAN_ROLE}


def role(job: str) -> PgRole:
    if job not in ALL_ROLES:
        raise KeyError(f"no PostgreSQL role for job {job!r}; the jobs: {', '.join(ALL_ROLES)}")
    return ALL_ROLES[job]


def schema_owner(schema: str) -> PgRole | None:
    return next((r for r in ROLES.values() if schema in r.owns), None)


def dbt_select_grants() -> dict[str, list[str]]:
    """Per dbt schema, the groups dbt's `+grants` must give SELECT to (dbt_project.yml).
    On marts ml's SELECT excludes `dim_candidates`, which ml reads column by column."""
    return {schema: sorted(r.group for r in ROLES.values() if schema in r.reads)
            for schema in DBT_SCHEMAS}


# The HR lead's window: report views over the monitoring tables (the view's owner, ml,
# reads the table; the HR lead reads only the view). A view is made once its table exists
# (at the next connection of any job: job_endpoint).
REPORT_VIEWS = {
    "model_quality": "monitoring.model_quality",
    "model_quality_bands": "monitoring.model_quality_bands",
    "feature_drift_summary": "monitoring.feature_drift_summary",
    "data_quality_results": "monitoring.dq_results",
    "loop_decisions": "monitoring.loop_decisions",
}


# -- Credentials ------------------------------------------------------------------------
def passfile(settings: Settings, job: str) -> str:
    return str(settings.home / "secrets" / role(job).passfile_name)


def role_endpoint(settings: Settings, admin: PgEndpoint, job: str) -> PgEndpoint:
    """How `job` connects: on the embedded server as its login user with its own password
    file; on an external one `HIRELOOP_PG_<JOB>_URL`, else `admin` (HIRELOOP_DATABASE_URL)."""
    spec = role(job)
    if not admin.embedded:
        url = role_database_url(job)
        return endpoint_from_url(url) if url else admin
    return dataclasses.replace(admin, user=spec.login, password="",
                               passfile=passfile(settings, job))


def job_endpoint(settings: Settings, admin: PgEndpoint, job: str, database: str) -> PgEndpoint:
    """`role_endpoint`, with `database`'s grants brought up to date first on the embedded
    server: a database made after `hireloop up` (a test's) has none yet, and a table the
    administrator made since (a step not yet moved to its role) must pass to its schema's
    owner before that owner alters it. One catalog query when nothing is to be done."""
    if admin.embedded:
        conn = admin.connect(database)
        try:
            with conn, conn.cursor() as cur:
                if grants_outdated(cur):
                    grant_database(cur, database, admin.user)
        finally:
            conn.close()
    return role_endpoint(settings, admin, job)


def grants_outdated(cur) -> bool:
    """A schema of the roles is missing or has another owner, an object in a schema a job
    owns belongs to someone else (`_misowned`), or a report view is missing while its
    monitoring table is there."""
    owners = {s: r.group for r in ROLES.values() for s in r.owns}
    cur.execute("""SELECT count(*) FROM unnest(%s::text[], %s::text[]) AS o(schema, owner)
                   LEFT JOIN pg_namespace n ON n.nspname = o.schema
                   WHERE n.oid IS NULL OR pg_get_userbyid(n.nspowner) <> o.owner""",
                [list(owners), list(owners.values())])
    (schemas_due,) = cur.fetchone()
    cur.execute("""SELECT count(*) FROM unnest(%s::text[], %s::text[]) AS v(view, source)
                   WHERE to_regclass(v.source) IS NOT NULL AND to_regclass(v.view) IS NULL""",
                [[f"{REPORT_SCHEMA}.{v}" for v in REPORT_VIEWS], list(REPORT_VIEWS.values())])
    (views_due,) = cur.fetchone()
    return bool(schemas_due or views_due or _misowned(cur))


def object_owner(schema: str, name: str) -> str | None:
    """The group that must own `schema.name`: the job that makes it (owns_tables), else
    the schema's owner (None: a schema no job owns)."""
    maker = next((r for r in ROLES.values() if f"{schema}.{name}" in r.owns_tables), None)
    owner = maker or schema_owner(schema)
    return owner.group if owner else None


_KINDS = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW",
          "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "fn": "ROUTINE"}


def _misowned(cur) -> list[sql.Composed]:
    """`ALTER ... OWNER TO` for every table, view, sequence and function of the jobs'
    schemas with another owner than `object_owner` (made by the administrator: before
    the roles, or by a step not yet moved to its role)."""
    schemas = sorted({s for r in ROLES.values() for s in (*r.owns, *r.creates_in)})
    return _owner_changes(cur, schemas, object_owner)


def _owner_changes(cur, schemas: list[str], due_owner) -> list[sql.Composed]:
    """`ALTER ... OWNER TO` for each table, view, sequence and function of `schemas` whose
    owner is not `due_owner(schema, name)` (None: leave it). A serial's or identity's
    sequence follows its table and is left alone."""
    cur.execute("""
        SELECT c.relkind::text, n.nspname::text, c.relname::text,
               pg_get_userbyid(c.relowner)::text, NULL
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'v', 'm', 'p', 'S', 'f')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
        UNION ALL
        SELECT 'fn', n.nspname::text, p.proname::text, pg_get_userbyid(p.proowner)::text,
               p.oid::regprocedure::text
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = ANY(%s)""", [schemas, schemas])
    statements = []
    for kind, schema, name, owner, signature in cur.fetchall():
        due = due_owner(schema, name)
        if due is None or owner == due:
            continue
        target = sql.SQL(signature) if signature else sql.Identifier(schema, name)
        statements.append(sql.SQL("ALTER {} {} OWNER TO {}").format(
            sql.SQL(_KINDS[kind]), target, sql.Identifier(due)))
    return statements


def _write_role_passfile(settings: Settings, admin: PgEndpoint, spec: PgRole) -> str:
    password = settings.secret_file(spec.password_secret).read_text().strip()
    path = settings.home / "secrets" / spec.passfile_name
    line = pgpass_line(admin, spec.login, password)
    if not path.exists() or path.read_text() != line:
        write_private(path, line, replace=True)
    return password


# -- Roles and grants -------------------------------------------------------------------
def _exists(cur, name: str) -> bool:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    return cur.fetchone() is not None


def ensure_roles(cur, settings: Settings | None, admin: PgEndpoint) -> None:
    """Create the group roles and login users (idempotent). With `settings` (the embedded
    server) each login user's SCRAM password is set from its secret file, written first."""
    from psycopg2.extensions import encrypt_password

    for spec in ALL_ROLES.values():
        if not _exists(cur, spec.group):
            cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(spec.group)))
        if not _exists(cur, spec.login):
            cur.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(
                sql.Identifier(spec.login), sql.Identifier(spec.group)))
        cur.execute(sql.SQL("GRANT {} TO {}").format(
            sql.Identifier(spec.group), sql.Identifier(spec.login)))
        if spec is SCAN_ROLE:
            cur.execute(sql.SQL("GRANT pg_read_all_data TO {}").format(
                sql.Identifier(spec.group)))
        # Its session is its group: what it creates belongs to the group.
        cur.execute(sql.SQL("ALTER ROLE {} SET role = {}").format(
            sql.Identifier(spec.login), sql.Literal(spec.group)))
        if settings is not None:
            password = _write_role_passfile(settings, admin, spec)
            verifier = encrypt_password(password, spec.login, cur.connection, "scram-sha-256")
            cur.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(
                sql.Identifier(spec.login)), [verifier])


def grant_database(cur, database: str, admin_user: str) -> None:
    """The schemas, their owners and the grants of `database` (idempotent; run as an
    administrator connected to it). `admin_user`'s own tables in these schemas (set-up,
    or a service not yet moved to its role) get the same default privileges."""
    ident = sql.Identifier
    db = ident(database)
    # Concurrent GRANTs on one object fail ("tuple concurrently updated"): one at a time.
    cur.execute("SELECT pg_advisory_xact_lock(hashtext('hireloop.pg_roles'))")
    cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
    cur.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    groups = [ident(r.group) for r in ROLES.values()]
    cur.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
        db, sql.SQL(", ").join(groups)))
    cur.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
        db, ident(SCAN_ROLE.group)))
    writers = [ident(r.group) for r in ROLES.values() if r.owns or r.creates_in]
    # Code that writes a schema says CREATE SCHEMA IF NOT EXISTS, which needs CREATE here.
    cur.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(
        db, sql.SQL(", ").join(writers)))
    schemas = sorted({s for r in ROLES.values() for s in (*r.owns, *r.creates_in, *r.reads)})
    for schema in schemas:
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident(schema)))
    for statement in _misowned(cur):  # before the grants: an owner's grants follow it
        cur.execute(statement)
    for schema in schemas:
        owner = schema_owner(schema)
        s = ident(schema)
        cur.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(s))
        if owner is not None:
            cur.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(s, ident(owner.group)))
        for spec in ROLES.values():
            if schema in spec.creates_in:
                cur.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(
                    s, ident(spec.group)))
        readers = [ident(r.group) for r in ROLES.values() if schema in r.reads]
        if not readers:
            continue
        cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
            s, sql.SQL(", ").join(readers)))
        if schema in DBT_SCHEMAS:
            continue  # dbt's +grants, with every table it builds
        cur.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
            s, sql.SQL(", ").join(readers + ([ident(owner.group)] if owner else []))))
        creators = {r.group for r in ROLES.values() if schema in (*r.owns, *r.creates_in)}
        for creator in sorted(creators | {admin_user}):
            # The schema's owner reads what another job makes in it too.
            also = [ident(owner.group)] if owner and owner.group != creator else []
            cur.execute(sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES "
                "TO {}").format(ident(creator), s, sql.SQL(", ").join(readers + also)))
    _grant_register(cur)
    ensure_report_views(cur)


def store_endpoint(settings: Settings, admin: PgEndpoint, service: str,
                   database: str) -> PgEndpoint:
    """How MLflow or Dagster (`service`, of STORE_ROLES) connects to its store `database`
    (the installation's, or a test's): as its own role; on the embedded server the database
    is handed to that role first (`_store_handover`; one catalog query when it is)."""
    spec = STORE_ROLES[service]
    if admin.embedded:
        conn = admin.connect(database)
        try:
            with conn, conn.cursor() as cur:
                statements = _store_handover(cur, database, spec.group)
                if statements:
                    cur.execute("SELECT pg_advisory_xact_lock(hashtext('hireloop.pg_roles'))")
                    for statement in _store_handover(cur, database, spec.group):
                        cur.execute(statement)
        finally:
            conn.close()
    return role_endpoint(settings, admin, service)


def _store_handover(cur, database: str, group: str) -> list[sql.Composed]:
    """What makes `group` the owner of `database`, of its `public` schema and of every
    object there (the administrator made them: before the roles, or an older hireloop),
    with no CONNECT for PUBLIC but the personal-data scan's; nothing when all is so
    already."""
    ident = sql.Identifier
    cur.execute("""SELECT pg_get_userbyid(d.datdba),
                          (SELECT pg_get_userbyid(nspowner) FROM pg_namespace
                           WHERE nspname = 'public')
                   FROM pg_database d WHERE d.datname = %s""", [database])
    db_owner, schema_owner_now = cur.fetchone()
    cur.execute("SELECT has_database_privilege(%s, %s, 'CONNECT')",
                [SCAN_ROLE.group, database])
    (scan_connects,) = cur.fetchone()
    out = []
    if db_owner != group:
        out += [sql.SQL("ALTER DATABASE {} OWNER TO {}").format(ident(database), ident(group)),
                sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(ident(database))]
    if db_owner != group or not scan_connects:  # the personal-data scan reads it too
        out.append(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            ident(database), ident(SCAN_ROLE.group)))
    if schema_owner_now != group:
        out.append(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(ident(group)))
    return out + _owner_changes(cur, ["public"], lambda _schema, _name: group)


def _grant_register(cur) -> None:
    """The load register, made by its owner if missing, readable by the jobs that need
    the as-of date in force."""
    from hris.exports import ensure_register

    owner = schema_owner(REGISTER_TABLE.split(".")[0])
    cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(owner.group)))
    ensure_register(cur)
    cur.execute("RESET ROLE")
    readers = [r.group for r in ROLES.values() if REGISTER_TABLE in r.reads_tables]
    schema, table = REGISTER_TABLE.split(".")
    cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
        sql.Identifier(schema), sql.SQL(", ").join(map(sql.Identifier, readers))))
    cur.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, readers))))


def ensure_report_views(cur) -> list[str]:
    """The report views whose monitoring table exists, owned by ml (who reads the table);
    returns the views made or replaced. Idempotent; monitoring calls it again once its
    tables exist."""
    owner = schema_owner(REPORT_SCHEMA)
    made = []
    for view, table in REPORT_VIEWS.items():
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        if not cur.fetchone()[0]:
            continue
        name = sql.Identifier(REPORT_SCHEMA, view)
        cur.execute(sql.SQL("CREATE OR REPLACE VIEW {} AS SELECT * FROM {}").format(
            name, sql.Identifier(*table.split("."))))
        cur.execute(sql.SQL("ALTER VIEW {} OWNER TO {}").format(
            name, sql.Identifier(owner.group)))
        made.append(f"{REPORT_SCHEMA}.{view}")
    return made


def apply_roles(admin: PgEndpoint, settings: Settings | None,
                databases: tuple[str, ...] = ("hireloop",)) -> None:
    """Roles, passwords (embedded: `settings` given) and the grants of `databases`, as the
    administrator `admin`; idempotent."""
    conn = admin.connect("postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            ensure_roles(cur, settings, admin)
    finally:
        conn.close()
    for database in databases:
        conn = admin.connect(database)
        try:
            with conn, conn.cursor() as cur:
                grant_database(cur, database, admin.user)
        finally:
            conn.close()


def main() -> None:
    """`python -m orchestration.pg_roles`: the roles and grants on the configured server,
    as its administrator (an external server's operator runs it once, then gives each
    login user a password: `ALTER ROLE hireloop_<job>_user PASSWORD '...'`)."""
    from orchestration.runtime import Runtime

    settings = Settings.from_env()
    runtime = Runtime(settings)
    admin = runtime.up()
    apply_roles(admin, settings if admin.embedded else None)
    for spec in ALL_ROLES.values():
        print(f"{spec.job}: {spec.login} (in {spec.group})")


if __name__ == "__main__":
    main()
