"""A fake Webex cloud (REST API over real HTTP on 127.0.0.1) for end-to-end tests."""

from .delivery import sign
from .faults import RecordedRequest
from .server import DEFAULT_TOKEN, FakeWebex
from .telephony import AddRequest

__all__ = ["DEFAULT_TOKEN", "AddRequest", "FakeWebex", "RecordedRequest", "sign"]
