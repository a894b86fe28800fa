"""The inventory file's validation: every problem reported, each with its path in the file."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest
import yaml

from provisioning.errors import UserError
from provisioning.inventory import DEMO_INVENTORY, InventoryError, LoadReport, parse_inventory, read_inventory

SERVICE = "tenants[0].customers[0].services[0]"

VALID = {
    "tenants": [{
        "name": "Acme SP",
        "operators": [{"email": "Ops@Acme.example", "role": "admin"}, {"email": "eve@acme.example"}],
        "calling_profiles": [{"name": "CC-Default", "sbc": "sbc-eu-1"}],
        "sip_connections": [{"name": "PSTN-Milan"}],
        "customers": [{
            "name": "Pizzeria Roma S.p.A.",
            "services": [{
                "name": "roma-cc", "product": "webex-cloud-connect", "mode": "integrated",
                "org_id": "ORG-ROMA", "location_id": "LOC-MILAN", "country": "it",
            }],
        }],
    }],
}


def doc(**service_changes) -> dict:
    """A deep copy of VALID, with the first service's fields changed (None deletes)."""
    data = copy.deepcopy(VALID)
    service = data["tenants"][0]["customers"][0]["services"][0]
    for key, value in service_changes.items():
        if value is None:
            service.pop(key, None)
        else:
            service[key] = value
    return data


def problems(data) -> list[str]:
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    with pytest.raises(InventoryError) as info:
        parse_inventory(text)
    for problem in info.value.problems:
        assert problem in info.value.message
    return info.value.problems


def test_valid_file_gives_dataclasses_with_defaults_and_normalised_values():
    tenant = parse_inventory(yaml.safe_dump(VALID)).tenants[0]
    assert tenant.name == "Acme SP"
    assert [(o.email, o.role) for o in tenant.operators] == [("ops@acme.example", "admin"), ("eve@acme.example", "operator")]
    assert tenant.calling_profiles[0].sbc == "sbc-eu-1"
    assert tenant.sip_connections[0].name == "PSTN-Milan"
    service = tenant.customers[0].services[0]
    assert (service.country, service.channel, service.removing, service.consented_on) == ("IT", "", False, None)


def test_demo_inventory_is_valid():
    inventory = read_inventory(DEMO_INVENTORY)
    assert [t.name for t in inventory.tenants] == ["Acme SP", "Globex SP"]


def test_inventory_error_is_a_user_error_listing_every_problem():
    data = doc(country="ITA", product="webex")
    data["tenants"][0]["colour"] = "red"
    with pytest.raises(UserError) as info:
        parse_inventory(yaml.safe_dump(data, sort_keys=False))
    assert "3 problems" in info.value.message
    assert len(info.value.problems) == 3


@pytest.mark.parametrize("path, mutate", [
    ("colour", lambda d: d.update(colour="red")),
    ("tenants[0].colour", lambda d: d["tenants"][0].update(colour="red")),
    ("tenants[0].operators[1].colour", lambda d: d["tenants"][0]["operators"][1].update(colour="red")),
    ("tenants[0].calling_profiles[0].colour", lambda d: d["tenants"][0]["calling_profiles"][0].update(colour="red")),
    ("tenants[0].customers[0].colour", lambda d: d["tenants"][0]["customers"][0].update(colour="red")),
    (f"{SERVICE}.colour", lambda d: d["tenants"][0]["customers"][0]["services"][0].update(colour="red")),
])
def test_unknown_key_names_its_path_and_the_allowed_keys(path, mutate):
    data = copy.deepcopy(VALID)
    mutate(data)
    [problem] = problems(data)
    assert problem.startswith(f"{path}: unknown key (allowed: ")
    assert "name" in problem or "tenants" in problem


@pytest.mark.parametrize("path, mutate", [
    ("tenants", lambda d: d.pop("tenants")),
    ("tenants[0].name", lambda d: d["tenants"][0].pop("name")),
    ("tenants[0].operators[0].email", lambda d: d["tenants"][0]["operators"][0].pop("email")),
    ("tenants[0].calling_profiles[0].sbc", lambda d: d["tenants"][0]["calling_profiles"][0].pop("sbc")),
    ("tenants[0].customers[0].name", lambda d: d["tenants"][0]["customers"][0].pop("name")),
])
def test_missing_required_key(path, mutate):
    data = copy.deepcopy(VALID)
    mutate(data)
    assert problems(data) == [f"{path}: required key is missing"]


def test_every_missing_service_field_is_reported():
    data = doc(product=None, mode=None, org_id=None, location_id=None, country=None)
    assert problems(data) == [f"{SERVICE}.{key}: required key is missing"
                              for key in ("product", "mode", "org_id", "location_id", "country")]


def test_empty_name_is_an_error():
    data = copy.deepcopy(VALID)
    data["tenants"][0]["name"] = "   "
    assert problems(data) == ["tenants[0].name: must not be empty"]


def test_too_long_name_is_an_error():
    assert problems(doc(name="x" * 201)) == [f"{SERVICE}.name: at most 200 characters (got 201)"]


@pytest.mark.parametrize("key, value, expected", [
    ("product", "webex", "'webex' is not one of webex-cloud-connect, live-cx"),
    ("mode", "hybrid", "'hybrid' is not one of integrated, non-integrated"),
])
def test_bad_enum(key, value, expected):
    assert problems(doc(**{key: value})) == [f"{SERVICE}.{key}: {expected}"]


def test_bad_role():
    data = copy.deepcopy(VALID)
    data["tenants"][0]["operators"][1]["role"] = "owner"
    assert problems(data) == ["tenants[0].operators[1].role: 'owner' is not one of operator, admin"]


@pytest.mark.parametrize("email", ["eve", "eve@", "eve@acme", "eve acme@example.com", "@acme.example"])
def test_bad_email(email):
    data = copy.deepcopy(VALID)
    data["tenants"][0]["operators"][1]["email"] = email
    assert problems(data) == [f"tenants[0].operators[1].email: {email!r} does not look like an email address"]


@pytest.mark.parametrize("country", ["ITA", "XX", "I", "Italy"])
def test_bad_country(country):
    assert problems(doc(country=country)) == [f"{SERVICE}.country: {country!r} is not an ISO 3166 alpha-2 code (e.g. IT, US, GB)"]


def test_norway_unquoted_gets_a_hint():
    text = yaml.safe_dump(doc(country="NO"), sort_keys=False).replace("country: 'NO'", "country: NO")
    [problem] = problems(text)
    assert problem.startswith(f"{SERVICE}.country: expected a string, got a boolean")
    assert "'NO'" in problem


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "01/11/2026"])
def test_bad_date(value):
    [problem] = problems(doc(consented_on=value))
    assert problem == f"{SERVICE}.consented_on: {value!r} is not an ISO 8601 date-time (e.g. 2026-11-01T09:00:00Z)"


def test_date_of_wrong_type():
    assert problems(doc(consented_on=[2026])) == [f"{SERVICE}.consented_on: expected an ISO 8601 date-time, got a list"]


@pytest.mark.parametrize("written, expected", [
    ("2026-11-01T09:00:00Z", datetime(2026, 11, 1, 9, tzinfo=timezone.utc)),
    ("2026-11-01T10:00:00+01:00", datetime(2026, 11, 1, 9, tzinfo=timezone.utc)),
    ("2026-11-01 09:00:00", datetime(2026, 11, 1, 9, tzinfo=timezone.utc)),
    ("2026-11-01", datetime(2026, 11, 1, tzinfo=timezone.utc)),
    ("'2026-11-01T10:00:00+01:00'", datetime(2026, 11, 1, 9, tzinfo=timezone.utc)),
    ("'2026-11-01T09:00'", datetime(2026, 11, 1, 9, tzinfo=timezone.utc)),
])
def test_consented_on_accepts_yaml_timestamps_and_iso_strings_as_utc(written, expected):
    text = yaml.safe_dump(doc(consented_on="PLACEHOLDER"), sort_keys=False).replace("PLACEHOLDER", written)
    consented = parse_inventory(text).tenants[0].customers[0].services[0].consented_on
    assert consented == expected
    assert consented.tzinfo == timezone.utc


def test_removing_flag():
    assert parse_inventory(yaml.safe_dump(doc(removing=True))).tenants[0].customers[0].services[0].removing is True
    assert problems(doc(removing="yes please")) == [f"{SERVICE}.removing: expected true or false, got a string"]


@pytest.mark.parametrize("path, mutate, expected", [
    ("tenants[0].name", lambda d: d["tenants"][0].update(name=["Acme"]), "expected a string, got a list"),
    ("tenants", lambda d: d.update(tenants={"name": "Acme"}), "expected a list, got a mapping"),
    ("tenants[0]", lambda d: d["tenants"].__setitem__(0, "Acme SP"), "expected a mapping, got a string"),
    ("tenants[0].customers[0].services", lambda d: d["tenants"][0]["customers"][0].update(services="roma-cc"),
     "expected a list, got a string"),
    (f"{SERVICE}.org_id", lambda d: d["tenants"][0]["customers"][0]["services"][0].update(org_id=12345),
     "expected a string, got a number (quote it)"),
    (f"{SERVICE}.channel", lambda d: d["tenants"][0]["customers"][0]["services"][0].update(channel={"a": 1}),
     "expected a string, got a mapping"),
])
def test_wrong_type_names_path_and_expected_type(path, mutate, expected):
    data = copy.deepcopy(VALID)
    mutate(data)
    assert problems(data) == [f"{path}: {expected}"]


def test_null_optional_lists_mean_empty():
    text = "tenants:\n  - name: Empty SP\n    operators:\n    customers:\n"
    tenant = parse_inventory(text).tenants[0]
    assert (tenant.operators, tenant.customers) == ((), ())


@pytest.mark.parametrize("text", ["tenants: []", "tenants:"])
def test_no_tenants_is_an_error(text):
    assert problems(text) == ["tenants: must list at least one tenant"]


def test_duplicate_customers_profiles_and_sip_connections():
    data = copy.deepcopy(VALID)
    tenant = data["tenants"][0]
    tenant["calling_profiles"].append({"name": "CC-Default", "sbc": "sbc-eu-2"})
    tenant["sip_connections"].append({"name": "PSTN-Milan"})
    tenant["customers"].append({"name": "Pizzeria Roma S.p.A."})
    assert problems(data) == [
        "tenants[0].calling_profiles[1].name: duplicate calling profile 'CC-Default' (first at tenants[0].calling_profiles[0].name)",
        "tenants[0].sip_connections[1].name: duplicate SIP connection 'PSTN-Milan' (first at tenants[0].sip_connections[0].name)",
        "tenants[0].customers[1].name: duplicate customer 'Pizzeria Roma S.p.A.' (first at tenants[0].customers[0].name)",
    ]


def test_service_name_must_be_unique_across_the_tenants_customers():
    data = copy.deepcopy(VALID)
    data["tenants"][0]["customers"].append({"name": "Other", "services": [{"name": "roma-cc"}]})
    found = problems(data)
    assert ("tenants[0].customers[1].services[0].name: duplicate service name 'roma-cc' "
            f"(first at {SERVICE}.name)") in found


def test_same_service_name_in_two_tenants_is_fine():
    data = copy.deepcopy(VALID)
    second = copy.deepcopy(data["tenants"][0])
    second["name"] = "Globex SP"
    data["tenants"].append(second)
    assert len(parse_inventory(yaml.safe_dump(data)).tenants) == 2


def test_operator_email_twice_in_a_tenant_ignoring_case():
    data = copy.deepcopy(VALID)
    data["tenants"][0]["operators"].append({"email": "OPS@acme.example"})
    assert problems(data) == [
        "tenants[0].operators[2].email: duplicate operator email 'ops@acme.example' (first at tenants[0].operators[0].email)"]


def test_duplicate_tenant_names():
    data = copy.deepcopy(VALID)
    data["tenants"].append({"name": "Acme SP"})
    assert problems(data) == ["tenants[1].name: duplicate tenant 'Acme SP' (first at tenants[0].name)"]


def test_not_yaml_reports_the_line():
    [problem] = problems("tenants:\n  - name: [Acme SP\n  - name: Globex\n")
    assert problem.startswith("not valid YAML at line ")


def test_key_given_twice_in_one_mapping_is_a_yaml_error():
    assert problems("tenants:\n  - name: Acme SP\n    name: Globex SP\n") == [
        "not valid YAML at line 3, column 5: duplicate key 'name'"]


def test_yaml_anchors_and_aliases_are_refused():
    text = ("tenants:\n  - name: T\n    customers:\n      - name: C\n        services:\n"
            "          - &base {name: a, product: live-cx, mode: non-integrated, org_id: O, location_id: L, country: IT}\n"
            "          - {<<: *base, name: b, country: FR}\n")
    assert problems(text) == ["line 6, column 13: YAML anchors and aliases (&base) are not allowed in an inventory: "
                              "write each value out"]
    assert problems("tenants: *nowhere\n")[0].startswith("line 1, column 10: YAML anchors and aliases (*nowhere)")


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n"])
def test_empty_file(text):
    assert problems(text) == ["the file is empty; expected a mapping with a 'tenants' list"]


def test_top_level_must_be_a_mapping():
    assert problems("- name: Acme SP\n") == ["top level: expected a mapping, got a list"]


def test_read_inventory_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(InventoryError) as info:
        read_inventory(path)
    assert info.value.message == f"{path}: inventory not loaded: file not found"


def test_read_inventory_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("tenants:\n  - name: Caf\u00e9 SP\n".encode("latin-1"))
    with pytest.raises(InventoryError) as info:
        read_inventory(path)
    assert info.value.problems == ["not UTF-8 text (invalid byte at line 2)"]
    assert str(path) in info.value.message


def test_read_inventory_problems_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc(country="ITA")), encoding="utf-8")
    with pytest.raises(InventoryError) as info:
        read_inventory(path)
    assert info.value.message.startswith(f"{path}: inventory not loaded: {SERVICE}.country: 'ITA'")


def test_read_inventory_accepts_a_byte_order_mark(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + yaml.safe_dump(VALID).encode())
    assert read_inventory(path).tenants[0].name == "Acme SP"


def test_load_report_summary_has_one_line_per_kind():
    report = LoadReport(created={"services": 2}, updated={"services": 1}, unchanged={"services": 5})
    lines = report.summary().splitlines()
    assert "services: 2 created, 1 updated, 5 unchanged" in lines
    assert "tenants: 0 created, 0 updated, 0 unchanged" in lines
    assert len(lines) == 7
