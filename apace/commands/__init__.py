"""Subcommands of the apace CLI, one module each."""
