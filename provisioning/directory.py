"""Finding the operator, their tenant, and the tenant's services, profiles and SIP connections by name."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from provisioning.errors import UserError
from provisioning.text import NAME_LIMIT, literal, shown_list
from store.models import CallingProfile, Membership, Operator, Service, SipConnection, Tenant

NOT_AN_OPERATOR = ("Sorry, you are not an operator of any tenant, so I can't act on your behalf. "
                   "Ask an admin to add you to the inventory.")


class AccessDenied(UserError):
    """The person may not act here; `access.record_refusal` audits it."""


@dataclass(frozen=True)
class Actor:
    """An operator acting in their current tenant."""

    operator_id: int
    email: str
    tenant_id: int
    tenant_name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def find_operator(session: Session, email: str) -> Operator | None:
    return session.scalar(select(Operator).where(Operator.email == email.strip().lower()))


def memberships(session: Session, operator: Operator) -> list[tuple[Tenant, str]]:
    rows = session.execute(
        select(Tenant, Membership.role).join(Membership, Membership.tenant_id == Tenant.id)
        .where(Membership.operator_id == operator.id).order_by(Tenant.name)
    ).all()
    return [(tenant, role) for tenant, role in rows]


def resolve_actor(session: Session, email: str) -> Actor:
    """The operator and their current tenant; a single-tenant operator needs no `tenant` command."""
    operator = find_operator(session, email)
    if operator is None:
        raise AccessDenied(NOT_AN_OPERATOR)
    tenants = memberships(session, operator)
    if not tenants:
        raise AccessDenied("Sorry, you are not an operator of any tenant any more. Ask an admin to add you.")
    by_id = {tenant.id: (tenant, role) for tenant, role in tenants}
    if operator.current_tenant_id in by_id:
        tenant, role = by_id[operator.current_tenant_id]
    elif len(tenants) == 1:
        tenant, role = tenants[0]
    else:
        names = shown_list([literal(t.name, NAME_LIMIT) for t, _ in tenants])
        raise UserError(f"You work in several tenants ({names}). Choose one first: `tenant NAME`.")
    return Actor(operator.id, operator.email, tenant.id, tenant.name, role)


def switch_tenant(session: Session, email: str, name: str) -> Actor:
    operator = find_operator(session, email)
    if operator is None:
        raise AccessDenied(NOT_AN_OPERATOR)
    tenants = memberships(session, operator)
    wanted = name.strip().casefold()
    matches = [(t, r) for t, r in tenants if t.name.casefold() == wanted] or \
              [(t, r) for t, r in tenants if t.name.casefold().startswith(wanted)]
    if len(matches) != 1:
        names = shown_list([literal(t.name, NAME_LIMIT) for t, _ in tenants])
        what = "matches several of" if matches else "is not one of"
        raise UserError(f"{literal(name)} {what} your tenants: {names}.")
    tenant, role = matches[0]
    operator.current_tenant_id = tenant.id
    return Actor(operator.id, operator.email, tenant.id, tenant.name, role)


def _by_name_or_prefix(session: Session, model, tenant_id: int, name: str, what: str, hint: str):
    """Exact (case-insensitive) name first, then an unambiguous prefix."""
    wanted = name.strip().lower()
    if not wanted:
        raise UserError(f"Give the {what} name. {hint}")
    column = func.lower(model.name)
    scope = select(model).where(model.tenant_id == tenant_id)
    exact = session.scalars(scope.where(column == wanted)).all()
    if len(exact) == 1:
        return exact[0]
    prefixed = session.scalars(scope.where(column.startswith(wanted, autoescape=True)).order_by(model.name).limit(6)).all()
    if len(prefixed) == 1:
        return prefixed[0]
    if prefixed:
        names = ", ".join(literal(m.name, NAME_LIMIT) for m in prefixed[:5])
        raise UserError(f"{literal(name)} matches several {what}s: {names}. Type more of the name.")
    raise UserError(f"No {what} {literal(name)} in this tenant. {hint}")


def find_service(session: Session, actor: Actor, name: str) -> Service:
    return _by_name_or_prefix(session, Service, actor.tenant_id, name, "service", "`leads` lists the services.")


def find_calling_profile(session: Session, actor: Actor, name: str) -> CallingProfile:
    return _by_name_or_prefix(session, CallingProfile, actor.tenant_id, name, "calling profile",
                              f"Known: {names_of(session, CallingProfile, actor.tenant_id)}.")


def find_sip_connection(session: Session, actor: Actor, name: str) -> SipConnection:
    known = names_of(session, SipConnection, actor.tenant_id)
    hint = f"Known: {known}." if known != "none" else "Add a SIP connection to the inventory before uploading numbers."
    return _by_name_or_prefix(session, SipConnection, actor.tenant_id, name, "SIP connection", hint)


def names_of(session: Session, model, tenant_id: int) -> str:
    """The names for a hint, as many as fit in a message."""
    return shown_list([literal(n, NAME_LIMIT) for n in list_names(session, model, tenant_id)])


def list_names(session: Session, model, tenant_id: int) -> list[str]:
    return list(session.scalars(select(model.name).where(model.tenant_id == tenant_id).order_by(model.name)))
