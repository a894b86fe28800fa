"""The settings an upload applies to all its numbers: number type, CAC, calling profile, SIP connection, service info."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session, object_session

from provisioning import consent
from provisioning.directory import Actor, find_calling_profile, find_service, find_sip_connection, list_names
from provisioning.errors import UserError
from provisioning.text import NAME_LIMIT, literal
from store.db import Database
from store.models import INT_MAX, NUMBER_TYPES, CallingProfile, Service, SipConnection

USER_CAC = 2
MAX_CAC = INT_MAX  # what the uploads.cac column holds on every database
MAX_SERVICE_INFO = 255
T = TypeVar("T")


@dataclass(frozen=True)
class UploadOptions:
    """Options as the operator typed them (strings), before they are checked."""

    calling_profile: str = ""
    sip_connection: str = ""
    number_type: str = ""
    cac: str = ""
    service_info: str = ""


@dataclass(frozen=True)
class CheckedOptions:
    calling_profile: CallingProfile
    sip_connection: SipConnection
    number_type: str
    cac: int | None
    service_info: str


def allowed_number_types(service: Service) -> tuple[str, ...]:
    """A Live CX service takes only Contact Center numbers (SPEC §2.4)."""
    return ("contact-center",) if service.product == "live-cx" else NUMBER_TYPES


def check_accepts_numbers(service: Service) -> None:
    """A service must be consented, and not being removed, to accept numbers (SPEC §2.7)."""
    if service.removing:
        raise UserError(f"Service {literal(service.name, NAME_LIMIT)} is being removed (status Removing): "
                        "it can't take new numbers.")
    session = object_session(service)
    if service.consented_on is None or (session is not None and consent.awaiting(session, [service.org_id])):
        raise UserError(
            f"Service {literal(service.name, NAME_LIMIT)} is Pending Consent: the customer must consent before "
            "numbers can be uploaded."
        )


def parse_cac(number_type: str, raw: str) -> int | None:
    raw = raw.strip()
    if number_type == "user":
        if raw and raw != str(USER_CAC):
            raise UserError(f"cac={literal(raw, 20)}: `user` numbers have CAC {USER_CAC}, fixed. "
                            "Leave cac out or write cac=2.")
        return USER_CAC
    if not raw:
        return None
    # The length test comes first: int() of a 10,000-digit text is slow, and refused by Python.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_CAC)) or not 2 <= int(raw) <= MAX_CAC:
        raise UserError(f"cac={literal(raw, 20)}: CAC must be a whole number of 2 or more (at most {MAX_CAC:,}), "
                        "or leave it out.")
    return int(raw)


def check_options(session: Session, actor: Actor, service: Service, options: UploadOptions) -> CheckedOptions:
    """Every option problem in one message, so the operator fixes them in one go."""
    problems: list[str] = []
    number_type = options.number_type.strip().lower()
    allowed = allowed_number_types(service)
    cac = None
    if not number_type:
        problems.append(f"type= is missing: one of {', '.join(allowed)}.")
    elif number_type not in allowed:
        why = " (a live-cx service takes only contact-center numbers)" if service.product == "live-cx" else ""
        problems.append(f"type={literal(options.number_type, 40)}: must be one of {', '.join(allowed)}{why}.")
    else:
        try:
            cac = parse_cac(number_type, options.cac)
        except UserError as exc:
            problems.append(exc.message)
    profile = _named(problems, options.calling_profile, "profile= is missing: the calling profile to attach the "
                     "numbers to.", lambda name: find_calling_profile(session, actor, name))
    sip = _named(problems, options.sip_connection, "sip= is missing: the customer SIP connection.",
                 lambda name: find_sip_connection(session, actor, name))
    info = options.service_info.strip()
    if len(info) > MAX_SERVICE_INFO:
        problems.append(f"info= is {len(info)} characters: at most {MAX_SERVICE_INFO}.")
    if problems:
        raise UserError("\n".join(f"- {p}" for p in problems))
    return CheckedOptions(profile, sip, number_type, cac, info)


def _named(problems: list[str], name: str, missing: str, find: Callable[[str], T]) -> T | None:
    """`find(name)`, or None with the problem noted (the option is missing, or names nothing known)."""
    if not name.strip():
        problems.append(missing)
        return None
    try:
        return find(name)
    except UserError as exc:
        problems.append(exc.message)
        return None


@dataclass(frozen=True)
class UploadForm:
    """What the Upload Numbers card offers for one service."""

    service: str
    calling_profiles: list[str]
    sip_connections: list[str]
    number_types: tuple[str, ...]


def upload_form(db: Database, actor: Actor, service_name: str) -> UploadForm:
    """The choices of the Upload Numbers form; refused when the service can't take numbers."""
    with db.sessions() as session:
        service = find_service(session, actor, service_name)
        check_accepts_numbers(service)
        return UploadForm(service.name, list_names(session, CallingProfile, actor.tenant_id),
                          list_names(session, SipConnection, actor.tenant_id), allowed_number_types(service))
