"""Metering (`usage`) from number history, with a clock the tests control, on SQLite and
PostgreSQL: figures computed by hand."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from provisioning.errors import UserError
from provisioning.metering.usage import number_rows, parse_month, usage
from store.models import NumberHistory
from tests.support.factories import make_service

NOV = parse_month("2026-11", datetime(2026, 12, 15, tzinfo=timezone.utc))
AFTER = datetime(2026, 12, 15, tzinfo=timezone.utc)


def at(day: int, hour: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=timezone.utc)


def stretches(db, rows, service: str = "roma-cc"):
    """rows: (e164, type, cac, info, live_since, released_at); returns (tenant_id, service_id)."""
    with db.sessions.begin() as session:
        svc = make_service(session, service, location_id=f"LOC-{service}")
        for e164, kind, cac, info, since, released in rows:
            session.add(NumberHistory(e164=e164, tenant_id=svc.tenant_id, customer_id=svc.customer_id,
                                      service_id=svc.id, number_type=kind, cac=cac, service_info=info,
                                      live_since=since, released_at=released))
        return svc.tenant_id, svc.id


def test_a_number_live_ten_days_of_a_thirty_day_month_counts_ten_number_days(db):
    tenant_id, _ = stretches(db, [("+390212000001", "user", 2, "", at(11), at(21))])
    with db.sessions() as session:
        [service] = usage(session, tenant_id, NOV, AFTER).services
    assert NOV.days == 30
    assert service.number_days == pytest.approx(10.0)
    assert (service.numbers, service.peak, service.cac) == (1, 1, 2)


def test_released_and_uploaded_again_counts_both_stretches_once_as_a_number(db):
    tenant_id, _ = stretches(db, [
        ("+390212000001", "contact-center", 10, "Sales", at(1), at(4)),       # 3 days
        ("+390212000001", "contact-center", 10, "Sales", at(20, 12), None),   # 10.5 days to Dec 1
    ])
    with db.sessions() as session:
        [service] = usage(session, tenant_id, NOV, AFTER).services
    assert service.number_days == pytest.approx(13.5)
    assert (service.numbers, service.peak, service.cac) == (1, 1, 20)  # CAC per live stretch


def test_only_the_days_inside_the_month_count_and_types_infos_peak_add_up(db):
    tenant_id, _ = stretches(db, [
        ("+390212000001", "user", 2, "", at(15, month=10), None),                        # all of November: 30
        ("+390212000002", "service", 5, "Fax IVR", at(15, month=10), at(6)),             # 5 days
        ("+390212000003", "contact-center", 8, "Sales", at(25), at(5, month=12)),        # 6 days
        ("+390212000004", "contact-center", None, "Sales", at(10), at(12)),              # 2 days
        ("+390212000005", "user", 2, "", at(1, month=12), None),                          # December only
        ("+390212000006", "user", 2, "", at(1, month=10), at(20, month=10)),              # October only
    ])
    with db.sessions() as session:
        [service] = usage(session, tenant_id, NOV, AFTER).services
    assert service.number_days == pytest.approx(43.0)
    assert service.numbers == 4 and service.cac == 2 + 5 + 8
    assert service.by("number_type") == {"user": 1, "service": 1, "contact-center": 2}
    assert service.by("service_info") == {"": 1, "Fax IVR": 1, "Sales": 2}
    assert service.peak == 2  # two live at the start; #4 (10th-12th) starts after #2 left on the 6th


def test_the_current_month_counts_until_now(db):
    tenant_id, _ = stretches(db, [("+390212000001", "user", 2, "", at(1), None)])
    month = parse_month(None, at(11, 12))
    with db.sessions() as session:
        report = usage(session, tenant_id, month, at(11, 12))
    assert month.label == "2026-11" and report.until == at(11, 12)
    assert report.services[0].number_days == pytest.approx(10.5)


def test_a_month_with_no_activity_is_empty_not_an_error(db):
    tenant_id, _ = stretches(db, [("+390212000001", "user", 2, "", at(1, month=10), at(5, month=10))])
    with db.sessions() as session:
        assert usage(session, tenant_id, NOV, AFTER).services == []
        assert usage(session, tenant_id, parse_month("2027-03", AFTER), AFTER).services == []


def test_one_service_only_and_the_per_number_rows(db):
    tenant_id, roma = stretches(db, [("+390212000001", "user", 2, "", at(11), at(21))])
    stretches(db, [("+390212000009", "user", 2, "", at(1), None)], service="other-cc")
    with db.sessions() as session:
        assert [s.service for s in usage(session, tenant_id, NOV, AFTER).services] == ["other-cc", "roma-cc"]
        [only] = usage(session, tenant_id, NOV, AFTER, roma).services
        assert only.service == "roma-cc"
        rows = list(number_rows(session, tenant_id, roma, NOV, AFTER))
    assert rows == [("+390212000001", "user", 2, "", at(11), at(21), 10.0)]


@pytest.mark.parametrize("raw", ["2026-13", "2026-00", "26-11", "2026-1", "november", "2026-11-01"])
def test_a_month_that_is_not_yyyy_mm_is_refused_clearly(raw):
    with pytest.raises(UserError) as refused:
        parse_month(raw, AFTER)
    assert "YYYY-MM with MM from 01 to 12" in refused.value.message


def test_parse_month_bounds():
    assert (NOV.start, NOV.end) == (at(1), at(1, month=12))
    december = parse_month("2026-12", AFTER)
    assert december.end == datetime(2027, 1, 1, tzinfo=timezone.utc) and december.days == 31


def test_three_stretches_of_one_number_count_one_number_and_every_day(db):
    tenant_id, _ = stretches(db, [
        ("+390212000001", "user", 2, "", at(1), at(3)),     # 2 days
        ("+390212000001", "user", 2, "", at(5), at(6)),     # 1 day
        ("+390212000001", "user", 2, "", at(10), at(14)),   # 4 days
        ("+390212000002", "user", 2, "", at(2), at(12)),    # 10 days
    ])
    with db.sessions() as session:
        [service] = usage(session, tenant_id, NOV, AFTER).services
    assert (service.numbers, service.peak) == (2, 2)
    assert service.number_days == pytest.approx(17.0)
