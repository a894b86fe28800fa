"""Adaptive Cards (1.3) for the neutral card descriptions handlers return.

Handlers say *what* to show (`{"kind": "upload-form", ...}` or `{"kind": "preview", ...}`);
this module is the only place that knows Adaptive Card JSON, so handlers stay testable
without Webex and the shell can print the same replies as text.
"""
from __future__ import annotations

from typing import Any

from provisioning.text import NAME_LIMIT, literal

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.3"

# The input ids the upload handler reads back from `card_inputs`.
INPUT_IDS = ("profile", "sip", "type", "cac", "info", "entry_mode", "number", "range_end")


def attachment(card: dict) -> dict:
    """The Webex message attachment for a neutral card description."""
    return {"contentType": CONTENT_TYPE, "content": render(card)}


def render(card: dict) -> dict:
    """Adaptive Card JSON for `card`; unknown kinds are a programming error."""
    kind = card.get("kind")
    if kind == "upload-form":
        return _upload_form(card)
    if kind == "preview":
        return _preview(card)
    raise ValueError(f"unknown card kind {kind!r}")


def fallback_text(card: dict) -> str:
    """What clients that cannot render cards show instead (and what Webex indexes)."""
    if card.get("kind") == "upload-form":
        return (f"Upload Numbers for {literal(card.get('service', ''), NAME_LIMIT)}: open this space in a Webex app "
                "that shows cards, or type `upload SERVICE profile=P sip=S type=T NUMBER`.")
    if card.get("kind") == "preview":
        upload_id = card.get("upload_id")
        return f"Preview #{upload_id}: type `submit {upload_id}` or `cancel {upload_id}`."
    return "This message has a card your Webex app cannot show."


def _card(body: list[dict], actions: list[dict]) -> dict:
    return {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION,
            "body": body, "actions": actions}


def _text(text: str, **style: Any) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _choices(values: list[str]) -> list[dict]:
    return [{"title": v, "value": v} for v in values]


def _choice_set(input_id: str, label: str, values: list[str], error: str) -> dict:
    """A labelled single-choice dropdown, the first value preselected so a submit is never empty.

    `isMultiSelect: false` is spelled out: without it Webex's renderer shows radio buttons, or one
    checkbox for a single choice (unticking it blocks the form).
    """
    element: dict[str, Any] = {"type": "Input.ChoiceSet", "id": input_id, "label": label, "style": "compact",
                               "isMultiSelect": False, "choices": _choices(values), "isRequired": True,
                               "errorMessage": error}
    if values:
        element["value"] = values[0]
    return element


def _upload_form(card: dict) -> dict:
    """Every input has a 1.3 `label`; the CAC has no `min` (an empty number input reads as NaN
    against it and Microsoft's renderer then refuses to submit): the bot checks the CAC itself."""
    service = card["service"]
    profiles = list(card.get("calling_profiles") or [])
    sips = list(card.get("sip_connections") or [])
    types = list(card.get("number_types") or [])
    user_cac = card.get("user_cac", 2)
    body = [
        _text(f"Upload Numbers — {service}", size="Medium", weight="Bolder"),
        _choice_set("profile", "Calling profile", profiles, "Choose a calling profile."),
        _choice_set("sip", "SIP connection", sips, "Choose a SIP connection."),
        _choice_set("type", "Number type", types, "Choose a number type."),
        {"type": "Input.Number", "id": "cac", "label": "CAC (optional)",
         "placeholder": f"2 or more; user numbers always use {user_cac}"},
        {"type": "Input.Text", "id": "info", "label": "Service info (optional)", "maxLength": 255,
         "placeholder": "Free text used for metering"},
        {"type": "Input.ChoiceSet", "id": "entry_mode", "label": "Entry", "style": "expanded",
         "isMultiSelect": False, "value": "single",
         "choices": [{"title": "Single number", "value": "single"}, {"title": "Range", "value": "range"}]},
        {"type": "Input.Text", "id": "number", "label": "Number (or range start)", "placeholder": "+390212345678",
         "isRequired": True, "errorMessage": "Enter a number in E.164 form (+...)."},
        {"type": "Input.Text", "id": "range_end", "label": "Range end (ranges only)",
         "placeholder": "Full number or its last digits"},
    ]
    actions = [{"type": "Action.Submit", "title": "Preview",
                "data": {"action": "upload", "service": service}}]
    return _card(body, actions)


def _preview(card: dict) -> dict:
    upload_id = card["upload_id"]
    service = card.get("service", "")
    body = [_text(f"Upload #{upload_id} for {service} is ready.", weight="Bolder"),
            _text("Submit stores every valid entry; Cancel drops the preview.", isSubtle=True)]
    actions = [
        {"type": "Action.Submit", "title": "Submit", "style": "positive",
         "data": {"action": "submit", "upload_id": upload_id}},
        {"type": "Action.Submit", "title": "Cancel", "style": "destructive",
         "data": {"action": "cancel", "upload_id": upload_id}},
    ]
    return _card(body, actions)
