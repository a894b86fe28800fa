"""Configuration problems as one clear line for every command, never a traceback."""
from __future__ import annotations

from contextlib import contextmanager

import click
from sqlalchemy.exc import OperationalError

from store.db import DatabaseConfigError


@contextmanager
def database_errors():
    """A database that can't be reached, is not supported or has no current schema is one clear
    line, not a traceback (and never its password)."""
    try:
        yield
    except DatabaseConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise click.ClickException(f"can't reach the database ({reason}). Check DATABASE_URL.") from None
