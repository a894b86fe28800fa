"""The settings an upload applies to all its numbers: number type, CAC, calling profile, SIP connection, service info."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from provisioning.directory import Actor, find_calling_profile, find_sip_connection
from provisioning.errors import UserError, shown
from store.models import NUMBER_TYPES, CallingProfile, Service, SipConnection

USER_CAC = 2
MAX_CAC = 2**31 - 1  # what the uploads.cac column holds on every database
MAX_SERVICE_INFO = 255
BLOCKING_STATUS = {"pending-consent": "Pending Consent", "removing": "Removing"}


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
        raise UserError(f"Service `{service.name}` is being removed (status Removing): it can't take new numbers.")
    if service.consented_on is None:
        raise UserError(
            f"Service `{service.name}` is Pending Consent: the customer must consent before numbers can be uploaded."
        )


def parse_cac(number_type: str, raw: str) -> int | None:
    raw = raw.strip()
    if number_type == "user":
        if raw and raw != str(USER_CAC):
            raise UserError(f"cac={shown(raw, 20)}: `user` numbers have CAC {USER_CAC}, fixed. "
                            "Leave cac out or write cac=2.")
        return USER_CAC
    if not raw:
        return None
    # The length test comes first: int() of a 10,000-digit text is slow, and refused by Python.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_CAC)) or not 2 <= int(raw) <= MAX_CAC:
        raise UserError(f"cac={shown(raw, 20)}: CAC must be a whole number of 2 or more (at most {MAX_CAC:,}), "
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
        problems.append(f"type={shown(options.number_type, 40)}: must be one of {', '.join(allowed)}{why}.")
    else:
        try:
            cac = parse_cac(number_type, options.cac)
        except UserError as exc:
            problems.append(exc.message)
    profile = sip = None
    if not options.calling_profile.strip():
        problems.append("profile= is missing: the calling profile to attach the numbers to.")
    else:
        try:
            profile = find_calling_profile(session, actor, options.calling_profile)
        except UserError as exc:
            problems.append(exc.message)
    if not options.sip_connection.strip():
        problems.append("sip= is missing: the customer SIP connection.")
    else:
        try:
            sip = find_sip_connection(session, actor, options.sip_connection)
        except UserError as exc:
            problems.append(exc.message)
    info = options.service_info.strip()
    if len(info) > MAX_SERVICE_INFO:
        problems.append(f"info= is {len(info)} characters: at most {MAX_SERVICE_INFO}.")
    if problems:
        raise UserError("\n".join(f"- {p}" for p in problems))
    return CheckedOptions(profile, sip, number_type, cac, info)
