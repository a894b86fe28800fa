"""Who may act: the operator behind a request, their tenant, and the refusals the audit log keeps."""
from __future__ import annotations

from dataclasses import dataclass

from provisioning.audit import audit
from provisioning.directory import NOT_AN_OPERATOR, AccessDenied, Actor, find_operator, memberships, resolve_actor
from provisioning.directory import switch_tenant as _switch_tenant
from provisioning.text import NAME_LIMIT, literal
from store.db import Database


def authorize(db: Database, email: str, room_id: str, command: str, detail: str, *, needs_tenant: bool,
              admin_only: bool) -> Actor | None:
    """The acting operator (None for commands that need no tenant), with the command audited.

    AccessDenied for strangers and for non-admins running admin commands; the caller records it
    with `record_refusal`.
    """
    with db.sessions.begin() as session:
        actor = None
        if needs_tenant:
            actor = resolve_actor(session, email)
            if admin_only and not actor.is_admin:
                tenant = literal(actor.tenant_name, NAME_LIMIT)
                raise AccessDenied(f"Sorry, `{command}` is for admins of {tenant} only.")
        elif find_operator(session, email) is None:
            raise AccessDenied(NOT_AN_OPERATOR)
        audit(session, email, f"command.{command}", detail[:500], tenant_id=actor.tenant_id if actor else None,
              room_id=room_id)
    return actor


def require_operator(db: Database, email: str) -> None:
    """AccessDenied (a fixed text that echoes nothing) unless `email` is a known operator."""
    with db.sessions() as session:
        if find_operator(session, email) is None:
            raise AccessDenied(NOT_AN_OPERATOR)


def record_refusal(db: Database, email: str, room_id: str, what: str, reason: str) -> None:
    """Audit a refused action (SPEC §7: refusals are kept too)."""
    with db.sessions.begin() as session:
        audit(session, email or "unknown", "access.refused", f"{what}: {reason}", room_id=room_id)


@dataclass(frozen=True)
class TenantChoice:
    name: str
    role: str
    current: bool


def tenants_of(db: Database, email: str) -> list[TenantChoice]:
    """The operator's tenants, marking the one they work in (the only one, when they have one)."""
    with db.sessions() as session:
        operator = find_operator(session, email)
        if operator is None:
            raise AccessDenied(NOT_AN_OPERATOR)
        tenants = memberships(session, operator)
        current = operator.current_tenant_id or (tenants[0][0].id if len(tenants) == 1 else None)
        return [TenantChoice(tenant.name, role, tenant.id == current) for tenant, role in tenants]


def switch_tenant(db: Database, email: str, name: str, room_id: str) -> Actor:
    """Make tenant `name` (or an unambiguous prefix) the operator's current one."""
    with db.sessions.begin() as session:
        actor = _switch_tenant(session, email, name)
        audit(session, actor.email, "tenant.switch", actor.tenant_name, tenant_id=actor.tenant_id, room_id=room_id)
    return actor
