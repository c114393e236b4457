"""The `sourced` command line: cli, doctor and evaluation."""
