"""Who may change what in a shared space (issue 16, SPEC §7): digests belong to (space, tenant),
previews to their tenant and space, and a card action counts only for a card the bot sent."""
from __future__ import annotations

from sqlalchemy import select

from store.models import AuditEntry, DigestSubscription, Tenant
from tests.reliability.conftest import ROMA, check_reply, snapshot
from tests.support.chat import ADMIN, OPERATOR
from tests.support.live import card_of, fast_client

GLOBEX_ADMIN = "bob@globex.example"
SHARED = "room:shared"


def digests(db) -> list[tuple[str, str, str]]:
    with db.sessions() as session:
        rows = session.execute(select(DigestSubscription.room_id, Tenant.name, DigestSubscription.time_of_day)
                               .join(Tenant, Tenant.id == DigestSubscription.tenant_id)
                               .order_by(Tenant.name)).all()
    return [tuple(row) for row in rows]


def say(chat, text: str, **kwargs):
    reply = chat.say(text, **kwargs)
    check_reply(reply)
    return reply


def test_another_tenants_operator_cannot_stop_or_change_a_digest_in_a_shared_space(chat):
    db = chat.services.db
    assert "08:00" in say(chat, "digest daily 08:00", as_=OPERATOR, room=SHARED).markdown
    assert digests(db) == [(SHARED, "Acme SP", "08:00")]

    assert "no daily digest" in say(chat, "digest off", as_=GLOBEX_ADMIN, room=SHARED).markdown
    assert digests(db) == [(SHARED, "Acme SP", "08:00")]

    say(chat, "digest daily 09:30", as_=GLOBEX_ADMIN, room=SHARED)
    assert digests(db) == [(SHARED, "Acme SP", "08:00"), (SHARED, "Globex SP", "09:30")]

    say(chat, "digest daily 07:15", as_=ADMIN, room=SHARED)  # an Acme admin may change Acme's
    assert "stopped" in say(chat, "digest off", as_=OPERATOR, room=SHARED).markdown
    assert digests(db) == [(SHARED, "Globex SP", "09:30")]


def preview_in(chat, room: str, as_: str = OPERATOR, first: int = 390212345600) -> int:
    reply = say(chat, f"upload {ROMA} +{first}-609", as_=as_, room=room)
    assert "**10** valid numbers" in reply.markdown
    return reply.card["upload_id"]


def refused(db, email: str) -> list[str]:
    with db.sessions() as session:
        return list(session.scalars(select(AuditEntry.detail).where(AuditEntry.actor == email,
                                                                    AuditEntry.action == "access.refused")))


def test_a_preview_is_finished_from_another_space_only_by_its_author(chat):
    db = chat.services.db
    upload_id = preview_in(chat, "room:a")
    before = snapshot(db)
    for text, card in ((f"submit {upload_id}", None), (f"cancel {upload_id}", None),
                       ("", {"action": "submit", "upload_id": upload_id}),
                       ("", {"action": "cancel", "upload_id": str(upload_id)})):
        reply = say(chat, text, as_=ADMIN, room="room:b", card=card)
        assert "previewed in another space" in reply.markdown, reply.markdown
    assert len(refused(db, ADMIN)) == 4
    assert snapshot(db) == before
    other_tenant = say(chat, f"submit {upload_id}", as_=GLOBEX_ADMIN, room="room:a")
    assert f"No upload #{upload_id} in tenant `Globex SP`" in other_tenant.markdown
    assert snapshot(db) == before
    assert "**10** numbers stored" in say(chat, f"submit {upload_id}", as_=OPERATOR, room="room:b").markdown


def test_in_the_previews_space_any_operator_of_the_tenant_may_finish_it(chat):
    upload_id = preview_in(chat, "room:a")
    assert "**10** numbers stored" in say(chat, "", as_=ADMIN, room="room:a",
                                          card={"action": "submit", "upload_id": upload_id}).markdown
    other = preview_in(chat, "room:a", as_=ADMIN, first=390212346600)
    assert "no open preview" in say(chat, "cancel", as_=OPERATOR, room="room:a").markdown  # latest is per author
    assert "cancelled" in say(chat, f"cancel {other}", as_=OPERATOR, room="room:a").markdown


def test_a_card_action_for_a_card_the_bot_never_sent_is_refused(live):
    fake = live.fake
    room = fake.add_room("ops", "group")
    _, card_message = live.say(OPERATOR, room, f"upload {ROMA} +390212345600-609", mentions_bot=True)
    _, gone = live.say(OPERATOR, room, f"upload {ROMA} +390212346600-609", mentions_bot=True)
    submit = {"action": "submit", "upload_id": card_of(card_message)["actions"][0]["data"]["upload_id"]}
    before = snapshot(live.db)

    [answer] = live.press(OPERATOR, room, fake.user_message(OPERATOR, room, "hello"), submit)  # not the bot's
    assert "not for a card I sent" in answer["markdown"]
    action = fake.card_submit(OPERATOR, room, gone["id"], submit)
    fast_client(fake).sdk.messages.delete(gone["id"])  # a messageId the bot cannot find
    assert [r.status_code for r in fake.deliver_action(action)] == [202]
    live.wait_processed(action["id"])
    assert "not for a card I sent" in fake.bot_messages(room)[-1]["markdown"]
    assert snapshot(live.db) == before
    assert len(refused(live.db, OPERATOR)) == 2

    [done] = live.press(OPERATOR, room, card_message, submit)
    assert "**10** numbers stored" in done["markdown"]
