"""The inventory file's schema: parsed YAML in, validated frozen dataclasses out.

Validation is strict and collects every problem (with its path in the file, e.g.
`tenants[0].customers[1].services[0].country`) before anything touches the database, so an
operator fixes a file in one pass and a bad file never half-loads.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any

import phonenumbers

from provisioning.errors import UserError
from store.models import MODES, PRODUCTS, ROLES

NAME_MAX = 200  # the String(200) columns in store.models
EMAIL_MAX = 320
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_PROBLEMS = 100  # a file with more is not an inventory to fix line by line: stop there


class InventoryError(UserError):
    """The file cannot be loaded; `problems` lists each one as "path: what is wrong"."""

    def __init__(self, problems: list[str], source: str | None = None, *, truncated: bool = False):
        self.problems = list(problems)
        self.truncated = truncated  # checking stopped at MAX_PROBLEMS: there may be more
        where = f"{source}: " if source else ""
        if len(self.problems) == 1 and not truncated:
            message = f"{where}inventory not loaded: {self.problems[0]}"
        else:
            lines = "\n".join(f"- {p}" for p in self.problems)
            message = f"{where}inventory not loaded, {self.count}:\n{lines}"
        super().__init__(message)

    @property
    def count(self) -> str:
        """"3 problems", or "100 problems (checking stopped there)"."""
        noun = "problem" if len(self.problems) == 1 else "problems"
        return f"{len(self.problems)} {noun}" + (" (checking stopped there)" if self.truncated else "")


@dataclass(frozen=True)
class OperatorSpec:
    email: str
    role: str = "operator"


@dataclass(frozen=True)
class CallingProfileSpec:
    name: str
    sbc: str


@dataclass(frozen=True)
class SipConnectionSpec:
    name: str


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    product: str
    mode: str
    org_id: str
    location_id: str
    country: str
    channel: str = ""
    consented_on: datetime | None = None  # None: Pending Consent
    removing: bool = False


@dataclass(frozen=True)
class CustomerSpec:
    name: str
    services: tuple[ServiceSpec, ...] = ()


@dataclass(frozen=True)
class TenantSpec:
    name: str
    operators: tuple[OperatorSpec, ...] = ()
    calling_profiles: tuple[CallingProfileSpec, ...] = ()
    sip_connections: tuple[SipConnectionSpec, ...] = ()
    customers: tuple[CustomerSpec, ...] = ()


@dataclass(frozen=True)
class Inventory:
    tenants: tuple[TenantSpec, ...]


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "a mapping", list: "a list", str: "a string"}.get(type(value), type(value).__name__)


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _TooManyProblems(Exception):
    """Raised by `_Reader.problem` once MAX_PROBLEMS are recorded."""


class _Reader:
    """Walks the parsed YAML, recording problems instead of stopping at the first (up to MAX_PROBLEMS)."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path or 'top level'}: {message}")
        if len(self.problems) >= MAX_PROBLEMS:
            raise _TooManyProblems

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> dict | None:
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping, got {_kind(value)}")
            return None
        for key in value:
            if key not in allowed:
                self.problem(_at(path, str(key)), f"unknown key (allowed: {', '.join(allowed)})")
        for key in required:
            if key not in value:
                self.problem(_at(path, key), "required key is missing")
        return value

    def items(self, parent: dict, key: str, path: str) -> list[tuple[str, Any]]:
        """An optional list: (path, item) pairs; absent or null means empty."""
        value = parent.get(key)
        path = _at(path, key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"expected a list, got {_kind(value)}")
            return []
        return [(f"{path}[{i}]", item) for i, item in enumerate(value)]

    def text(self, parent: dict, key: str, path: str, *, default: str | None = None,
             max_len: int = NAME_MAX) -> str | None:
        """A string; required (non-empty) unless a default is given."""
        path = _at(path, key)
        if key not in parent:
            return default  # a missing required key was already reported by mapping()
        value = parent[key]
        if value is None and default is not None:
            return default
        if not isinstance(value, str):
            # YAML turns unquoted yes/no/on/off, numbers and dates into non-strings.
            hint = " (quote it)" if isinstance(value, (bool, int, float, date)) else ""
            self.problem(path, f"expected a string, got {_kind(value)}{hint}")
            return None
        value = value.strip()
        if not value and default is None:
            self.problem(path, "must not be empty")
            return None
        if len(value) > max_len:
            self.problem(path, f"at most {max_len} characters (got {len(value)})")
            return None
        return value

    def choice(self, parent: dict, key: str, path: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
        value = self.text(parent, key, path, default=default)
        if value is not None and value not in choices:
            self.problem(_at(path, key), f"{value!r} is not one of {', '.join(choices)}")
            return None
        return value

    def email(self, parent: dict, path: str) -> str | None:
        value = self.text(parent, "email", path, max_len=EMAIL_MAX)
        if value is not None and not EMAIL.match(value):
            self.problem(_at(path, "email"), f"{value!r} does not look like an email address")
            return None
        return value.lower() if value is not None else None

    def country(self, parent: dict, path: str) -> str | None:
        if parent.get("country") is False:
            self.problem(_at(path, "country"), "expected a string, got a boolean (YAML reads NO as false; write 'NO')")
            return None
        value = self.text(parent, "country", path)
        if value is not None and value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            self.problem(_at(path, "country"), f"{value!r} is not an ISO 3166 alpha-2 code (e.g. IT, US, GB)")
            return None
        return value.upper() if value is not None else None

    def flag(self, parent: dict, key: str, path: str) -> bool:
        value = parent.get(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.problem(_at(path, key), f"expected true or false, got {_kind(value)}")
            return False
        return value

    def moment(self, parent: dict, key: str, path: str) -> datetime | None:
        """An ISO 8601 date-time (YAML timestamp or string); no timezone means UTC."""
        value = parent.get(key)
        path = _at(path, key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                self.problem(path, f"{value!r} is not an ISO 8601 date-time (e.g. 2026-11-01T09:00:00Z)")
                return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        if isinstance(value, date):
            return datetime.combine(value, time(0), tzinfo=timezone.utc)
        self.problem(path, f"expected an ISO 8601 date-time, got {_kind(value)}")
        return None


class _Unique:
    """Remembers where each name was first seen, to report duplicates with both places."""

    def __init__(self, reader: _Reader, what: str) -> None:
        self.reader, self.what, self.first = reader, what, {}

    def check(self, name: str | None, path: str) -> None:
        if name is None:
            return
        if name in self.first:
            self.reader.problem(path, f"duplicate {self.what} {name!r} (first at {self.first[name]})")
        else:
            self.first[name] = path


def _service(r: _Reader, raw: Any, path: str, names: _Unique) -> ServiceSpec | None:
    m = r.mapping(raw, path, ("name", "channel", "product", "mode", "org_id", "location_id", "country",
                              "consented_on", "removing"),
                  ("name", "product", "mode", "org_id", "location_id", "country"))
    if m is None:
        return None
    fields = dict(
        name=r.text(m, "name", path), channel=r.text(m, "channel", path, default=""),
        product=r.choice(m, "product", path, PRODUCTS), mode=r.choice(m, "mode", path, MODES),
        org_id=r.text(m, "org_id", path), location_id=r.text(m, "location_id", path),
        country=r.country(m, path), consented_on=r.moment(m, "consented_on", path),
        removing=r.flag(m, "removing", path))
    names.check(fields["name"], _at(path, "name"))
    required = ("name", "product", "mode", "org_id", "location_id", "country")
    return None if any(fields[k] is None for k in required) else ServiceSpec(**fields)


def _tenant(r: _Reader, raw: Any, path: str) -> TenantSpec | None:
    m = r.mapping(raw, path, ("name", "operators", "calling_profiles", "sip_connections", "customers"), ("name",))
    if m is None:
        return None
    name = r.text(m, "name", path)
    operators, profiles, sips, customers = [], [], [], []
    emails = _Unique(r, "operator email")
    for p, item in r.items(m, "operators", path):
        om = r.mapping(item, p, ("email", "role"), ("email",))
        if om is not None:
            email, role = r.email(om, p), r.choice(om, "role", p, ROLES, default="operator")
            emails.check(email, _at(p, "email"))
            if email and role:
                operators.append(OperatorSpec(email, role))
    profile_names = _Unique(r, "calling profile")
    for p, item in r.items(m, "calling_profiles", path):
        pm = r.mapping(item, p, ("name", "sbc"), ("name", "sbc"))
        if pm is not None:
            pname, sbc = r.text(pm, "name", p), r.text(pm, "sbc", p)
            profile_names.check(pname, _at(p, "name"))
            if pname and sbc:
                profiles.append(CallingProfileSpec(pname, sbc))
    sip_names = _Unique(r, "SIP connection")
    for p, item in r.items(m, "sip_connections", path):
        sm = r.mapping(item, p, ("name",), ("name",))
        if sm is not None:
            sname = r.text(sm, "name", p)
            sip_names.check(sname, _at(p, "name"))
            if sname:
                sips.append(SipConnectionSpec(sname))
    customer_names, service_names = _Unique(r, "customer"), _Unique(r, "service name")
    for p, item in r.items(m, "customers", path):
        cm = r.mapping(item, p, ("name", "services"), ("name",))
        if cm is None:
            continue
        cname = r.text(cm, "name", p)
        customer_names.check(cname, _at(p, "name"))
        services = []
        for sp, sitem in r.items(cm, "services", p):
            service = _service(r, sitem, sp, service_names)
            if service is not None:
                services.append(service)
        if cname:
            customers.append(CustomerSpec(cname, tuple(services)))
    if name is None:
        return None
    return TenantSpec(name, tuple(operators), tuple(profiles), tuple(sips), tuple(customers))


def validate_inventory(data: Any) -> Inventory:
    """Validate parsed YAML; raise InventoryError listing every problem with its path."""
    if data is None:
        raise InventoryError(["the file is empty; expected a mapping with a 'tenants' list"])
    r = _Reader()
    try:
        tenants = _tenants(r, data)
    except _TooManyProblems:
        raise InventoryError(r.problems, truncated=True) from None
    if r.problems:
        raise InventoryError(r.problems)
    return Inventory(tuple(tenants))


def _tenants(r: _Reader, data: Any) -> list[TenantSpec]:
    top = r.mapping(data, "", ("tenants",), ("tenants",))
    tenants = []
    if top is not None and "tenants" in top:
        if top["tenants"] in (None, []):
            r.problem("tenants", "must list at least one tenant")
        items = r.items(top, "tenants", "")
        names = _Unique(r, "tenant")
        for path, raw in items:
            tenant = _tenant(r, raw, path)
            if tenant is not None:
                names.check(tenant.name, _at(path, "name"))
                tenants.append(tenant)
    return tenants
