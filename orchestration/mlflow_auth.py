"""The MLflow UI's basic-auth app: its configuration, and the environment it starts in.

Without it, anyone who reaches the port reads and rewrites every run and the registry. With
`--app-name basic-auth`, `default_permission = NO_PERMISSIONS` and one admin user whose
password is generated per installation (`$HIRELOOP_HOME/secrets/mlflow-ui.password`), an
anonymous request gets 401. The user database (hashed passwords) lives in
`$HIRELOOP_HOME/mlflow-auth`, folder 0700. MLflow reads the admin password only when it
creates the admin user, at the first start.
"""

from __future__ import annotations

from pathlib import Path

from hris.data_crypto import write_private
from orchestration.config import MLFLOW_ADMIN_USER, Settings

AUTH_APP = "basic-auth"
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


def allowed_hosts(port: int) -> str:
    """`--allowed-hosts`: the loopback names only (MLflow's default also admits every private
    address), so a page on a rebound domain (`Host: evil.example`) is refused."""
    return ",".join(name for host in LOOPBACK_NAMES for name in (host, f"{host}:{port}"))


def write_config(settings: Settings) -> Path:
    """`basic_auth.ini` in the auth folder (0700; the file 0600 whatever the umask)."""
    folder = settings.mlflow_auth_dir
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # mkdir's mode is masked by the umask
    path = folder / "basic_auth.ini"
    text = (
        "[mlflow]\n"
        "default_permission = NO_PERMISSIONS\n"
        f"database_uri = sqlite:///{(folder / 'basic_auth.db').resolve()}\n"
        f"admin_username = {MLFLOW_ADMIN_USER}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "grant_default_workspace_access = false\n"
    )
    write_private(path, text, replace=True)
    return path


def credentials(settings: Settings) -> tuple[str, str]:
    """The admin's user name and password (what a client sends as basic auth)."""
    return MLFLOW_ADMIN_USER, settings.mlflow_admin_password_file().read_text().strip()


def server_env(settings: Settings) -> dict[str, str]:
    """The UI process's auth variables: the configuration, the bootstrap admin and the key
    that signs its CSRF tokens (the app refuses to start without one). Set explicitly, so an
    inherited MLFLOW_AUTH_* cannot point it elsewhere. The secrets go in the environment
    (readable by this user only), never on the command line."""
    user, password = credentials(settings)
    flask_key = settings.secret_file("mlflow-ui.flask-key").read_text().strip()
    return {"MLFLOW_AUTH_CONFIG_PATH": str(write_config(settings)),
            "MLFLOW_AUTH_ADMIN_USERNAME": user, "MLFLOW_AUTH_ADMIN_PASSWORD": password,
            "MLFLOW_FLASK_SERVER_SECRET_KEY": flask_key}
