"""bot/telephony.py's remove over real HTTP to the fake Webex: the documented request and how
each answer maps to the port (SPEC §5.3)."""
from __future__ import annotations

import pytest

from bot.telephony import WebexNumbersApi
from bot.tokens import StaticToken
from provisioning.sync.port import ConsentMissing, RateLimited, TransientApiError
from tests.support.live import numbers_adapter

ORG, LOC = "ORG-ROMA", "LOC-MILAN"
PATH = r"/v1/telephony/config/locations/[^/]+/numbers$"
NUMBERS = ["+390212345600", "+390212345601", "+390212345602"]


def test_remove_sends_the_documented_delete_and_the_numbers_are_no_longer_listed(fake_webex):
    fake_webex.add_live_numbers(ORG, LOC, NUMBERS)
    result = numbers_adapter(fake_webex).remove_numbers(ORG, LOC, NUMBERS[:2])
    assert result.removed == NUMBERS[:2] and result.refused == {} and not result.whole
    [delete] = [r for r in fake_webex.requests if r.method == "DELETE"]
    assert delete.path == f"/v1/telephony/config/locations/{LOC}/numbers" and delete.query == {"orgId": ORG}
    assert delete.json == {"phoneNumbers": NUMBERS[:2]}
    assert delete.headers["Authorization"] == f"Bearer {fake_webex.partner_token}"
    assert [n.e164 for n in numbers_adapter(fake_webex).list_numbers(ORG, LOC)] == [NUMBERS[2]]


def test_a_refused_request_refuses_every_number_with_webex_message(fake_webex):
    fake_webex.add_live_numbers(ORG, LOC, NUMBERS)
    fake_webex.set_main_number(ORG, LOC, NUMBERS[1])
    result = numbers_adapter(fake_webex).remove_numbers(ORG, LOC, NUMBERS)
    assert result.whole and result.removed == [] and set(result.refused) == set(NUMBERS)
    assert "main number cannot be removed" in result.refused[NUMBERS[1]]
    assert len(fake_webex.numbers_of(ORG, LOC)) == 3  # all or nothing, like Webex


def test_a_single_number_not_in_the_location_counts_as_removed(fake_webex):
    fake_webex.add_location(ORG, LOC)
    assert numbers_adapter(fake_webex).remove_numbers(ORG, LOC, [NUMBERS[0]]).removed == [NUMBERS[0]]


@pytest.mark.parametrize("status, error", [(500, TransientApiError),
                                           (423, RateLimited), (403, ConsentMissing)])
def test_error_statuses_map_to_the_ports_exceptions(fake_webex, status, error):
    fake_webex.fail_next("DELETE", PATH, status)
    with pytest.raises(error):
        numbers_adapter(fake_webex).remove_numbers(ORG, LOC, NUMBERS[:1])


def test_429_is_rate_limited_with_retry_after(fake_webex):
    fake_webex.fail_next("DELETE", PATH, 429, headers={"Retry-After": "7"})
    with pytest.raises(RateLimited) as raised:
        numbers_adapter(fake_webex).remove_numbers(ORG, LOC, NUMBERS[:1])
    assert raised.value.retry_after == 7


def test_the_bot_token_is_refused_on_delete_and_nothing_is_removed(fake_webex):
    fake_webex.add_live_numbers(ORG, LOC, NUMBERS)
    bot_token = WebexNumbersApi(fake_webex.base_url, StaticToken(fake_webex.bot_token))
    with pytest.raises(ConsentMissing, match=r"^\[403\]"):
        bot_token.remove_numbers(ORG, LOC, NUMBERS[:1])
    assert fake_webex.remove_requests == [] and len(fake_webex.numbers_of(ORG, LOC)) == 3


def test_an_org_token_removes_only_in_its_own_org(fake_webex):
    fake_webex.add_live_numbers(ORG, LOC, NUMBERS)
    fake_webex.add_live_numbers("ORG-OTHER", LOC, NUMBERS)
    fake_webex.orgauth.authorize(ORG)
    fake_webex.orgauth.authorize("ORG-OTHER")
    token = fake_webex.orgauth.issue("org", ORG)
    with pytest.raises(ConsentMissing, match=r"^\[403\]"):
        numbers_adapter(fake_webex, token).remove_numbers("ORG-OTHER", LOC, NUMBERS[:1])
    assert len(fake_webex.numbers_of("ORG-OTHER", LOC)) == 3
    assert numbers_adapter(fake_webex, token).remove_numbers(ORG, LOC, NUMBERS[:1]).removed == NUMBERS[:1]
    assert [n.e164 for n in numbers_adapter(fake_webex).list_numbers(ORG, LOC)] == NUMBERS[1:]
