"""The `callout` command. Every rule it relies on lives in the services; each module here
holds one group of commands."""

import sys

from pydantic import ValidationError

from callout.cli import (  # noqa: F401 - each registers its commands
    backup,
    calls,
    installation,
    interchange,
    library,
)
from callout.cli.common import app, report
from callout.db import crypto
from callout.errors import CalloutError
from callout.validation import validation_problems

__all__ = ["app", "main"]


def main() -> None:
    """Run the command, printing expected failures as one clear line each."""
    try:
        app()
    except CalloutError as error:
        report(error.detail)
    except ValidationError as error:
        report("; ".join(f"{p.field}: {p.message}" for p in validation_problems(error.errors())))
    except crypto.KeyMaterialError as error:
        report(str(error))
    else:
        return
    sys.exit(1)
