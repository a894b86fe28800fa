"""Talking to the handlers directly, as a transport would: `chat.say("upload ...")` returns the Reply."""
from __future__ import annotations

from dataclasses import dataclass, field

from handlers import Attachment, Reply, Request, Services, dispatch

ADMIN = "ops@acme.example"
OPERATOR = "eve@acme.example"


@dataclass
class Chat:
    services: Services
    replies: list[Reply] = field(default_factory=list)

    def say(self, text: str, *, as_: str = ADMIN, room: str | None = None,
            files: tuple[tuple[str, bytes], ...] = (), card: dict | None = None) -> Reply:
        attachments = tuple(Attachment(name, (lambda data=data: data), len(data)) for name, data in files)
        request = Request(email=as_, room_id=room or f"room:{as_}", text=text, attachments=attachments,
                          card_inputs=card)
        reply = dispatch(self.services, request)
        self.replies.append(reply)
        return reply
