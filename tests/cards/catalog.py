"""Every card the bot can send, made by the real handlers from an inventory that covers the cases
renderers get wrong: the demo tenant, a live-cx service (one number type: one choice), and a tenant
with 40 long calling profile names and a single SIP connection."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot import cards
from handlers import Services
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from provisioning.settings import Settings
from store.db import connect
from tests.support.chat import Chat

WIDE_TENANT = "Wide SP"
WIDE_OPERATOR = "wide@wide.example"
LONG = "Calling profile for the northern region contact centre agents, night shift"


def wide_inventory() -> str:
    """A tenant with 40 long calling profile names and one SIP connection."""
    profiles = "\n".join(f"      - {{name: '{LONG} {n:02d}', sbc: sbc-{n}}}" for n in range(40))
    return f"""tenants:
  - name: {WIDE_TENANT}
    operators: [{{email: {WIDE_OPERATOR}, role: admin}}]
    calling_profiles:
{profiles}
    sip_connections: [{{name: PSTN-Only}}]
    customers:
      - name: Wide Customer
        services:
          - name: wide-cc
            channel: Wide Channel
            product: webex-cloud-connect
            mode: integrated
            org_id: ORG-WIDE
            location_id: LOC-WIDE
            country: IT
            consented_on: 2026-10-05T09:30:00Z
"""


@dataclass
class Case:
    """A card as the bot sends it, what to fill in (only the required inputs), the button to press,
    and the operator who would press it (so the submitted data can be answered by the bot)."""

    name: str
    card: dict
    fill: dict[str, str]
    press: str
    operator: str
    inputs: list[str] = field(default_factory=list)
    expected: dict = field(default_factory=dict)


def build(folder: Path) -> tuple[list[Case], Chat]:
    """The cases, and a chat on the SQLite database they were made from."""
    db = connect(f"sqlite:///{folder / 'cards.db'}", auto_upgrade=True)
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    wide = folder / "wide.yaml"
    wide.write_text(wide_inventory(), encoding="utf-8")
    load_inventory_file(db, wide, actor="test")
    chat = Chat(Services(db=db, settings=Settings()))
    chat.say("tenant Acme SP", as_="ops@acme.example")
    form = list(cards.INPUT_IDS)
    cases = []
    for name, service, operator, number_types in (
        ("upload-form", "roma-cc", "ops@acme.example", ["user", "service", "contact-center"]),
        ("upload-form-live-cx", "roma-cx", "ops@acme.example", ["contact-center"]),
        ("upload-form-40-long-names", "wide-cc", WIDE_OPERATOR, ["user", "service", "contact-center"]),
    ):
        description = chat.say(f"upload {service}", as_=operator).card
        assert description is not None, f"no card for {service}"
        assert description["number_types"] == number_types
        profile, sip, number_type = (description["calling_profiles"][0], description["sip_connections"][0],
                                     number_types[0])  # preselected
        cases.append(Case(name, cards.render(description), {"number": "+390212345678"}, "Preview", operator, form,
                          {"action": "upload", "service": service, "profile": profile, "sip": sip,
                           "type": number_type, "entry_mode": "single", "number": "+390212345678"}))
    preview = chat.say("upload roma-cc profile=CC-Default sip=PSTN-Milan type=service +390212345600",
                       as_="ops@acme.example").card
    assert preview is not None
    cases.append(Case("preview", cards.render(preview), {}, "Submit", "ops@acme.example", [],
                      {"action": "submit", "upload_id": preview["upload_id"]}))
    return cases, chat
