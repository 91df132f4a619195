"""Apply ``airflow_settings.yaml`` (the Astro CLI format) to a non-Astro Airflow. Idempotent.

Astro users get the same file applied by ``astro dev start``. Connections are replaced whole,
pools and variables are created or updated, so running this twice changes nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# Astro's conn_* keys -> Airflow Connection attributes
_CONN_FIELDS = {"conn_type": "conn_type", "conn_host": "host", "conn_schema": "schema", "conn_login": "login",
                "conn_password": "password", "conn_port": "port", "conn_extra": "extra",
                "conn_description": "description"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--file", type=Path, default=Path("airflow_settings.yaml"),
                        help="settings file in the Astro CLI format (default: ./airflow_settings.yaml)")
    parser.add_argument("--ca-bundle", type=Path,
                        help="CA file for the Salesforce connections to trust (e.g. the sandbox's own CA)")


def load(path: Path) -> dict[str, list[dict[str, Any]]]:
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    section = doc.get("airflow") or {}
    return {key: section.get(key) or [] for key in ("connections", "pools", "variables")}


def connection_entry(entry: dict[str, Any]) -> tuple[str, dict[str, Any] | str]:
    """One Astro connection entry as (conn_id, what ``airflow connections import`` takes)."""
    if not entry.get("conn_id") or not (entry.get("conn_type") or entry.get("conn_uri")):
        raise ValueError(f"connection entry needs conn_id and conn_type (or conn_uri): {entry!r}")
    if entry.get("conn_uri"):
        return entry["conn_id"], entry["conn_uri"]
    fields = {attr: entry[key] for key, attr in _CONN_FIELDS.items() if entry.get(key) not in (None, "")}
    if isinstance(fields.get("extra"), dict):
        fields["extra"] = json.dumps(fields["extra"])
    return entry["conn_id"], fields


def apply(settings: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """Import through Airflow's own CLI, the supported way to write to its metadata database."""
    files = {
        ("connections", "import", "--overwrite"): dict(map(connection_entry, settings["connections"])),
        ("pools", "import"): {p["pool_name"]: {"slots": int(p["pool_slot"]),
                                               "description": p.get("pool_description", ""),
                                               "include_deferred": False} for p in settings["pools"]},
        ("variables", "import", "--action-on-existing-key", "overwrite"): {
            v["variable_name"]: v["variable_value"] for v in settings["variables"]},
    }
    airflow = Path(sys.executable).parent / "airflow"
    with tempfile.TemporaryDirectory() as tmp:
        for (group, *command), content in files.items():
            if not content:
                continue
            path = Path(tmp) / f"{group}.json"
            path.write_text(json.dumps(content), encoding="utf-8")
            subprocess.run([str(airflow), group, *command[:1], str(path), *command[1:]], check=True,
                           stdout=subprocess.DEVNULL)
    return {key: len(items) for key, items in settings.items()}


def with_ca_bundle(settings: dict[str, list[dict[str, Any]]], ca_bundle: Path) -> dict[str, list[dict[str, Any]]]:
    """The settings with every Salesforce connection trusting ``ca_bundle``."""
    for entry in settings["connections"]:
        if entry.get("conn_type") == "salesforce":
            entry["conn_extra"] = {**(entry.get("conn_extra") or {}), "ca_bundle": str(ca_bundle.resolve())}
    return settings


def run(args: argparse.Namespace) -> int:
    settings = load(args.file)
    counts = apply(with_ca_bundle(settings, args.ca_bundle) if args.ca_bundle else settings)
    print(f"applied {args.file}: {counts['connections']} connections, {counts['pools']} pools, "
          f"{counts['variables']} variables")
    return 0
