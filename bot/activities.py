"""Webex websocket frames → webhook-shaped bodies, so the inbox sees one kind of event either way.

A `conversation.activity` frame names the message (verb `post` or `share`) or the card action
(`cardAction`) by its UUID, the space by the target's UUID and the author by `entryUUID`. The
REST API (and so the bot's `Conversation`) uses base64 `ciscospark://` IDs; building the same
IDs here makes a websocket event indistinguishable from a webhook delivery: same key (so the
two never both run), same space ordering, same processing (the message is then read by id).
"""
from __future__ import annotations

import base64

MESSAGE_VERBS = {"post": "messages", "share": "messages", "cardAction": "attachmentActions"}
KINDS = {"messages": "MESSAGE", "attachmentActions": "ATTACHMENT_ACTION"}


def rest_id(kind: str, uuid: str) -> str:
    """The REST API's ID of a thing of `kind` (MESSAGE, ROOM, PEOPLE, ...) with this UUID."""
    return base64.urlsafe_b64encode(f"ciscospark://us/{kind}/{uuid}".encode()).decode().rstrip("=")


def uuid_of(rest: str) -> str:
    """The UUID inside a REST API ID (what websocket frames carry)."""
    raw = base64.urlsafe_b64decode(rest + "=" * (-len(rest) % 4)).decode()
    return raw.rsplit("/", 1)[-1]


def to_webhook(frame: dict) -> dict | None:
    """The webhook body this frame stands for, or None when it is not a message or a card action."""
    data = frame.get("data") if isinstance(frame, dict) else None
    if not isinstance(data, dict) or data.get("eventType") != "conversation.activity":
        return None
    activity = data.get("activity")
    if not isinstance(activity, dict):
        return None
    resource = MESSAGE_VERBS.get(activity.get("verb"))
    activity_id = activity.get("id")
    target = activity.get("target") or {}
    actor = activity.get("actor") or {}
    if resource is None or not isinstance(activity_id, str) or not isinstance(target.get("id"), str):
        return None
    body = {"id": rest_id(KINDS[resource], activity_id), "roomId": rest_id("ROOM", target["id"])}
    if isinstance(actor.get("entryUUID"), str):
        body["personId"] = rest_id("PEOPLE", actor["entryUUID"])
    if isinstance(actor.get("emailAddress"), str):
        body["personEmail"] = actor["emailAddress"]
    return {"resource": resource, "event": "created", "source": "websocket", "data": body}
