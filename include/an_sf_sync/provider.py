"""Airflow provider metadata: registers the ``actionnetwork`` connection type and its form.

Found by Airflow through the ``apache_airflow_provider`` entry point in pyproject.toml. The form
is declarative (``conn-fields`` / ``ui-field-behaviour``), the form Airflow 3.2+ reads; values of
the extra fields land as plain keys in the connection's ``extra``. Must stay import-light.
"""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "an-sf-sync",
        "name": "Action Network",
        "description": "Action Network REST API v2 hook for the Action Network / Salesforce sync.",
        "hooks": [{"integration-name": "Action Network",
                   "python-modules": ["an_sf_sync.actionnetwork.hook"]}],
        "integrations": [{"integration-name": "Action Network",
                          "external-doc-url": "https://actionnetwork.org/docs/v2/",
                          "tags": ["service"]}],
        "connection-types": [
            {
                "connection-type": "actionnetwork",
                "hook-class-name": "an_sf_sync.actionnetwork.hook.ActionNetworkHook",
                "hook-name": "Action Network",
                "conn-fields": {
                    "requests_per_second": {
                        "label": "Requests per second",
                        "description": "Shared by every request of a task; Action Network allows 4.",
                        "schema": {"type": ["number", "null"], "default": 4, "minimum": 0.1},
                    },
                    "concurrency": {
                        "label": "Concurrency",
                        "description": "Requests in flight at once (paging keeps the rate limit busy).",
                        "schema": {"type": ["integer", "null"], "default": 8, "minimum": 1},
                    },
                    "timeout": {
                        "label": "Timeout (s)",
                        "description": "Per request, before it is retried.",
                        "schema": {"type": ["number", "null"], "default": 30, "minimum": 1},
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["login", "port", "schema"],
                    "relabeling": {"password": "API Key", "host": "Base URL"},
                    "placeholders": {"host": "https://actionnetwork.org/api/v2/",
                                     "password": "the list's API key (API & Sync page)"},
                },
            }
        ],
    }
