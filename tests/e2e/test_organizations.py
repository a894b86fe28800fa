"""Customers' organizations end to end (SPEC §5.1–5.2): the running bot with a Service App against
the fake Webex over real HTTP — consent arriving and withdrawn, the PSTN guard, toll-free numbers
and Webex's own number check in the preview."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.outbox import flush_outbox
from bot.service_app import event_key
from provisioning.services import Services
from provisioning.sync.engine import run_due_sync
from store.models import Number, OrganizationConsent, OutboxMessage
from tests.support.live import ADMIN, LiveBot, fast_client, service_app_settings
from tests.support.processes import SECRET

ROMA, BAGELS, FROMAGERIE = "ORG-ROMA", "ORG-BAGELS", "ORG-FROMAGERIE"
UPLOAD_ROMA = "upload roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center "
UPLOAD_BAGELS = "upload bagels-cc profile=CC-Default sip=PSTN-NewYork type=service "
VALIDATE_PATH = r"/telephony/config/actions/validateNumbers/invoke$"


@pytest.fixture
def org_bot(make_live, fake_webex) -> LiveBot:
    """The bot with a Service App configured: consent is whatever Webex says."""
    return make_live(**service_app_settings(fake_webex), sync_batch_size=50)


def service_app_event(bot: LiveBot, event: str, org: str) -> str:
    """Webex delivering a serviceApp event to the bot; waits until it is processed."""
    response = bot.fake.deliver_service_app(event, org)
    assert response.status_code == 202
    key = event_key(bot.fake.deliveries[-1].body)
    assert bot.wait_processed(key) == "done"
    return key


def sync(bot: LiveBot):
    return run_due_sync(bot.db, bot.numbers_api, bot.settings, worker_id="e2e-worker")


def sent(bot: LiveBot, room: str) -> list[str]:
    """Flush the outbox to the fake and return the bot's messages in `room`."""
    flush_outbox(Services(bot.db, bot.settings), fast_client(bot.fake))
    return [m["markdown"] for m in bot.fake.bot_messages(room)]


def consent_state(bot: LiveBot, org: str) -> str | None:
    with bot.db.sessions() as session:
        return session.scalar(select(OrganizationConsent.state).where(OrganizationConsent.org_id == org))


def states(bot: LiveBot) -> dict[str, int]:
    with bot.db.sessions() as session:
        found: dict[str, int] = {}
        for state in session.scalars(select(Number.sync_state)):
            found[state] = found.get(state, 0) + 1
        return found


def consent_now(bot: LiveBot, org: str) -> None:
    bot.fake.authorize(org)
    service_app_event(bot, "authorized", org)
    assert consent_state(bot, org) == "consented"


def test_consent_arrives_with_the_authorized_event_and_the_space_is_told(org_bot):
    bot = org_bot
    room = bot.fake.add_room("ops", "direct")
    bot.say(ADMIN, room, "tenant Acme SP")
    bot.say(ADMIN, room, "digest daily 09:00")
    [status] = bot.say(ADMIN, room, "status lyon-cc")
    assert "**Pending Consent**" in status["markdown"]
    [refused] = bot.say(ADMIN, room, "upload lyon-cc profile=CC-Default sip=PSTN-Milan type=service +33142685300")
    assert "Pending Consent" in refused["markdown"]

    bot.fake.authorize(FROMAGERIE)
    key = service_app_event(bot, "authorized", FROMAGERIE)

    assert consent_state(bot, FROMAGERIE) == "consented"
    assert "✅ `Lyon Fromagerie` consented: `lyon-cc` can sync" in sent(bot, room)
    [status] = bot.say(ADMIN, room, "status lyon-cc")
    assert "**Pending Provisioning**" in status["markdown"] and "Consented never" not in status["markdown"]
    again = bot.fake.deliver(bot.fake.deliveries[-1].body, url=bot.url, secret=SECRET)  # Webex redelivers the same body
    assert again.status_code == 202 and again.json()["duplicate"] is True and key.startswith("serviceApp:")
    assert bot.fake.orgauth.token_requests == [FROMAGERIE]  # asked once, by the event


def test_a_service_app_not_yet_authorized_leaves_the_service_pending_and_pushes_nothing(org_bot):
    bot = org_bot
    room = bot.fake.add_room("ops", "direct")
    bot.say(ADMIN, room, "tenant Acme SP")
    service_app_event(bot, "authorized", ROMA)  # an event, but Webex still says 403 for the org

    assert consent_state(bot, ROMA) == "pending"
    [status] = bot.say(ADMIN, room, "status roma-cc")
    assert "**Pending Consent**" in status["markdown"]
    assert "Last error: waiting for the customer's consent: the organization's admin has not authorized" \
        in status["markdown"]
    assert bot.fake.add_requests == []


def test_consent_withdrawn_mid_sync_loses_nothing_and_sync_resumes(org_bot):
    bot = org_bot
    consent_now(bot, ROMA)
    room = bot.fake.add_room("ops", "direct")
    bot.say(ADMIN, room, "tenant Acme SP")
    bot.say(ADMIN, room, UPLOAD_ROMA + "+390222000000-099")
    [done] = bot.say(ADMIN, room, "submit")
    assert "submitted" in done["markdown"]

    original = bot.numbers_api.add_numbers

    def withdrawn_after_first_batch(*args, **kwargs):
        result = original(*args, **kwargs)
        bot.fake.deauthorize(ROMA)  # the admin withdraws it in Control Hub; no webhook yet
        return result

    bot.numbers_api.add_numbers = withdrawn_after_first_batch
    report = sync(bot)
    bot.numbers_api.add_numbers = original

    assert report.add_requests == 1 and report.paused == 1 and report.failed == 0  # the 2nd was refused
    assert states(bot) == {"pushed": 50, "pending": 50}  # the refused batch is still to be sent
    assert consent_state(bot, ROMA) == "pending"
    [status] = bot.say(ADMIN, room, "status roma-cc")
    assert "**Pending Consent**" in status["markdown"]
    told = sent(bot, room)
    withdrawn = "⏸ `Pizzeria Roma S.p.A.` withdrew consent: `roma-cc` is Pending Consent"
    assert sum(m.startswith(withdrawn) for m in told) == 1
    service_app_event(bot, "deauthorized", ROMA)  # the event arrives late: told once only
    assert sum("withdrew consent" in m for m in sent(bot, room)) == 1

    assert sync(bot).add_requests == 0  # paused: nothing is sent while consent is missing

    consent_now(bot, ROMA)
    sync(bot)
    assert states(bot) == {"live": 100}
    posted = [n for request in bot.fake.add_requests for n in request.phone_numbers]
    assert len(posted) == len(set(posted)) == 100  # each number accepted once: the refused batch was resent
    messages = sent(bot, room)
    assert "✅ `roma-cc` is Ready: 100 numbers live in Webex" in messages
    assert "✅ `Pizzeria Roma S.p.A.` consented: `roma-cc` can sync" in messages  # the service it uploaded to


def test_an_integrated_ccp_location_gets_nothing_and_the_reason_names_the_type(org_bot):
    bot = org_bot
    consent_now(bot, BAGELS)
    bot.fake.set_pstn(BAGELS, "LOC-NEWYORK", "INTEGRATED_CCP")
    room = bot.fake.add_room("ops", "direct")
    bot.say(ADMIN, room, "tenant Acme SP")
    bot.say(ADMIN, room, UPLOAD_BAGELS + "+12127881500-1509")
    bot.say(ADMIN, room, "submit")

    report = sync(bot)

    assert report.failed == 1 and bot.fake.add_requests == []
    [status] = bot.say(ADMIN, room, "status bagels-cc")
    assert "**Sync Failed**" in status["markdown"] and "INTEGRATED_CCP" in status["markdown"]
    assert any("INTEGRATED_CCP" in m for m in sent(bot, room))


def test_a_toll_free_number_is_added_as_tollfree_with_service_usage(org_bot):
    bot = org_bot
    consent_now(bot, BAGELS)
    room = bot.fake.add_room("ops", "direct")
    bot.say(ADMIN, room, "tenant Acme SP")
    bot.say(ADMIN, room, UPLOAD_BAGELS + "+18002345678, +12127881600")
    bot.say(ADMIN, room, "submit")

    sync(bot)

    kinds = {(a.number_type, a.number_usage_type, tuple(a.phone_numbers)) for a in bot.fake.add_requests}
    assert kinds == {("TOLLFREE", "SERVICE", ("+18002345678",)), ("DID", "SERVICE", ("+12127881600",))}
    assert states(bot) == {"live": 2}


def test_the_preview_reports_a_number_webex_says_is_in_use_and_refuses_mobiles(org_bot):
    bot = org_bot
    consent_now(bot, ROMA)
    bot.fake.add_live_numbers(ROMA, "LOC-TURIN", ["+390222000005"])  # in use elsewhere in the org
    room = bot.fake.add_room("ops", "direct")
    bot.say(ADMIN, room, "tenant Acme SP")

    preview = bot.say(ADMIN, room, UPLOAD_ROMA + "+390222000000-009, +393123456789")[0]["markdown"]

    assert "**9** valid numbers" in preview and "**2** invalid" in preview
    assert "Webex says Duplicate: `DN is in use`" in preview
    assert "mobile number" in preview
    assert "Checked with the customer's Webex" in preview
    [check] = [r for r in bot.fake.requests if r.path.endswith("validateNumbers/invoke")]
    assert check.query == {"orgId": ROMA} and len(check.json["phoneNumbers"]) == 10


@pytest.mark.parametrize("fault", [
    {"status": 503},
    {"status": 200, "body": "<html>not json</html>"},
    {"status": 200, "body": {"unexpected": True}},
])
def test_a_failing_or_odd_validate_numbers_never_fails_the_preview(org_bot, fault):
    bot = org_bot
    consent_now(bot, ROMA)
    bot.fake.fail_next("POST", VALIDATE_PATH, **fault)
    room = bot.fake.add_room("ops", "direct")
    bot.say(ADMIN, room, "tenant Acme SP")

    preview = bot.say(ADMIN, room, UPLOAD_ROMA + "+390222000000-009")[0]["markdown"]

    assert "**10** valid numbers" in preview and "Checked locally only" in preview


def test_the_other_validate_numbers_answer_shape_is_understood(org_bot):
    bot = org_bot
    consent_now(bot, ROMA)
    bot.fake.telephony.validate_shape = "phoneNumbers"
    bot.fake.add_live_numbers(ROMA, "LOC-TURIN", ["+390222000001"])
    room = bot.fake.add_room("ops", "direct")
    bot.say(ADMIN, room, "tenant Acme SP")

    preview = bot.say(ADMIN, room, UPLOAD_ROMA + "+390222000000-002")[0]["markdown"]

    assert "**2** valid numbers" in preview and "DN is in use" in preview


def test_the_bot_token_never_reaches_a_telephony_endpoint(org_bot):
    bot = org_bot
    consent_now(bot, ROMA)
    room = bot.fake.add_room("ops", "direct")
    bot.say(ADMIN, room, "tenant Acme SP")
    bot.say(ADMIN, room, UPLOAD_ROMA + "+390222000000-009")
    bot.say(ADMIN, room, "submit")
    sync(bot)

    telephony = [r for r in bot.fake.requests if "/telephony/" in r.path]
    assert telephony and all(r.headers["Authorization"] != f"Bearer {bot.fake.bot_token}" for r in telephony)
    assert all(r.headers["Authorization"].startswith("Bearer fake-org-token-") for r in telephony)
    with bot.db.sessions() as session:
        stored = " ".join(session.scalars(select(OutboxMessage.markdown)))
    assert "fake-org-token" not in stored
