"""The `callout` command. Every rule it relies on lives in the services; each module here
holds one group of commands."""

import sys

from callout.cli import (  # noqa: F401 - each registers its commands
    backup,
    calls,
    installation,
    interchange,
    library,
)
from callout.cli.common import app, expected, report

__all__ = ["app", "main"]


def main() -> None:
    """Run the command, printing expected failures as one clear line each."""
    try:
        app()
    except Exception as error:
        found = expected(error)
        if found is None:
            raise
        report(found.detail)
        sys.exit(1)
