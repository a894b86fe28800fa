"""Alembic environment: runs against the engine leadsbot hands over (never a hard-coded URL)."""
from alembic import context

from store.db import make_engine, database_url
from store.models import Base

config = context.config
engine = config.attributes.get("engine") or make_engine(database_url(config.get_main_option("sqlalchemy.url") or None))

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
