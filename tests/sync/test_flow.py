"""The whole path: chat upload + submit (the handlers), sync over HTTP, then `status`."""
from __future__ import annotations

from bot.telephony import WebexNumbersApi
from handlers import Request, Services, dispatch
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from provisioning.settings import Settings
from provisioning.sync.engine import run_due_sync
from tests.support.live import numbers_adapter
from tests.sync.helpers import outbox

ADMIN = "ops@acme.example"
ROOM = "room:sync-flow"
UPLOAD = "upload roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center +390222000000-099"


def _say(services: Services, text: str) -> str:
    return dispatch(services, Request(email=ADMIN, room_id=ROOM, text=text)).markdown


def _submitted(db) -> Services:
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    services = Services(db=db, settings=Settings())
    _say(services, "tenant Acme SP")
    _say(services, UPLOAD)
    _say(services, "submit")
    return services


def _api(fake) -> WebexNumbersApi:
    return numbers_adapter(fake)


def test_submitted_upload_syncs_to_ready_and_status_shows_it(db, fake_webex):
    services = _submitted(db)
    assert "Syncing" in _say(services, "status roma-cc")

    report = run_due_sync(db, _api(fake_webex), services.settings, worker_id="flow")

    assert report.add_requests == 1 and report.live == 100
    [add] = fake_webex.add_requests
    assert (add.org_id, add.location_id, add.number_usage_type) == ("ORG-ROMA", "LOC-MILAN", "SERVICE")
    assert [(m.room_id, m.markdown) for m in outbox(db)] == [
        (ROOM, "✅ `roma-cc` is Ready: 100 numbers live in Webex")]
    assert "Ready" in _say(services, "status roma-cc")


def test_a_failed_sync_shows_in_status_with_its_reason(db, fake_webex):
    services = _submitted(db)
    fake_webex.fail_next("POST", r"/telephony/config/locations/[^/]+/numbers$", 403,
                         body={"message": "The org is not entitled to Webex Calling."})

    run_due_sync(db, _api(fake_webex), services.settings, worker_id="flow")

    status = _say(services, "status roma-cc")
    assert "Sync Failed" in status
    assert "[403] The org is not entitled to Webex Calling." in status
    assert ROOM in [m.room_id for m in outbox(db)]
