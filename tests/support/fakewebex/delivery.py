"""Webhook deliveries as Webex sends them: the envelope, the filter rules and the signature.

Webex POSTs a JSON envelope to the webhook's targetUrl and, when the webhook has a secret,
signs the exact raw body with HMAC-SHA1 in `X-Spark-Signature` (hex digest).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qsl, urlparse

import requests

from .responses import tracking_id
from .state import now_iso

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
Sender = Callable[[str, bytes, dict], Any]


def sign(body: bytes, secret: str) -> str:
    """The X-Spark-Signature value for `body`."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


def message_data(message: dict) -> dict:
    """`data` of a messages:created event: no text, the receiver must GET the message."""
    keys = ("id", "roomId", "roomType", "personId", "personEmail", "mentionedPeople",
            "files", "parentId", "created")
    return {k: message[k] for k in keys if k in message}


def action_data(action: dict) -> dict:
    """`data` of an attachmentActions:created event: no inputs, the receiver must GET them."""
    keys = ("id", "type", "messageId", "personId", "roomId", "created")
    return {k: action[k] for k in keys}


def envelope(hook: dict, data: dict, actor_id: str) -> dict:
    """The body Webex posts for one webhook and one event."""
    body = {k: hook[k] for k in ("id", "name", "targetUrl", "resource", "event") if k in hook}
    if hook.get("filter"):
        body["filter"] = hook["filter"]
    body.update(
        orgId=hook["orgId"],
        createdBy=hook["createdBy"],
        appId=hook["appId"],
        ownedBy=hook["ownedBy"],
        status=hook["status"],
        created=hook["created"],
        actorId=actor_id,
        data=data,
    )
    return body


def matches(hook: dict, resource: str, data: dict, bot_id: str) -> bool:
    """Whether an active webhook gets this event (resource, event "created", filter)."""
    if hook["status"] != "active" or hook["resource"] not in (resource, "all"):
        return False
    if hook["event"] not in ("created", "all"):
        return False
    for key, wanted in parse_qsl(hook.get("filter", "")):
        if key == "mentionedPeople":
            if (bot_id if wanted == "me" else wanted) not in data.get("mentionedPeople", []):
                return False
        elif key == "hasFiles":
            if bool(data.get("files")) != (wanted.lower() == "true"):
                return False
        elif str(data.get(key, "")).lower() != wanted.lower():
            return False
    return True


@dataclass(frozen=True)
class Delivery:
    """One POST the fake made to a webhook target, and the status it got back."""

    url: str
    body: bytes
    headers: dict[str, str]
    status_code: int


def post(url: str, body: bytes, headers: dict, sender: Sender | None) -> Any:
    """Send with `sender` when given (e.g. a Flask test client), else over HTTP to localhost."""
    if sender is not None:
        return sender(url, body, headers)
    if urlparse(url).hostname not in LOCAL_HOSTS:
        raise ValueError(f"the fake delivers only to localhost, not {url}")
    return requests.post(url, data=body, headers=headers, timeout=10)


def encode(event: dict | str | bytes) -> bytes:
    if isinstance(event, bytes):
        return event
    if isinstance(event, str):
        return event.encode("utf-8")
    return json.dumps(event).encode("utf-8")


def headers_for(body: bytes, secret: str | None, signature: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json; charset=utf-8", "TrackingID": tracking_id()}
    if signature is not None:
        headers["X-Spark-Signature"] = signature
    elif secret:
        headers["X-Spark-Signature"] = sign(body, secret)
    return headers


def service_app_envelope(hook: dict, event: str, org: str, app_id: str) -> dict:
    """A `serviceApp` event: no roomId or message, the authorizing org in `data`."""
    body = {k: hook[k] for k in ("id", "name", "targetUrl", "resource") if k in hook}
    body.update(event=event, orgId=hook["orgId"], createdBy=hook["createdBy"], appId=hook["appId"],
                ownedBy=hook["ownedBy"], status=hook["status"], created=hook["created"],
                actorId=hook["createdBy"],
                data={"applicationId": app_id, "authorizerOrgId": org, "orgId": org, "event": event,
                      "created": now_iso()})
    return body
