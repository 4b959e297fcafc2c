"""Logging: one event per line, every logger passing through the redaction filter.

The filter is the last line of defence, not the first: secrets are kept out of log calls by
construction (they are `SecretStr` until sealed or sent). It masks what slips through in the
shapes secrets take on the wire: the credential headers (the runtime's one table of them),
`key=value` pairs with a secret-sounding key, and Callout's own API keys.
"""

import logging
import logging.config
import re
from typing import Any

from callout.runtime.credential_headers import CREDENTIAL_HEADERS
from callout.schemas import MASK

# Longest first, so `set-cookie` is matched whole rather than as `cookie`.
HEADER_NAMES = "|".join(re.escape(h) for h in sorted(CREDENTIAL_HEADERS, key=len, reverse=True))
PATTERNS = [
    re.compile(
        rf"(?i)({HEADER_NAMES})([\"']?\s*[:=]\s*[\"']?)"
        r"([^\"'\r\n,}]+)"
    ),
    re.compile(
        r"(?i)((?:password|passwd|secret|token|api[_-]?key|client_secret|refresh_token|"
        r"access_token|private_key)[\"']?\s*[:=]\s*[\"']?)([^\"'&\s,}]+)"
    ),
    re.compile(r"callout_[0-9a-f]{12}_[A-Za-z0-9_\-]{20,}"),
]


def redact(text: str) -> str:
    text = PATTERNS[0].sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    text = PATTERNS[1].sub(lambda m: m.group(1) + MASK, text)
    return PATTERNS[2].sub("callout_" + MASK, text)


class RedactionFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def config(level: str = "INFO") -> dict[str, Any]:
    """Every logger's events, redacted, to standard error, one line each, as a `dictConfig`.

    `callout serve` hands it to uvicorn, which applies it in each worker process it spawns:
    a worker starts a fresh interpreter, so logging set up only in the parent logs nothing.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "callout.logging.RedactionFilter"}},
        "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "line",
                "filters": ["redact"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
    }


def configure(level: str = "INFO") -> None:
    """Set up this process's logging as `config` says."""
    logging.config.dictConfig(config(level))
