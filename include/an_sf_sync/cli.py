"""``an-sf-sync``: the project's command line (doctor, settings import; the dev kit adds sandboxes, demo).

Subcommands import their modules lazily so ``an-sf-sync --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand path -> ("module", help); each module offers add_arguments(parser) and run(args)
COMMANDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("doctor",): ("an_sf_sync.doctor",
                  "Check connections, Salesforce fields, API allowance, staging, pool, variables and clocks"),
    ("settings", "import"): ("an_sf_sync.settings",
                             "Apply airflow_settings.yaml (connections, pools, variables) to Airflow"),
}
# Other installed packages add commands through this entry-point group (a dict like COMMANDS); the
# development kit (an-sf-sync-dev) adds the sandboxes, the demo and the local Airflow this way.
PLUGIN_GROUP = "an_sf_sync.commands"


def commands() -> dict[tuple[str, ...], tuple[str, str]]:
    from importlib.metadata import entry_points

    found = dict(COMMANDS)
    for entry in entry_points(group=PLUGIN_GROUP):
        found.update(entry.load())
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="an-sf-sync", description=__doc__.splitlines()[0])
    groups: dict[tuple[str, ...], argparse._SubParsersAction] = {(): parser.add_subparsers(required=True)}
    parsers: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for path, (module, help_text) in commands().items():
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
