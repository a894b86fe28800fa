"""Numbers Management at scale keeps its answers: the export streamed from a server-side cursor
is byte for byte what the ORM-row export wrote, and a prefix search finds exactly the numbers
that start with it (a range on the e164 index, not LIKE)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select, update

from provisioning.directory import Actor
from provisioning.files.exports import csv_bytes
from provisioning.numbers_export import EXPORT_HEADER, export_bytes
from provisioning.numbers_management import prefix_range, search
from store.models import CallingProfile, Customer, Number, Service, SipConnection, Tenant, Upload
from tests.support.factories import e164s, make_service, make_upload

# Names an export must render exactly: formula starts, quotes, `;`, `,`, braces, backslashes.
AWKWARD = ('=cmd|"/c calc"!A1', "Roma; Milano", 'say "hi", {0}', "back\\slash {x}", "@sum", "plain")


def reference_export(db, actor, query: str) -> bytes:
    """The export as the ORM-row implementation wrote it, one joined row per number."""
    with db.sessions() as session:
        found = search(db, actor, query, first=0)
        names = {s.service for s in found.services}
        rows = session.execute(
            select(Number.e164, Service.name, Customer.name, Number.number_type, Upload.cac, CallingProfile.name,
                   SipConnection.name, Upload.service_info, Number.sync_state, Number.created_at)
            .join(Service, Service.id == Number.service_id).join(Customer, Customer.id == Service.customer_id)
            .join(Upload, Upload.id == Number.upload_id)
            .join(CallingProfile, CallingProfile.id == Upload.calling_profile_id)
            .join(SipConnection, SipConnection.id == Upload.sip_connection_id)
            .where(Service.tenant_id == actor.tenant_id, Service.name.in_(names))
        ).all()
        low, high = prefix_range(query.lstrip("+")) if query.startswith("+") else ("", "~")
        rows = sorted((r for r in rows if low <= r[0] < high), key=lambda r: r[0])
        return csv_bytes(EXPORT_HEADER, [(*r[:4], "" if r[4] is None else r[4], *r[5:9],
                                          r[9].strftime("%Y-%m-%d %H:%M UTC")) for r in rows])


def awkward_store(db):
    with db.sessions.begin() as session:
        first = make_service(session, name="roma-cc", customer="Pizzeria Roma S.p.A.")
        second = make_service(session, name=AWKWARD[2], customer=AWKWARD[1])
        third = make_service(session, name="other-tenant", tenant="Globex SP", customer="Globex")
        uploads = [make_upload(session, first, e164s(30, start=200000000)),
                   make_upload(session, first, e164s(5, start=300000000, prefix="+3906"), number_type="service",
                               now=datetime(2026, 11, 30, 23, 59, 59, tzinfo=timezone.utc)),
                   make_upload(session, second, e164s(12, start=200000100)),
                   make_upload(session, third, e164s(4, start=200000200))]
        session.execute(update(Upload).where(Upload.id == uploads[0].id).values(cac=7, service_info=AWKWARD[0]))
        session.execute(update(Upload).where(Upload.id == uploads[2].id).values(service_info=AWKWARD[3]))
        session.execute(update(CallingProfile).values(name=AWKWARD[4]))
        session.execute(update(Number).where(Number.e164 == "+3902200000003").values(sync_state="live"))
    return acme(db)


def acme(db) -> Actor:
    """An operator of the tenant the factories' services belong to by default."""
    with db.sessions() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.name == "Acme SP"))
    return Actor(1, "ops@acme.example", tenant_id, "Acme SP", "operator")


def test_streamed_export_is_byte_for_byte_the_row_export(db):
    actor = awkward_store(db)
    for query in ("+3902", "+39", "+3906", "+390220000010", "roma", "Milano", "{0}", "+44"):
        assert export_bytes(db, actor, query) == reference_export(db, actor, query), query
    lines = export_bytes(db, actor, "+39").decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 30 + 5 + 12  # another tenant's numbers never appear


def test_prefix_search_is_exact_at_the_range_edges(db):
    with db.sessions.begin() as session:
        service = make_service(session)
        make_upload(session, service, ["+3901999999999", "+3902", "+390200000000", "+390299999999", "+3903000000000",
                                       "+390", "+39029"])
    actor = acme(db)
    assert [row[0] for row in search(db, actor, "+3902").first] == ["+3902", "+390200000000", "+39029",
                                                                   "+390299999999"]
    assert search(db, actor, "+39 02 9").total == 2
    assert search(db, actor, "+39 (03)").total == 1


def test_like_wildcards_in_a_query_match_only_themselves(db):
    with db.sessions.begin() as session:
        service = make_service(session, name="roma_cc%")
        make_upload(session, service, e164s(3))
        make_service(session, name="romaXccY")
    actor = acme(db)
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Number)) == 3
    assert search(db, actor, "_cc%").total == 3
    assert search(db, actor, "a_c").total == 3 and search(db, actor, "a%c").total == 0
    assert search(db, actor, "+39%").total == 0  # not a prefix: a name search that finds nothing
    assert export_bytes(db, actor, "%").decode("utf-8-sig").count("\n") == 1 + 3
