"""The `motcua` command line: `app` parses and dispatches, one module per subcommand."""

from motcua.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
