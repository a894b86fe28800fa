"""Loading the inventory into a real database (SQLite and PostgreSQL): idempotent, all or nothing."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from provisioning.inventory import (
    DEMO_INVENTORY,
    InventoryError,
    load_inventory,
    load_inventory_file,
    parse_inventory,
)
from store.models import (
    AuditEntry,
    CallingProfile,
    Customer,
    Membership,
    Operator,
    Service,
    SipConnection,
    Tenant,
)

MODELS = (Tenant, Operator, Membership, Customer, Service, CallingProfile, SipConnection, AuditEntry)
INVENTORY_MODELS = MODELS[:-1]
DEMO_TEXT = DEMO_INVENTORY.read_text(encoding="utf-8")
ALL_NEW = {"tenants": 2, "operators": 3, "memberships": 4, "customers": 4, "services": 5,
           "calling_profiles": 3, "sip_connections": 3}
NONE = {kind: 0 for kind in ALL_NEW}


def rows(db, models=INVENTORY_MODELS) -> dict[str, list[tuple]]:
    """Every row of every table, as plain tuples in a stable order."""
    with db.sessions() as s:
        return {m.__tablename__: sorted(tuple(r) for r in s.execute(select(m.__table__)).all()) for m in models}


def counts(db) -> dict[str, int]:
    with db.sessions() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in MODELS}


def load_text(db, tmp_path, text: str, name: str = "inventory.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_inventory_file(db, path, actor="ops@acme.example")


def service(db, name: str, tenant: str = "Acme SP") -> Service:
    with db.sessions() as s:
        return s.scalars(select(Service).join(Tenant).where(Tenant.name == tenant, Service.name == name)).one()


def test_demo_loads_everything(db):
    report = load_inventory_file(db, DEMO_INVENTORY)
    assert report.created == ALL_NEW
    assert report.updated == NONE and report.unchanged == NONE
    roma = service(db, "roma-cc")
    assert (roma.product, roma.mode, roma.org_id, roma.location_id, roma.country, roma.removing) == (
        "webex-cloud-connect", "integrated", "ORG-ROMA", "LOC-MILAN", "IT", False)
    assert roma.consented_on == datetime(2026, 10, 5, 9, 30, tzinfo=timezone.utc)
    assert service(db, "lyon-cc").consented_on is None
    assert service(db, "thames-cc", tenant="Globex SP").country == "GB"
    with db.sessions() as s:
        assert s.scalars(select(CallingProfile.sbc_device).where(CallingProfile.name == "CC-Premium")).one() == "sbc-eu-2"


def test_loading_twice_changes_nothing(db):
    load_inventory_file(db, DEMO_INVENTORY)
    before = rows(db)
    report = load_inventory_file(db, DEMO_INVENTORY)
    assert report.unchanged == ALL_NEW
    assert report.created == NONE and report.updated == NONE
    assert rows(db) == before


def test_changed_service_field_updates_only_that_row(db, tmp_path):
    load_inventory_file(db, DEMO_INVENTORY)
    before = service(db, "roma-cc")
    other = rows(db, (CallingProfile, SipConnection, Customer, Tenant, Operator, Membership))
    report = load_text(db, tmp_path, DEMO_TEXT.replace("location_id: LOC-MILAN", "location_id: LOC-TURIN"))
    assert report.updated["services"] == 1
    assert report.unchanged["services"] == 4
    assert sum(report.created.values()) == 0
    after = service(db, "roma-cc")
    assert after.location_id == "LOC-TURIN"
    assert after.last_modified > before.last_modified
    assert rows(db, (CallingProfile, SipConnection, Customer, Tenant, Operator, Membership)) == other


def test_consent_given_later_and_role_change_are_updates(db, tmp_path):
    load_inventory_file(db, DEMO_INVENTORY)
    text = (DEMO_TEXT
            .replace("          - name: lyon-cc           # no consented_on: Pending Consent\n",
                     "          - name: lyon-cc\n            consented_on: '2026-11-20T08:00:00+01:00'\n")
            .replace("{email: eve@acme.example}", "{email: eve@acme.example, role: admin}"))
    report = load_text(db, tmp_path, text)
    assert (report.updated["services"], report.updated["memberships"]) == (1, 1)
    assert service(db, "lyon-cc").consented_on == datetime(2026, 11, 20, 7, tzinfo=timezone.utc)
    with db.sessions() as s:
        role = s.scalars(select(Membership.role).join(Operator).where(Operator.email == "eve@acme.example")).one()
    assert role == "admin"


def test_service_moved_to_another_customer_is_an_update(db, tmp_path):
    svc = "services: [{name: s, product: live-cx, mode: non-integrated, org_id: O, location_id: L, country: IT}]"
    template = "tenants:\n  - name: T\n    customers:\n      - {{name: A{a}}}\n      - {{name: B{b}}}\n"
    load_text(db, tmp_path, template.format(a=", " + svc, b=""))
    report = load_text(db, tmp_path, template.format(a="", b=", " + svc))
    assert report.updated["services"] == 1
    with db.sessions() as s:
        assert s.scalars(select(Customer.name).join(Service, Service.customer_id == Customer.id)).one() == "B"


def test_invalid_file_writes_nothing(db, tmp_path):
    load_inventory_file(db, DEMO_INVENTORY)
    before_counts, before_rows = counts(db), rows(db)
    bad = DEMO_TEXT.replace("country: GB", "country: GBR").replace("name: Globex SP", "name: Initech SP")
    with pytest.raises(InventoryError) as info:
        load_text(db, tmp_path, bad)
    assert "tenants[1].customers[0].services[0].country: 'GBR' is not an ISO 3166 alpha-2 code" in info.value.message
    assert counts(db) == before_counts
    assert rows(db) == before_rows


def test_invalid_file_on_an_empty_database_writes_nothing(db, tmp_path):
    with pytest.raises(InventoryError):
        load_text(db, tmp_path, DEMO_TEXT.replace("mode: non-integrated", "mode: sometimes"))
    assert set(counts(db).values()) == {0}


def test_failure_during_load_rolls_back_the_whole_transaction(db):
    inventory = parse_inventory(DEMO_TEXT)
    with pytest.raises(RuntimeError):
        with db.sessions.begin() as s:
            load_inventory(s, inventory)
            raise RuntimeError("caller failed after loading")
    assert set(counts(db).values()) == {0}


def test_operator_in_two_tenants_is_one_operator_with_two_memberships(db):
    load_inventory_file(db, DEMO_INVENTORY)
    with db.sessions() as s:
        operators = s.scalars(select(Operator).where(Operator.email == "ops@acme.example")).all()
        assert len(operators) == 1
        roles = dict(s.execute(select(Tenant.name, Membership.role).join(Membership.tenant)
                               .where(Membership.operator_id == operators[0].id)).all())
    assert roles == {"Acme SP": "admin", "Globex SP": "operator"}


def test_emails_are_stored_lower_case(db, tmp_path):
    load_text(db, tmp_path, "tenants:\n  - name: T\n    operators: [{email: Mixed.Case@Example.COM}]\n")
    with db.sessions() as s:
        assert s.scalars(select(Operator.email)).all() == ["mixed.case@example.com"]


def test_things_absent_from_the_file_are_kept(db, tmp_path):
    load_inventory_file(db, DEMO_INVENTORY)
    before = rows(db)
    report = load_text(db, tmp_path, "tenants:\n  - name: Acme SP\n")
    assert report.unchanged["tenants"] == 1
    assert rows(db) == before


def test_audit_entry_records_who_and_the_summary(db, tmp_path):
    first = load_inventory_file(db, DEMO_INVENTORY)
    second = load_text(db, tmp_path, DEMO_TEXT)
    with db.sessions() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.actor, e.action) for e in entries] == [("cli", "inventory.load"), ("ops@acme.example", "inventory.load")]
    assert [e.detail for e in entries] == [first.summary(), second.summary()]
    assert "services: 5 created, 0 updated, 0 unchanged" in entries[0].detail


def test_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(InventoryError) as info:
        load_inventory_file(db, tmp_path / "missing.yaml")
    assert "missing.yaml" in info.value.message and "file not found" in info.value.message
