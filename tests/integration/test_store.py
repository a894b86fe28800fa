"""The store on real databases: migrations match the models, constraints hold, sessions roll back."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from store.db import (
    alembic_config,
    connect,
    current_revision,
    database_url,
    head_revision,
)
from store.models import Base, Customer, Number, Tenant


def test_database_url_selects_psycopg_for_postgres_urls(monkeypatch):
    assert database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert database_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url().startswith("sqlite:///") and database_url().endswith("leadsbot.db")


def test_sqlite_file_is_created_and_migrated_on_first_use(tmp_path):
    db = connect(f"sqlite:///{tmp_path / 'new.db'}")
    assert current_revision(db.engine) == head_revision()
    assert set(inspect(db.engine).get_table_names()) >= set(Base.metadata.tables)
    db.dispose()


def test_migrations_match_the_models(db):
    """`alembic check`: the migrated schema has everything the models declare."""
    command.check(alembic_config(db.engine))
    assert current_revision(db.engine) == head_revision()


def test_a_number_belongs_to_one_service_only(db):
    from tests.support.factories import make_service, make_upload

    with db.sessions.begin() as session:
        first = make_service(session, name="one")
        second = make_service(session, name="two")
        upload = make_upload(session, first, ["+390212345678"])
        upload_id, second_id = upload.id, second.id
    with pytest.raises(IntegrityError):
        with db.sessions.begin() as session:
            session.add(Number(e164="+390212345678", service_id=second_id, upload_id=upload_id, number_type="user"))
    with db.sessions() as session:
        assert session.scalars(select(Number.service_id)).all() == [first.id]


def test_a_failed_transaction_leaves_nothing(db):
    with pytest.raises(RuntimeError):
        with db.sessions.begin() as session:
            tenant = Tenant(name="T")
            session.add(tenant)
            session.flush()
            session.add(Customer(tenant_id=tenant.id, name="C"))
            raise RuntimeError("boom")
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Tenant)) == 0
