"""Interviewer pseudonyms for the interview tool.

The scoring endpoint corrects for each interviewer's leniency when a request names its
interviewers in `rater_ids`, but it knows them only by pseudonym, and the interview tool
knows them only by the HR system's own ids. This lookup (raw id -> pseudonym, computed
with the installation's key exactly as the dbt staging models do) bridges the two. It
holds raw ids, so it belongs to the HR-system side like schema `raw`: it is written
owner-only and is never logged.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from hris.pseudonym import KEY_TABLE, hmac_pads, pseudonym

LOOKUP_COLUMNS = ("interviewer_id", "rater_id")


def interviewer_ids(conn) -> list[str]:
    """Every interviewer id in raw.interviews (trimmed, blanks skipped), sorted."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT trim(interviewer_id) FROM raw.interviews "
            "WHERE nullif(trim(interviewer_id), '') IS NOT NULL ORDER BY 1"
        )
        return [row[0] for row in cur.fetchall()]


def key_matches_feature_store(conn, key: bytes) -> bool | None:
    """Whether `key` is the one the feature store was last built with (None: never built).

    A lookup made with another key would name no interviewer the model knows, silently.
    """
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (KEY_TABLE,))
        if cur.fetchone()[0] is None:
            return None
        cur.execute(f"SELECT ipad, opad FROM {KEY_TABLE}")
        row = cur.fetchone()
    if row is None:
        return None
    return (bytes(row[0]), bytes(row[1])) == hmac_pads(key)


def rater_id_lookup(key: bytes, ids: list[str]) -> dict[str, str]:
    """Raw interviewer id -> the pseudonym the model's rater offsets are keyed by."""
    return {i: pseudonym(key, i) for i in ids}


def write_rater_id_lookup(lookup: dict[str, str], path: Path) -> Path:
    """Write the lookup as CSV (interviewer_id, rater_id), readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
    with os.fdopen(fd, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(LOOKUP_COLUMNS)
        writer.writerows(sorted(lookup.items()))
    return path
