"""A scripted, in-memory NumbersApi: Webex locations as dicts, failures on demand."""
from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Iterator

from provisioning.sync.port import AddResult, RemoteNumber


class SimulatedCrash(BaseException):
    """The worker process dies here (BaseException: the engine must not catch it)."""


@dataclass(frozen=True)
class AddCall:
    org_id: str
    location_id: str
    numbers: tuple[str, ...]
    usage: str
    kind: str = "DID"


class FakeNumbersApi:
    """Thread-safe fake of Webex's numbers API for engine unit tests."""

    def __init__(self, activate_on_add: bool = True) -> None:
        self.activate_on_add = activate_on_add
        self.lock = threading.Lock()
        self.locations: dict[tuple[str, str], dict[str, str]] = {}
        self.refusals: dict[str, str] = {}
        self.add_calls: list[AddCall] = []
        self.list_calls = 0
        self.pstn: dict[tuple[str, str], str] = {}
        self.pstn_calls = 0
        self._script: dict[str, deque] = {"add": deque(), "list": deque(), "pstn": deque()}
        self._crash: tuple[int, bool] | None = None

    # scripting ------------------------------------------------------------------------------
    def fail_next(self, operation: str, error: BaseException, times: int = 1) -> None:
        """The next `times` calls of `operation` ("add", "list" or "pstn") raise `error`."""
        with self.lock:
            self._script[operation].extend([error] * times)

    def crash_on_add(self, call_number: int, *, after_accept: bool = False) -> None:
        """Die during add call `call_number` (1-based): before sending, or after Webex took it."""
        self._crash = (call_number, after_accept)

    def show(self, org_id: str, location_id: str, numbers: list[str], state: str = "ACTIVE") -> None:
        """The customer adds numbers in Control Hub."""
        with self.lock:
            self.locations.setdefault((org_id, location_id), {}).update(dict.fromkeys(numbers, state))

    # observations ---------------------------------------------------------------------------
    def post_counts(self) -> Counter:
        """How many times each number was sent in an add call."""
        with self.lock:
            return Counter(n for call in self.add_calls for n in call.numbers)

    # NumbersApi -----------------------------------------------------------------------------
    def pstn_connection_type(self, org_id: str, location_id: str) -> str:
        with self.lock:
            self.pstn_calls += 1
            if self._script.get("pstn"):
                raise self._script["pstn"].popleft()
            return self.pstn.get((org_id, location_id), "LOCAL_GATEWAY")

    def add_numbers(self, org_id: str, location_id: str, numbers: list[str], usage: str,
                    kind: str = "DID") -> AddResult:
        with self.lock:
            if self._script["add"]:
                raise self._script["add"].popleft()
            call_number = len(self.add_calls) + 1
            crash = self._crash is not None and self._crash[0] == call_number
            if crash and not self._crash[1]:
                self._crash = None
                raise SimulatedCrash(f"killed before add call {call_number}")
            self.add_calls.append(AddCall(org_id, location_id, tuple(numbers), usage, kind))
            refused = {}
            here = self.locations.setdefault((org_id, location_id), {})
            for number in numbers:
                if number in self.refusals:
                    refused[number] = self.refusals[number]
                elif any(number in nums for (org, _), nums in self.locations.items() if org == org_id):
                    refused[number] = f"Phone number {number} already exists in the organization."
                else:
                    here[number] = "ACTIVE" if self.activate_on_add else "INACTIVE"
            if crash:
                self._crash = None
                raise SimulatedCrash(f"killed after add call {call_number} was accepted")
            return AddResult([n for n in numbers if n not in refused], refused)

    def list_numbers(self, org_id: str, location_id: str) -> Iterator[RemoteNumber]:
        with self.lock:
            self.list_calls += 1
            if self._script["list"]:
                raise self._script["list"].popleft()
            snapshot = dict(self.locations.get((org_id, location_id), {}))
        for number, state in sorted(snapshot.items()):
            yield RemoteNumber(number, state)
