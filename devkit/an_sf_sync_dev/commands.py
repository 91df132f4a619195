"""The kit's ``an-sf-sync`` subcommands, found by the CLI through the ``an_sf_sync.commands`` entry point."""

COMMANDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("sandbox", "actionnetwork"): ("an_sf_sync_dev.sandbox.actionnetwork.server",
                                   "Serve the Action Network API emulator"),
    ("sandbox", "salesforce"): ("an_sf_sync_dev.sandbox.salesforce.server",
                                "Serve the Salesforce API emulator over HTTPS"),
    ("demo",): ("an_sf_sync_dev.demo", "Run the sync end to end on the sandboxes and print what landed"),
    ("env",): ("an_sf_sync_dev.localenv",
               "Print the project-local Airflow environment as shell exports (eval it to use the airflow CLI)"),
    ("airflow",): ("an_sf_sync_dev.airflow_local",
                   "Run Airflow (UI, API, scheduler) on this machine with the sandboxes; Ctrl-C stops it"),
}
