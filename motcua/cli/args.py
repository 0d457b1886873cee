"""What the self-parsing subcommands (`motcua deadline`, `motcua report`) share: an argparse
parser whose errors become one line on stderr and exit status 2, instead of argparse's usage
block and its own exit."""

from __future__ import annotations

import argparse
from typing import NoReturn


class UsageError(Exception):
    """Bad command-line input: the command prints `<prog>: error: <message>` and exits 2."""


class Parser(argparse.ArgumentParser):
    """An `ArgumentParser` that raises `UsageError` rather than printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)
