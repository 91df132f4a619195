"""``an-sf-sync``: the project's command line (sandboxes, demo, settings import, doctor).

Subcommands import their modules lazily so ``an-sf-sync --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand path -> "module:function" pairs; each module offers add_arguments(parser) and run(args)
COMMANDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("sandbox", "actionnetwork"): ("an_sf_sync.sandbox.actionnetwork.server",
                                   "Serve the Action Network API emulator"),
    ("sandbox", "salesforce"): ("an_sf_sync.sandbox.salesforce.server",
                                "Serve the Salesforce API emulator over HTTPS"),
    ("demo",): ("an_sf_sync.demo", "Run the sync end to end on the sandboxes and print what landed"),
    ("env",): ("an_sf_sync.localenv",
               "Print the project-local Airflow environment as shell exports (eval it to use the airflow CLI)"),
    ("airflow",): ("an_sf_sync.airflow_local",
                   "Run Airflow (UI, API, scheduler) on this machine with the sandboxes; Ctrl-C stops it"),
    ("doctor",): ("an_sf_sync.doctor",
                  "Check connections, Salesforce fields, API allowance, staging, pool, variables and clocks"),
    ("settings", "import"): ("an_sf_sync.settings",
                             "Apply airflow_settings.yaml (connections, pools, variables) to Airflow"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="an-sf-sync", description=__doc__.splitlines()[0])
    groups: dict[tuple[str, ...], argparse._SubParsersAction] = {(): parser.add_subparsers(required=True)}
    parsers: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for path, (module, help_text) in COMMANDS.items():
        for depth in range(1, len(path)):
            prefix = path[:depth]
            if prefix not in groups:
                sub = groups[prefix[:-1]].add_parser(prefix[-1], help=f"{prefix[-1]} commands")
                parsers[prefix] = sub
                groups[prefix] = sub.add_subparsers(required=True)
        sub = groups[path[:-1]].add_parser(path[-1], help=help_text, description=help_text)
        sub.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return importlib.import_module(args._module).run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
