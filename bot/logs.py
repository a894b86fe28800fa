"""Logging set-up for every entry point: text, or `LOG_FORMAT=json` (one JSON object per line).

JSON lines carry time, level, logger and message, plus what the record concerns: `extra=`
fields (`event_id`, `space`, `upload`, `service`) and, through `context(...)`, the same fields
for every record logged while an inbox event is in hand. The formatter is python-json-logger's.
"""
from __future__ import annotations

import contextvars
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "{asctime}{levelname}{name}{message}"
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}
FORMATS = ("text", "json")

_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("leadsbot_log_context", default=None)


@contextmanager
def context(**fields) -> Iterator[None]:
    """Add `fields` (event_id, space, upload, service) to every record logged inside the block."""
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the current `context(...)` onto each record (without overriding an `extra=`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def log_format(value: str | None = None) -> str:
    """`LOG_FORMAT` (text or json); anything else is refused in one line at start-up."""
    chosen = (value if value is not None else os.environ.get("LOG_FORMAT", "")).strip().lower() or "text"
    if chosen not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be 'text' or 'json', not {chosen!r}")
    return chosen


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter(JSON_FIELDS, style="{", rename_fields=RENAMED, timestamp=False)
    return logging.Formatter(TEXT_FORMAT)


def configure(level: str, fmt: str | None = None) -> None:
    """Configure the root logger once (a no-op when it already has handlers, as basicConfig)."""
    chosen = log_format(fmt)
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(chosen))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    if root.level < logging.WARNING:
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every job run at INFO


def gunicorn_logconfig() -> dict:
    """gunicorn's own loggers (`logconfig_dict`) writing the same JSON lines as ours."""
    formatter_config = {"()": JsonFormatter, "fmt": JSON_FIELDS, "style": "{", "rename_fields": RENAMED,
                        "timestamp": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": formatter_config},
        "handlers": {
            "error_console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
    }
