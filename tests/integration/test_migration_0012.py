"""Migration 0012 carries existing data over: numbers already live get a history stretch from what
the store knows, uploads and their staged rows survive the change of the uploads table (SQLite too)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from store.db import make_engine, upgrade
from tests.support.databases import postgres_database

LIVE_AT = datetime(2026, 10, 5, 8, 30, tzinfo=timezone.utc)
CREATED = datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)


@contextmanager
def fresh(kind: str, tmp_path):
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    import psycopg
    try:
        with postgres_database("leadsbot_mig", migrate=False) as url:
            yield url
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")


SEED = [
    "INSERT INTO tenants (id, name) VALUES (1, 'Acme SP')",
    "INSERT INTO customers (id, tenant_id, name) VALUES (1, 1, 'Roma')",
    "INSERT INTO operators (id, email) VALUES (1, 'ops@acme.example')",
    "INSERT INTO calling_profiles (id, tenant_id, name, sbc_device) VALUES (1, 1, 'CC', 'sbc')",
    "INSERT INTO sip_connections (id, tenant_id, name) VALUES (1, 1, 'PSTN')",
    "INSERT INTO services (id, tenant_id, customer_id, name, channel, product, mode, org_id, location_id, country, "
    "removing, last_modified) VALUES (1, 1, 1, 'roma-cc', '', 'live-cx', 'integrated', 'O', 'L', 'IT', false, :t)",
    "INSERT INTO uploads (id, tenant_id, service_id, operator_id, room_id, source, number_type, cac, "
    "calling_profile_id, sip_connection_id, service_info, entries, valid_count, invalid_count, already_count, "
    "duplicate_count, state, created_at) VALUES (1, 1, 1, 1, 'r', 'typed', 'contact-center', 7, 1, 1, 'Sales', "
    "3, 3, 0, 0, 0, 'submitted', :t)",
    "INSERT INTO uploads (id, tenant_id, service_id, operator_id, room_id, source, number_type, "
    "calling_profile_id, sip_connection_id, service_info, entries, valid_count, invalid_count, already_count, "
    "duplicate_count, state, created_at) VALUES (2, 1, 1, 1, 'r', 'typed', 'user', 1, 1, '', 1, 1, 0, 0, 0, "
    "'preview', :t)",
    "INSERT INTO staged_numbers (upload_id, e164, row) VALUES (2, '+390212000009', 1)",
    "INSERT INTO numbers (id, e164, service_id, upload_id, number_type, sync_state, created_at, live_at) "
    "VALUES (1, '+390212000001', 1, 1, 'contact-center', 'live', :t, :live)",
    "INSERT INTO numbers (id, e164, service_id, upload_id, number_type, sync_state, created_at, live_at) "
    "VALUES (2, '+390212000002', 1, 1, 'contact-center', 'live', :t, NULL)",
    "INSERT INTO numbers (id, e164, service_id, upload_id, number_type, sync_state, created_at, live_at) "
    "VALUES (3, '+390212000003', 1, 1, 'contact-center', 'pending', :t, NULL)",
]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_live_numbers_get_their_history_and_nothing_is_lost(kind, tmp_path):
    with fresh(kind, tmp_path) as url:
        engine = make_engine(url)
        upgrade(engine, "0010")  # the head before 0012
        with engine.begin() as conn:
            for statement in SEED:
                conn.execute(text(statement), {"t": CREATED, "live": LIVE_AT})
        upgrade(engine, "0012")
        with engine.connect() as conn:
            history = conn.execute(text(
                "SELECT e164, number_type, cac, service_info, live_since, released_at FROM number_history "
                "ORDER BY e164")).all()
            staged = conn.execute(text("SELECT count(*) FROM staged_numbers")).scalar()
            kinds = conn.execute(text("SELECT kind, released_count FROM uploads ORDER BY id")).all()
            conn.execute(text("INSERT INTO uploads (id, tenant_id, service_id, operator_id, room_id, kind, source, "
                              "number_type, service_info, entries, valid_count, invalid_count, already_count, "
                              "duplicate_count, released_count, state, created_at) VALUES (3, 1, 1, 1, 'r', "
                              "'release', 'typed', '', '', 0, 0, 0, 0, 0, 0, 'preview', :t)"), {"t": CREATED})
        engine.dispose()
    assert [(e, t, c, i, r) for e, t, c, i, _, r in history] == [
        ("+390212000001", "contact-center", 7, "Sales", None), ("+390212000002", "contact-center", 7, "Sales", None)]
    since = [value if isinstance(value, datetime) else datetime.fromisoformat(value) for *_, value, _ in history]
    assert [s.replace(tzinfo=timezone.utc) if s.tzinfo is None else s for s in since] == [LIVE_AT, CREATED]
    assert staged == 1 and kinds == [("upload", 0), ("upload", 0)]
