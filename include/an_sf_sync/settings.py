"""Apply ``airflow_settings.yaml`` (the Astro CLI format) to a non-Astro Airflow. Idempotent.

Astro users get the same file applied by ``astro dev start``. Connections are replaced whole,
pools and variables are created or updated, so running this twice changes nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

# Astro's conn_* keys -> Airflow Connection attributes
_CONN_FIELDS = {"conn_type": "conn_type", "conn_host": "host", "conn_schema": "schema", "conn_login": "login",
                "conn_password": "password", "conn_port": "port", "conn_extra": "extra",
                "conn_description": "description"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--file", type=Path, default=Path("airflow_settings.yaml"),
                        help="settings file in the Astro CLI format (default: ./airflow_settings.yaml)")


def load(path: Path) -> dict[str, list[dict[str, Any]]]:
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    section = doc.get("airflow") or {}
    return {key: section.get(key) or [] for key in ("connections", "pools", "variables")}


def connection_kwargs(entry: dict[str, Any]) -> dict[str, Any]:
    """Airflow ``Connection`` keyword arguments for one Astro connection entry."""
    if not entry.get("conn_id") or not (entry.get("conn_type") or entry.get("conn_uri")):
        raise ValueError(f"connection entry needs conn_id and conn_type (or conn_uri): {entry!r}")
    if entry.get("conn_uri"):
        return {"conn_id": entry["conn_id"], "uri": entry["conn_uri"]}
    kwargs = {attr: entry[key] for key, attr in _CONN_FIELDS.items() if entry.get(key) not in (None, "")}
    if isinstance(kwargs.get("extra"), dict):
        kwargs["extra"] = json.dumps(kwargs["extra"])
    return {"conn_id": entry["conn_id"], **kwargs}


def apply(settings: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    from airflow.models import Connection, Pool, Variable
    from airflow.utils.session import create_session

    with create_session() as session:
        for entry in settings["connections"]:
            kwargs = connection_kwargs(entry)
            session.query(Connection).filter(Connection.conn_id == kwargs["conn_id"]).delete()
            session.add(Connection(**kwargs))
    for pool in settings["pools"]:
        Pool.create_or_update_pool(name=pool["pool_name"], slots=int(pool["pool_slot"]),
                                   description=pool.get("pool_description", ""), include_deferred=False)
    for var in settings["variables"]:
        value = var["variable_value"]
        Variable.set(var["variable_name"], value if isinstance(value, str) else json.dumps(value))
    return {key: len(items) for key, items in settings.items()}


def run(args: argparse.Namespace) -> int:
    counts = apply(load(args.file))
    print(f"applied {args.file}: {counts['connections']} connections, {counts['pools']} pools, "
          f"{counts['variables']} variables")
    return 0
