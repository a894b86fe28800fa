"""bot/telephony.py over real HTTP: status mapping, paging, timeouts, the token it is given."""
from __future__ import annotations

import socket

import pytest

from bot.telephony import WebexNumbersApi
from bot.tokens import StaticToken
from provisioning.sync.port import ConsentMissing, PermanentApiError, RateLimited, RemoteNumber, TransientApiError
from tests.support.factories import e164s
from tests.support.live import numbers_adapter

ORG, LOC = "ORG-ROMA", "LOC-MILAN"
ADD_PATH = r"/v1/telephony/config/locations/[^/]+/numbers$"


def adapter(fake, token=None, **options) -> WebexNumbersApi:
    return numbers_adapter(fake, token, **options)


def test_add_sends_the_documented_body_with_the_organization_token(fake_webex):
    result = adapter(fake_webex).add_numbers(ORG, LOC, e164s(2), "SERVICE")
    assert result.added == e164s(2) and result.refused == {}
    [post] = [r for r in fake_webex.requests if r.method == "POST"]
    assert post.path == f"/v1/telephony/config/locations/{LOC}/numbers"
    assert post.query == {"orgId": ORG}
    assert post.json == {"phoneNumbers": e164s(2), "numberType": "DID", "numberUsageType": "SERVICE",
                         "state": "ACTIVE"}
    assert post.headers["Authorization"] == f"Bearer {fake_webex.partner_token}"


def test_a_400_with_per_number_errors_refuses_those_and_adds_the_rest(fake_webex):
    numbers = e164s(3)
    fake_webex.add_live_numbers(ORG, "LOC-ROME", [numbers[0]])
    fake_webex.refuse_numbers({numbers[1]: "Number is reserved."})
    result = adapter(fake_webex).add_numbers(ORG, LOC, numbers, "NONE")
    assert result.added == [numbers[2]]
    assert result.refused == {
        numbers[0]: f"Phone number {numbers[0]} already exists in the organization. (Webex error 9677)",
        numbers[1]: "Number is reserved. (Webex error 9678)",
    }


@pytest.mark.parametrize("status, body, error, text", [
    (400, None, PermanentApiError, "[400] Injected failure"),
    (404, {"message": "Location not found."}, PermanentApiError, "[404] Location not found."),
    (500, None, TransientApiError, "[500] Internal Server Error"),
    (503, "<html>down</html>", TransientApiError, "[503] "),
])
def test_error_statuses_map_to_the_ports_exceptions(fake_webex, status, body, error, text):
    fake_webex.fail_next("POST", ADD_PATH, status, body=body)
    with pytest.raises(error) as raised:
        adapter(fake_webex).add_numbers(ORG, LOC, e164s(1), "NONE")
    assert str(raised.value).startswith(text) and len(str(raised.value)) > len("[503] ")


def test_a_token_webex_keeps_refusing_means_no_consent(fake_webex):
    with pytest.raises(ConsentMissing, match=r"^\[401\]"):
        adapter(fake_webex, token="wrong").add_numbers(ORG, LOC, e164s(1), "NONE")
    assert len([r for r in fake_webex.requests if r.method == "POST"]) == 2  # one retry with a fresh token


def test_the_bot_token_is_refused_by_telephony_endpoints(fake_webex):
    with pytest.raises(ConsentMissing, match=r"^\[403\]"):
        adapter(fake_webex, token=fake_webex.bot_token).add_numbers(ORG, LOC, e164s(1), "NONE")
    assert fake_webex.add_requests == []


@pytest.mark.parametrize("status", [423, 429])
def test_423_and_429_wait_for_retry_after(fake_webex, status):
    fake_webex.fail_next("POST", ADD_PATH, status, headers={"Retry-After": "7"})
    with pytest.raises(RateLimited) as raised:
        adapter(fake_webex).add_numbers(ORG, LOC, e164s(1), "NONE")
    assert raised.value.retry_after == 7.0 and f"({status}," in str(raised.value)


def test_per_number_errors_in_a_2xx_are_refusals_too(fake_webex):
    numbers = e164s(2)
    fake_webex.telephony.partial_status = 201
    fake_webex.add_live_numbers(ORG, "LOC-ROME", [numbers[0]])
    result = adapter(fake_webex).add_numbers(ORG, LOC, numbers, "NONE")
    assert result.added == [numbers[1]]
    assert list(result.refused) == [numbers[0]] and "already exists" in result.refused[numbers[0]]


def test_toll_free_numbers_are_sent_as_tollfree(fake_webex):
    adapter(fake_webex).add_numbers(ORG, LOC, ["+18005550100"], "NONE", "TOLLFREE")
    [add] = fake_webex.add_requests
    assert add.number_type == "TOLLFREE"


@pytest.mark.parametrize("kind", ["LOCAL_GATEWAY", "INTEGRATED_CCP"])
def test_the_pstn_connection_type_is_read_with_the_org_token(fake_webex, kind):
    fake_webex.set_pstn(ORG, LOC, kind)
    assert adapter(fake_webex).pstn_connection_type(ORG, LOC) == kind
    [get] = [r for r in fake_webex.requests if r.path.endswith("/connection")]
    assert get.path == f"/v1/telephony/pstn/locations/{LOC}/connection" and get.query == {"orgId": ORG}


@pytest.mark.parametrize("header, wait", [("9", 9.0), ("0", 1.0), ("soon", 15.0)])
def test_429_is_rate_limited_with_retry_after(fake_webex, header, wait):
    fake_webex.fail_next("GET", r"/telephony/config/numbers$", 429, headers={"Retry-After": header})
    with pytest.raises(RateLimited) as raised:
        list(adapter(fake_webex).list_numbers(ORG, LOC))
    assert raised.value.retry_after == wait


def test_listing_follows_pages(fake_webex):
    fake_webex.add_live_numbers(ORG, LOC, e164s(250))
    fake_webex.add_live_numbers(ORG, LOC, e164s(5, start=300000000), state="INACTIVE")
    fake_webex.add_live_numbers(ORG, "LOC-OTHER", e164s(7, start=400000000))
    listed = list(adapter(fake_webex, page_size=100).list_numbers(ORG, LOC))
    assert sorted(listed, key=lambda r: r.e164) == (
        [RemoteNumber(n, "ACTIVE") for n in e164s(250)]
        + [RemoteNumber(n, "INACTIVE") for n in e164s(5, start=300000000)]
    )
    gets = [r for r in fake_webex.requests if r.method == "GET"]
    assert [(r.query["start"], r.query["max"]) for r in gets] == [("0", "100"), ("100", "100"), ("200", "100")]


def test_timeouts_and_refused_connections_are_transient(fake_webex):
    fake_webex.fail_next("POST", ADD_PATH, None, delay=1.0)
    with pytest.raises(TransientApiError, match="Timeout"):
        adapter(fake_webex, timeout=0.2).add_numbers(ORG, LOC, e164s(1), "NONE")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = WebexNumbersApi(f"http://127.0.0.1:{port}/v1/", StaticToken("t"))
    with pytest.raises(TransientApiError, match="ConnectionError"):
        list(closed.list_numbers(ORG, LOC))


@pytest.mark.parametrize("shape", ["numbers", "phoneNumbers"])
def test_validate_numbers_reads_both_answer_shapes(fake_webex, shape):
    fake_webex.telephony.validate_shape = shape
    fake_webex.add_live_numbers(ORG, "LOC-ROME", [e164s(1)[0]])
    verdicts = adapter(fake_webex).validate_numbers(ORG, e164s(3), timeout=5)
    assert verdicts == {e164s(3)[0]: ("Duplicate", "DN is in use"), e164s(3)[1]: ("Available", ""),
                        e164s(3)[2]: ("Available", "")}
    [post] = [r for r in fake_webex.requests if r.method == "POST"]
    assert post.path == "/v1/telephony/config/actions/validateNumbers/invoke" and post.query == {"orgId": ORG}
    assert post.json == {"phoneNumbers": e164s(3)}


@pytest.mark.parametrize("body", [{"status": "OK"}, {"numbers": [{"odd": 1}]}, "not json"])
def test_validate_numbers_refuses_an_answer_it_does_not_understand(fake_webex, body):
    fake_webex.fail_next("POST", r"validateNumbers/invoke$", 200, body=body)
    with pytest.raises(TransientApiError):
        adapter(fake_webex).validate_numbers(ORG, e164s(2), timeout=5)
