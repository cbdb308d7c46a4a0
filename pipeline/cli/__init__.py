"""The `newsdesk` command: one module a subcommand, and the console output they share."""
