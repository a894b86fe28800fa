"""In-memory state of the fake Webex cloud: people, rooms, messages, files, cards, webhooks.

Everything is plain dicts shaped like the Webex REST JSON so the HTTP layer can return them
as they are; one re-entrant lock guards it because the server answers on many threads.
"""

from __future__ import annotations

import base64
import itertools
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

MAX_MESSAGE_BYTES = 7439
TOO_LONG = (
    "Unable to post message to room: Message length limited to 7439 characters before "
    "encryption and 10000 characters after encryption."
)
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def webex_id(kind: str) -> str:
    """Return an ID shaped like Webex's (base64 of a ciscospark:// URI), safe in URL paths."""
    raw = f"ciscospark://us/{kind}/{uuid.uuid4()}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def now_iso() -> str:
    """Webex timestamps: ISO 8601 UTC with milliseconds and a Z."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return stamp[:-3] + "Z"


class WebexError(Exception):
    """An API failure the HTTP layer turns into a Webex-style JSON error."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@dataclass
class StoredFile:
    """A file attached to a message; `scans_left` GETs/HEADs still answer 423."""

    name: str
    data: bytes
    content_type: str
    scans_left: int = 0


@dataclass
class State:
    """The whole fake cloud; call methods only while holding `lock` (they take it themselves)."""

    bot_email: str
    bot_name: str
    tokens: set[str]
    org_id: str = field(default_factory=lambda: webex_id("ORGANIZATION"))
    base_url: str = ""
    lock: threading.RLock = field(default_factory=threading.RLock)
    people: dict[str, dict] = field(default_factory=dict)
    rooms: dict[str, dict] = field(default_factory=dict)
    messages: dict[str, dict] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    actions: dict[str, dict] = field(default_factory=dict)
    webhooks: dict[str, dict] = field(default_factory=dict)
    _seq: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.bot = self._new_person(self.bot_email, self.bot_name, kind="bot")

    # people and rooms ---------------------------------------------------------------------
    def _new_person(self, email: str, display_name: str | None, kind: str = "person") -> dict:
        name = display_name or email.split("@")[0]
        first, _, last = name.partition(" ")
        person = {
            "id": webex_id("PEOPLE"),
            "emails": [email],
            "phoneNumbers": [],
            "displayName": name,
            "nickName": first,
            "firstName": first,
            "lastName": last,
            "orgId": self.org_id,
            "created": now_iso(),
            "type": kind,
        }
        with self.lock:
            self.people[person["id"]] = person
        return person

    def person_by_email(self, email: str) -> dict | None:
        with self.lock:
            wanted = email.lower()
            return next(
                (p for p in self.people.values() if p["emails"][0].lower() == wanted), None
            )

    def ensure_person(self, email: str, display_name: str | None = None) -> dict:
        with self.lock:
            return self.person_by_email(email) or self._new_person(email, display_name)

    def person(self, person_id: str) -> dict:
        with self.lock:
            if person_id not in self.people:
                raise WebexError(404, "Person not found.")
            return self.people[person_id]

    def add_room(self, title: str, kind: str = "direct") -> dict:
        if kind not in ("direct", "group"):
            raise ValueError("room type is 'direct' or 'group'")
        stamp = now_iso()
        room = {
            "id": webex_id("ROOM"),
            "title": title,
            "type": kind,
            "isLocked": False,
            "lastActivity": stamp,
            "creatorId": self.bot["id"],
            "created": stamp,
            "ownerId": self.org_id,
        }
        with self.lock:
            self.rooms[room["id"]] = room
        return room

    def room(self, room_id: str) -> dict:
        with self.lock:
            if room_id not in self.rooms:
                raise WebexError(404, "Could not find a room with provided ID.")
            return self.rooms[room_id]

    def direct_room_with(self, person: dict) -> dict:
        """The 1:1 space between the bot and `person`, created on first use like Webex does."""
        with self.lock:
            for room in self.rooms.values():
                if room["type"] == "direct" and room.get("_peer") == person["id"]:
                    return room
            room = self.add_room(person["displayName"], "direct")
            room["_peer"] = person["id"]
            return room

    # files ----------------------------------------------------------------------------------
    def store_file(self, name: str, data: bytes, content_type: str) -> str:
        content_id = webex_id("CONTENT")
        with self.lock:
            self.files[content_id] = StoredFile(name, bytes(data), content_type)
        return f"{self.base_url}contents/{content_id}"

    def file_for_url(self, url: str) -> StoredFile:
        content_id = url.rstrip("/").rsplit("/", 1)[-1]
        with self.lock:
            if content_id not in self.files:
                raise KeyError(f"no file at {url}")
            return self.files[content_id]

    # messages -------------------------------------------------------------------------------
    def create_message(
        self,
        author: dict,
        room: dict,
        *,
        text: str | None = None,
        markdown: str | None = None,
        html: str | None = None,
        file_urls: list[str] = (),
        attachments: list[dict] | None = None,
        parent_id: str | None = None,
        mentioned: list[str] = (),
    ) -> dict:
        """Store a message exactly as GET /messages/{id} would return it."""
        check_length(text, markdown)
        if not (text or markdown or file_urls or attachments):
            raise WebexError(400, "Message must contain text, markdown, files or attachments.")
        if parent_id is not None:
            parent = self.messages.get(parent_id)
            if parent is None or parent["roomId"] != room["id"]:
                raise WebexError(400, "Invalid parentId.")
        message: dict[str, Any] = {
            "id": webex_id("MESSAGE"),
            "roomId": room["id"],
            "roomType": room["type"],
            "text": text if text is not None else (markdown or ""),
            "personId": author["id"],
            "personEmail": author["emails"][0],
            "created": now_iso(),
        }
        optional = {
            "markdown": markdown,
            "html": html,
            "files": list(file_urls) or None,
            "attachments": attachments or None,
            "parentId": parent_id,
            "mentionedPeople": list(mentioned) or None,
        }
        message.update({k: v for k, v in optional.items() if v is not None})
        with self.lock:
            message["_seq"] = next(self._seq)
            self.messages[message["id"]] = message
            room["lastActivity"] = message["created"]
        return message

    def message(self, message_id: str) -> dict:
        with self.lock:
            if message_id not in self.messages:
                raise WebexError(404, "Unable to get message.")
            return self.messages[message_id]

    def room_messages(self, room_id: str) -> list[dict]:
        """Messages of a room, newest first (the order Webex lists them in)."""
        with self.lock:
            found = [m for m in self.messages.values() if m["roomId"] == room_id]
        return sorted(found, key=lambda m: m["_seq"], reverse=True)

    # cards ----------------------------------------------------------------------------------
    def add_action(self, person: dict, room: dict, message_id: str, inputs: dict) -> dict:
        message = self.message(message_id)
        if message["roomId"] != room["id"]:
            raise ValueError("the card message is not in that room")
        action = {
            "id": webex_id("ATTACHMENT_ACTION"),
            "type": "submit",
            "messageId": message_id,
            "inputs": dict(inputs),
            "personId": person["id"],
            "roomId": room["id"],
            "created": now_iso(),
        }
        with self.lock:
            self.actions[action["id"]] = action
        return action


def check_length(*bodies: str | None) -> None:
    """Webex refuses text or markdown over 7,439 bytes (UTF-8) with a 400."""
    for body in bodies:
        if body is not None and len(body.encode("utf-8")) > MAX_MESSAGE_BYTES:
            raise WebexError(400, TOO_LONG)


def public(record: dict) -> dict:
    """A copy without the fake's private bookkeeping keys (those starting with `_`)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}
