"""From a Webex event to a handler `Request`, and the handler's `Reply` back to the room.

Webhook envelopes carry only IDs, so each event is read back through the API: the message
(text, files, thread) or the card action (inputs) and its author. The bot's own messages
are dropped here; who may do what is decided by `handlers.dispatch`.
"""
from __future__ import annotations

import base64
import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from webexpythonsdk.exceptions import ApiError

from bot import service_app
from bot.events import PermanentError
from bot.progress_message import ProgressMessage
from bot.retry import describe
from bot.tokens import TokenSource
from bot.webex_client import WebexClient
from handlers.base import Attachment, Reply, Request, Services
from provisioning.access import record_refusal
from provisioning.errors import UserError
from provisioning.text import literal

log = logging.getLogger(__name__)

Dispatch = Callable[[Services, Request], Reply]
MENTION = re.compile(
    r'<spark-mention\b[^>]*\bdata-object-id="(?P<id>[^"]+)"[^>]*>(?P<label>.*?)</spark-mention>',
    re.IGNORECASE | re.DOTALL,
)
APOLOGY = ("Sorry, something went wrong on my side and nothing was changed. "
           "Please try again in a moment.")
FOREIGN_CARD = "That card action was not for a card I sent, so I ignored it: nothing was changed."


@dataclass
class Conversation:
    """What processing an event needs: the services, the Webex client and the dispatcher."""

    services: Services
    webex: WebexClient
    dispatch: Dispatch
    tokens: TokenSource | None = None  # organization tokens, for serviceApp consent events

    def handle_event(self, envelope: dict) -> None:
        """Process one recorded webhook envelope (called by the inbox workers)."""
        data = envelope.get("data") or {}
        resource = envelope.get("resource")
        if resource == "messages":
            self.handle_message(data)
        elif resource == "attachmentActions":
            self.handle_action(data)
        elif resource == service_app.RESOURCE:
            service_app.handle(self.services, self.tokens, envelope)
        else:
            log.info("ignoring %s event", resource)

    # messages --------------------------------------------------------------------------------
    def handle_message(self, data: dict) -> None:
        me = self.webex.me()
        if data.get("personId") == me["id"]:
            return
        message = self.webex.get_message(data["id"])
        if message.get("personId") == me["id"]:
            return
        room_type = message.get("roomType") or data.get("roomType") or "direct"
        text = message.get("text") or ""
        if room_type == "group":
            if me["id"] not in (message.get("mentionedPeople") or []):
                return
            text = strip_mention(text, message.get("html"), me)
        request = Request(
            email=message.get("personEmail") or "",
            room_id=message["roomId"],
            text=text.strip(),
            attachments=tuple(self._attachment(url) for url in message.get("files") or ()),
            room_type=room_type,
            message_id=message["id"],
            parent_id=message.get("parentId"),
            meta={"person_id": message.get("personId")},
        )
        self.respond(request, parent_id=message.get("parentId"))

    def _attachment(self, url: str) -> Attachment:
        """Name and size now (HEAD); the bytes only when the import handler asks for them."""
        try:
            name, size = self.webex.file_info(url)
        except (UserError, ApiError, OSError) as exc:
            log.warning("could not read attachment details: %s", describe(exc))
            name, size = "attachment", None
        limit = self.services.settings.max_file_bytes

        def fetch() -> bytes:
            try:
                return self.webex.download(url, limit)
            except (ApiError, OSError) as exc:  # retries are spent: tell the operator, not just the log
                log.warning("attachment download failed: %s", describe(exc))
                raise UserError(f"I couldn't download {literal(name, 80)} from Webex ({describe(exc)}), even after "
                                "retrying. Nothing was stored: please send it again.") from None

        return Attachment(name=name, size=size, fetch=fetch)

    # cards -----------------------------------------------------------------------------------
    def handle_action(self, data: dict) -> None:
        me = self.webex.me()
        action = self.webex.get_action(data["id"])
        if action.get("personId") == me["id"] or action.get("type", "submit") != "submit":
            return
        person = self.webex.get_person(action["personId"])
        email = (person.get("emails") or [""])[0]
        card_message = self._card_message(action.get("messageId"))
        if card_message.get("personId") != me["id"] or card_message.get("roomId") != action.get("roomId"):
            self._refuse_action(action, email)
            return
        parent_id = card_message.get("parentId")
        request = Request(
            email=email,
            room_id=action["roomId"],
            card_inputs=dict(action.get("inputs") or {}),
            room_type=card_message.get("roomType") or "direct",
            message_id=action.get("messageId"),
            parent_id=parent_id,
            meta={"person_id": action["personId"], "action_id": action.get("id")},
        )
        self.respond(request, parent_id=parent_id)

    def _refuse_action(self, action: dict, email: str) -> None:
        """A card action counts only for a card the bot sent (SPEC §7): an unknown or foreign
        `messageId` is audited and answered with a fixed notice; nothing it carries is used."""
        log.warning("ignored a card action for a message the bot did not send (action %s)", action.get("id"))
        room_id = action.get("roomId") or ""
        record_refusal(self.services.db, email, room_id, "card", "card action for a message the bot did not send")
        try:
            self.webex.send_reply(room_id, Reply(FOREIGN_CARD))
        except Exception as exc:
            log.warning("could not answer the refused card action: %s", describe(exc))

    def _card_message(self, message_id: str | None) -> dict:
        """The message holding the card (its thread and room type); {} if it is gone."""
        if not message_id:
            return {}
        try:
            return self.webex.get_message(message_id)
        except ApiError as exc:
            if exc.status_code >= 500 or exc.status_code == 429:
                raise
            return {}

    # replying --------------------------------------------------------------------------------
    def respond(self, request: Request, parent_id: str | None) -> None:
        """Run the handler once and deliver its reply; a reply that cannot be sent is not retried
        by re-running the handler (that could submit twice) but reported to the operator."""
        progress = ProgressMessage(self.webex, request.room_id, parent_id)
        try:
            reply = self.dispatch(self.services, replace(request, progress=progress))
        except UserError as exc:
            reply = Reply(exc.message)
        except Exception:
            log.exception("handler failed for message %s", request.message_id)
            reply = Reply(APOLOGY)
        progress.finish()
        try:
            self.webex.send_reply(request.room_id, reply, parent_id)
        except Exception as exc:
            reason = describe(exc)
            log.error("reply to message %s was not delivered: %s", request.message_id, reason)
            self._tell_reply_failed(request.room_id, parent_id, reason)
            raise PermanentError(f"reply not delivered: {reason}") from exc

    def _tell_reply_failed(self, room_id: str, parent_id: str | None, reason: str) -> None:
        notice = (f"⚠️ I could not deliver my reply ({reason}). "
                  "Please try again; if this keeps happening, tell an admin.")
        try:
            self.webex.send_markdown(room_id, notice, parent_id)
        except Exception as exc:
            log.error("failure notice was not delivered either: %s", describe(exc))


def _same_person(object_id: str, person_id: str) -> bool:
    """Mentions may carry the base64 person ID or the bare UUID inside it."""
    if object_id == person_id:
        return True
    try:
        decoded = base64.urlsafe_b64decode(person_id + "=" * (-len(person_id) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return False
    return decoded.rsplit("/", 1)[-1] == object_id


def strip_mention(text: str, html_body: str | None, me: dict) -> str:
    """The command without the bot's @mention (Webex puts the mention in `text` too)."""
    labels = [html.unescape(m.group("label")).strip() for m in MENTION.finditer(html_body or "")
              if _same_person(m.group("id"), me["id"])]
    if not labels:
        names = [me.get(k) for k in ("displayName", "nickName", "firstName")]
        labels = [n for n in names if n and text.lower().lstrip().startswith(n.lower())][:1]
    for label in labels:
        at = text.find(label)
        if at < 0:
            at = text.lower().find(label.lower())
        if at >= 0:
            text = text[:at] + text[at + len(label):]
    return text.strip().lstrip(",:").strip()
