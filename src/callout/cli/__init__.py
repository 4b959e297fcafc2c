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
from callout.cli.common import app, report
from callout.errors import CalloutError

__all__ = ["app", "main"]


def main() -> None:
    """Run the command, printing expected failures as one clear line each."""
    try:
        app()
    except CalloutError as error:
        report(error.detail)
    except Exception as error:
        message = _expected(error)
        if message is None:
            raise
        report(message)
    else:
        return
    sys.exit(1)


def _expected(error: Exception) -> str | None:
    """The line an expected failure is printed as, or None for a bug. Its kinds are imported
    only once a command has failed, not on every start (see `cli.common`)."""
    from pydantic import ValidationError

    from callout.db.crypto import KeyMaterialError
    from callout.validation import validation_problems

    if isinstance(error, ValidationError):
        return "; ".join(f"{p.field}: {p.message}" for p in validation_problems(error.errors()))
    if isinstance(error, KeyMaterialError):
        return str(error)
    return None
