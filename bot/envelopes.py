"""From a delivery (a webhook body, or a websocket activity shaped like one) to an inbox envelope.

The inbox keys an event by Webex's (resource, `data.id`), orders it within its space
(`data.roomId`) and caps concurrent work per person (`data.personId`). Anything the database
could not hold (a NUL, a lone surrogate, an over-long id) is refused here, as bad input (400),
before it can turn into a database error (5xx) that Webex would keep redelivering.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

MAX_ID_LENGTH = 300  # the width of the inbox's id, room and person columns


class Unstorable(ValueError):
    """The delivery is not an envelope the inbox can keep; the message says why (for a 400)."""


@dataclass(frozen=True)
class InboxEnvelope:
    event_id: str
    resource: str
    event: str
    room_id: str | None
    person_id: str | None
    body: dict

    @property
    def payload(self) -> str:
        return json.dumps(self.body)


def storable_text(value: str) -> bool:
    """No NUL (PostgreSQL refuses it in text) and valid UTF-8 (a lone surrogate is not)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _all_storable(body: dict) -> bool:
    """Every key and string in the body, walked without recursion (bodies are capped at 1 MB)."""
    pending: list = [body]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and not storable_text(item):
            return False
    return True


def _optional_id(data: dict, name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise Unstorable(f"data.{name} invalid")
    return value


def from_webhook(body: dict, event_id: str | None = None) -> InboxEnvelope:
    """The inbox envelope of a webhook body (already known to be a dict with a `data` dict), keyed
    by `data.id` unless the caller gives the key (serviceApp events carry no id: a content hash)."""
    data = body["data"]
    event_id = event_id if event_id is not None else data.get("id")
    if not isinstance(event_id, str) or not event_id or len(event_id) > MAX_ID_LENGTH:
        raise Unstorable("data.id missing or invalid")
    if not _all_storable(body):
        raise Unstorable("body holds text that cannot be stored (NUL or invalid Unicode)")
    return InboxEnvelope(event_id=event_id, resource=str(body.get("resource")), event=str(body.get("event")),
                         room_id=_optional_id(data, "roomId"), person_id=_optional_id(data, "personId"), body=body)
