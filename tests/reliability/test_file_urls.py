"""The bot token goes only to `{WEBEX_API_BASE_URL}contents/` (issue 16, SPEC §7): `http://webexapis.com/...`
and any path used to pass, so the token could travel over plain HTTP, and a `files` entry of
`…/v1/people/me` was fetched with the token and partly echoed."""
from __future__ import annotations

import pytest

from bot.webex_client import WebexClient
from provisioning.errors import UserError
from tests.reliability.conftest import ROMA
from tests.support.live import OPERATOR, fast_client

REFUSED = "not a Webex file"


def requests_to(fake, path: str) -> int:
    return sum(1 for r in fake.requests if r.path.rstrip("/") == path)


def test_only_urls_under_the_bases_contents_get_the_token(fake_webex):
    base = fake_webex.base_url  # http://127.0.0.1:PORT/v1/ : the tests' base is plain http
    client = fast_client(fake_webex)
    room = fake_webex.add_room("ops", "direct")
    [good] = fake_webex.user_message(OPERATOR, room, "import", files=[("n.csv", b"Number\n", "text/csv")])["files"]
    assert client.download(good, 100) == b"Number\n"
    content_id = good.rsplit("/", 1)[1]
    port_less = base.replace("127.0.0.1", "localhost")
    for url in (f"{base}people/me", f"{base}contents/../people/me", f"{base}contents/%2e%2e/people/me",
                f"{base}contents/", f"{base}contents/{content_id}?max=1", f"{base}contents/{content_id}#x",
                f"{base}contentsX/{content_id}", f"{base.replace('/v1/', '/v2/')}contents/{content_id}",
                f"{port_less}contents/{content_id}", base.replace("http://", "https://") + f"contents/{content_id}",
                f"http://user:pw@{base[len('http://'):]}contents/{content_id}", f"{base}contents/a b"):
        before = len(fake_webex.requests)
        for call in (lambda: client.download(url, 100), lambda: client.file_info(url)):
            with pytest.raises(UserError, match=REFUSED):
                call()
        assert len(fake_webex.requests) == before, url  # refused before any request


@pytest.mark.parametrize("url", [
    "http://webexapis.com/v1/contents/Y2lzY29zcGFyazovL3VzL0NPTlRFTlQvMQ",  # plain HTTP in production
    "https://webexapis.com/v1/people/me",
    "https://webexapis.com/v1/contents/../people/me",
    "https://api.ciscospark.com/v1/contents/Y2lzY29zcGFyazovL3VzL0NPTlRFTlQvMQ",
    "https://webexapis.com.evil.example/v1/contents/Y2lzY29zcGFyazovL3VzL0NPTlRFTlQvMQ",
])
def test_in_production_only_https_webexapis_contents_is_fetched(url):
    client = WebexClient("secret-bot-token")  # the default base, https://webexapis.com/v1/
    with pytest.raises(UserError, match=REFUSED):
        client.download(url, 100)  # refused before any network access (there is none here)
    client._check_file_url("https://webexapis.com/v1/contents/Y2lzY29zcGFyazovL3VzL0NPTlRFTlQvMQ")


def test_a_message_pointing_its_files_at_people_me_fetches_and_echoes_nothing(live):
    fake = live.fake
    room = fake.add_room("ops", "direct")
    live.say(OPERATOR, room, "help")  # the bot has looked itself up once already
    looked_up = requests_to(fake, "/v1/people/me")
    author = fake.state.ensure_person(OPERATOR)
    message = fake.state.create_message(author, fake.state.room(room), text=f"import {ROMA}",
                                        file_urls=[f"{fake.base_url}people/me"])
    assert [r.status_code for r in fake.deliver_message(message)] == [202]
    live.wait_processed(message["id"])
    [reply] = fake.bot_messages(room)[-1:]
    assert REFUSED in reply["markdown"]
    assert requests_to(fake, "/v1/people/me") == looked_up
    bot = fake.state.bot
    assert bot["id"] not in reply["markdown"] and bot["displayName"] not in reply["markdown"]
