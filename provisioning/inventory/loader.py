"""Loading an inventory: read the YAML, then upsert tenants, operators, customers, services,
calling profiles and SIP connections (`leadsbot inventory load`, or `inventory` in chat).

The file is validated completely (`schema`) before any row is written, and the load runs in
one transaction, so a bad file or a failure changes nothing. YAML anchors and aliases are
refused while the file is read: a few nested aliases expand to gigabytes ("billion laughs").
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioning.audit import audit
from provisioning.directory import AccessDenied, Actor, find_operator, memberships
from provisioning.inventory.schema import Inventory, InventoryError, ServiceSpec, TenantSpec, validate_inventory
from provisioning.text import NAME_LIMIT, literal, shown_list
from store.db import Database
from store.models import CallingProfile, Customer, Membership, Operator, Service, SipConnection, Tenant, utcnow

DEMO_INVENTORY = Path(__file__).with_name("data") / "demo.yaml"  # used by `leadsbot shell --demo`
KINDS = ("tenants", "operators", "memberships", "customers", "services", "calling_profiles", "sip_connections")


@dataclass(frozen=True)
class LoadReport:
    """How many rows of each kind a load created, updated or found already up to date."""

    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]

    def summary(self) -> str:
        return "\n".join(
            f"{kind}: {self.created.get(kind, 0)} created, {self.updated.get(kind, 0)} updated, "
            f"{self.unchanged.get(kind, 0)} unchanged"
            for kind in KINDS)


class _Tally:
    def __init__(self) -> None:
        self.counts = {"created": Counter(), "updated": Counter(), "unchanged": Counter()}

    def add(self, outcome: str, kind: str) -> None:
        self.counts[outcome][kind] += 1

    def report(self) -> LoadReport:
        return LoadReport(**{k: {kind: c[kind] for kind in KINDS} for k, c in self.counts.items()})


# libyaml's parser (bundled with PyYAML's wheels) reads a 2 MB inventory in a tenth of the time,
# and refuses nesting deeper than 1,000 levels.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeLoader):
    """A safe loader (no object construction) that refuses a key given twice in one mapping
    (YAML would keep the last)."""

    def construct_mapping(self, node, deep=False):
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _refuse_anchors(text: str) -> None:
    """InventoryError at the first anchor or alias, before anything is built from the file."""
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            mark = event.start_mark
            sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
            raise InventoryError([f"line {mark.line + 1}, column {mark.column + 1}: YAML anchors and aliases "
                                  f"({sign}{event.anchor}) are not allowed in an inventory: write each value out"])


def _yaml(text: str) -> Any:
    try:
        _refuse_anchors(text)
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        position = getattr(exc, "position", None)  # a character YAML refuses (ReaderError)
        where = (f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None
                 else f"character {position + 1}" if isinstance(position, int) else "somewhere")
        detail = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
        if "maximum nesting depth" in detail:
            raise InventoryError(["not an inventory: the YAML is nested more than a thousand levels deep"]) from None
        if getattr(exc, "context", None):
            detail += f" ({exc.context})"
        raise InventoryError([f"not valid YAML at {where}: {detail}"]) from None
    except RecursionError:  # the composer recurses once per level of nesting
        raise InventoryError(["not an inventory: the YAML is nested more than a thousand levels deep"]) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise InventoryError([f"not an inventory: {exc}"]) from None


def parse_inventory(text: str) -> Inventory:
    """Parse and validate an inventory file's text; raise InventoryError listing every problem."""
    return validate_inventory(_yaml(text))


def read_inventory(path: str | Path) -> Inventory:
    """Read and validate an inventory file; every failure is an InventoryError naming the file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InventoryError(["file not found"], str(path)) from None
    except IsADirectoryError:
        raise InventoryError(["is a directory, not a file"], str(path)) from None
    except OSError as exc:
        raise InventoryError([f"cannot be read ({exc.strerror})"], str(path)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InventoryError([f"not UTF-8 text (invalid byte at line {line})"], str(path)) from None
    try:
        return parse_inventory(text)
    except InventoryError as exc:
        raise InventoryError(exc.problems, str(path), truncated=exc.truncated) from None


def _apply(row: Any, values: dict[str, Any]) -> bool:
    """Set only the attributes that differ; True when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _upsert(session: Session, tally: _Tally, kind: str, existing: dict[str, Any], key: str,
            model: type, values: dict[str, Any], **identity: Any) -> Any:
    """Update `existing[key]` to `values`, or create it; counts the outcome under `kind`."""
    row = existing.get(key)
    if row is None:
        row = model(**identity, **values)
        session.add(row)
        existing[key] = row
        tally.add("created", kind)
    else:
        tally.add("updated" if _apply(row, values) else "unchanged", kind)
    return row


def _by(session: Session, model: type, attr: str, tenant: Tenant) -> dict[str, Any]:
    rows = session.scalars(select(model).where(model.tenant_id == tenant.id))
    return {getattr(row, attr): row for row in rows}


def _load_operators(session: Session, inventory: Inventory, tally: _Tally) -> dict[str, Operator]:
    """One Operator row per email, however many tenants list it."""
    emails = sorted({op.email for t in inventory.tenants for op in t.operators})
    existing = {o.email: o for o in session.scalars(select(Operator).where(Operator.email.in_(emails)))} if emails else {}
    for email in emails:
        _upsert(session, tally, "operators", existing, email, Operator, {}, email=email)
    session.flush()  # ids for the memberships
    return existing


def _service_values(spec: ServiceSpec, customer: Customer) -> dict[str, Any]:
    return dict(customer_id=customer.id, channel=spec.channel, product=spec.product, mode=spec.mode,
                org_id=spec.org_id, location_id=spec.location_id, country=spec.country,
                consented_on=spec.consented_on, removing=spec.removing)


def _load_tenant(session: Session, spec: TenantSpec, tenants: dict[str, Tenant],
                 operators: dict[str, Operator], tally: _Tally) -> None:
    tenant = _upsert(session, tally, "tenants", tenants, spec.name, Tenant, {}, name=spec.name)
    session.flush()  # ids for the rows that point at the tenant
    members = {m.operator_id: m for m in session.scalars(select(Membership).where(Membership.tenant_id == tenant.id))}
    for op in spec.operators:
        operator = operators[op.email]
        _upsert(session, tally, "memberships", members, operator.id, Membership, {"role": op.role},
                operator_id=operator.id, tenant_id=tenant.id)
    profiles = _by(session, CallingProfile, "name", tenant)
    for p in spec.calling_profiles:
        _upsert(session, tally, "calling_profiles", profiles, p.name, CallingProfile, {"sbc_device": p.sbc},
                tenant_id=tenant.id, name=p.name)
    sips = _by(session, SipConnection, "name", tenant)
    for s in spec.sip_connections:
        _upsert(session, tally, "sip_connections", sips, s.name, SipConnection, {}, tenant_id=tenant.id, name=s.name)
    customers = _by(session, Customer, "name", tenant)
    services = _by(session, Service, "name", tenant)
    for c in spec.customers:
        customer = _upsert(session, tally, "customers", customers, c.name, Customer, {}, tenant_id=tenant.id, name=c.name)
        session.flush()
        for s in c.services:
            service = services.get(s.name)
            _upsert(session, tally, "services", services, s.name, Service, _service_values(s, customer),
                    tenant_id=tenant.id, name=s.name)
            if service is not None and session.is_modified(service):
                service.last_modified = utcnow()


def load_inventory(session: Session, inventory: Inventory, *, actor: str = "cli") -> LoadReport:
    """Upsert `inventory` in the caller's transaction and audit it; return what changed.

    Rows are matched by natural key (tenant name; operator email; per tenant: customer,
    service, calling profile and SIP connection names; membership by operator and tenant) and
    only differing fields are written, so re-loading the same file reports everything
    unchanged. Nothing absent from the file is deleted or detached: removing a service is
    `removing: true`, and dropping a line from the file leaves the row as it was.
    A changed service gets a new `last_modified`.
    """
    tally = _Tally()
    operators = _load_operators(session, inventory, tally)
    names = [t.name for t in inventory.tenants]
    tenants = {t.name: t for t in session.scalars(select(Tenant).where(Tenant.name.in_(names)))}
    for spec in inventory.tenants:
        _load_tenant(session, spec, tenants, operators, tally)
    report = tally.report()
    audit(session, actor, "inventory.load", report.summary())
    session.flush()
    return report


def load_inventory_file(db: Database, path: str | Path, *, actor: str = "cli") -> LoadReport:
    """Read, validate and load an inventory file in one transaction (all or nothing)."""
    inventory = read_inventory(path)
    with db.sessions.begin() as session:
        return load_inventory(session, inventory, actor=actor)


def load_inventory_as(db: Database, actor: Actor, text: str) -> LoadReport:
    """Load an inventory sent in chat: only an admin of every tenant it names may load it.

    Who may load at all is decided before the file is parsed; which tenants it names, after.
    """
    with db.sessions() as session:
        _admin_of(session, actor)
    parsed = parse_inventory(text)
    with db.sessions.begin() as session:
        outside = sorted({t.name for t in parsed.tenants} - _admin_of(session, actor))
        if outside:
            names = shown_list([literal(name, NAME_LIMIT) for name in outside])
            raise AccessDenied(f"Sorry, you are not an admin of {names}: that part of the inventory "
                               "can only be loaded by one of its admins. Nothing was loaded.")
        return load_inventory(session, parsed, actor=actor.email)


def _admin_of(session: Session, actor: Actor) -> set[str]:
    """The tenants the operator administers; AccessDenied when there are none."""
    operator = find_operator(session, actor.email)
    tenants = {tenant.name for tenant, role in memberships(session, operator) if role == "admin"} if operator else set()
    if not tenants:
        raise AccessDenied("Sorry, only admins can load an inventory.")
    return tenants
