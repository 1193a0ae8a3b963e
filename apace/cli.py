"""The `apace` command line.  Each subcommand lives in its own module under apace/commands/ and
exposes `register(subparsers)`, which adds its parser and sets `func` (called with the parsed args,
returning an exit code)."""

from __future__ import annotations

import argparse
import importlib
import sys

# Order is the order shown in --help.  A module that is absent is skipped.
COMMAND_MODULES = (
    "apace.commands.run",
    "apace.commands.characterize",
    "apace.commands.ppl",
    "apace.commands.synth",
    "apace.commands.dse",
    "apace.commands.summary",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="apace",
        description="A-PACE: Attention Precision & Accumulation Co-design Explorer",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("\ninterrupted; finished results are kept", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except ValueError as exc:  # our validation errors: one clear line, no traceback
        print(f"apace {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
