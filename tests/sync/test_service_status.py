"""Service status derivation (SPEC §1) and the set-based per-state counts."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import event, update

from provisioning.leads.status import (
    ServiceStatus,
    derive_status,
    last_sync_error,
    status_counts,
    statuses,
)
from store.models import Number, Service, SyncTask
from tests.support.factories import T0, e164s, make_service, make_upload


def _service(**fields) -> Service:
    values = {"consented_on": T0, "removing": False, "sync_error": None, **fields}
    return Service(name="roma-cc", **values)


@pytest.mark.parametrize("fields, counts, expected", [
    ({"consented_on": None}, {}, ServiceStatus("Pending Consent")),
    ({"consented_on": None}, {"live": 3}, ServiceStatus("Pending Consent")),
    ({"removing": True}, {"live": 3}, ServiceStatus("Removing")),
    ({}, {}, ServiceStatus("Pending Provisioning")),
    ({}, {"pending": 1, "live": 2}, ServiceStatus("Syncing")),
    ({}, {"pushed": 2}, ServiceStatus("Syncing")),
    ({}, {"live": 3}, ServiceStatus("Ready")),
    ({}, {"live": 3, "failed": 1}, ServiceStatus("Sync Failed", "1 of 4 numbers failed")),
    ({"sync_error": "[404] Location not found"}, {"failed": 2},
     ServiceStatus("Sync Failed", "[404] Location not found")),
])
def test_derive_status(fields, counts, expected):
    assert derive_status(_service(**fields), Counter(counts)) == expected


def test_status_text_names_the_reason():
    assert str(ServiceStatus("Sync Failed", "boom")) == "Sync Failed: boom"
    assert str(ServiceStatus("Ready")) == "Ready"


def test_status_counts_is_one_group_by_query_for_many_services(db):
    with db.sessions.begin() as session:
        first = make_service(session, "first")
        second = make_service(session, "second", location_id="LOC-2")
        empty = make_service(session, "empty", location_id="LOC-3")
        make_upload(session, first, e164s(5))
        make_upload(session, second, e164s(3, start=300000000))
        session.execute(update(Number).where(Number.e164.in_(e164s(2))).values(sync_state="live"))
        ids = (first.id, second.id, empty.id)

    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.sessions() as session:
            counts = status_counts(session, ids)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert counts == {ids[0]: Counter(live=2, pending=3), ids[1]: Counter(pending=3), ids[2]: Counter()}
    assert len(statements) == 1 and "GROUP BY" in statements[0]


def test_statuses_and_last_error(db):
    with db.sessions.begin() as session:
        service = make_service(session)
        make_upload(session, service, e164s(2))
        session.execute(update(SyncTask).values(last_error="rate limited by Webex (retry after 5 s)"))
        found = statuses(session, [service])
        assert found == {service.id: ServiceStatus("Syncing")}
        assert last_sync_error(session, service.id) == "rate limited by Webex (retry after 5 s)"
        service.sync_error = "gave up after 8 attempts: [503] Service Unavailable"
        session.flush()
        assert last_sync_error(session, service.id) == service.sync_error
