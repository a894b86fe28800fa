"""Bounded retries for Webex calls: 429 honours Retry-After, 5xx and timeouts back off.

The SDK's own rate-limit loop never gives up, so the client turns it off and uses this
instead; every wait is capped so one stuck call cannot hold an inbox worker for long.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import requests
from webexpythonsdk.exceptions import ApiError, RateLimitError

from provisioning.backoff import Backoff

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one Webex call."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    _backoff: Backoff = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_backoff", Backoff(self.base_delay, self.max_delay))

    def backoff(self, attempt: int) -> float:
        """Seconds before try `attempt + 1` (attempt counts from 1)."""
        return self._backoff.delay(attempt)


def retry_after_seconds(value: str | None, *, default: float, floor: float = 0.0, cap: float = math.inf) -> float:
    """A Retry-After header in seconds (`default` when absent or not a number), kept within [floor, cap]."""
    try:
        seconds = float(value) if value is not None else default
    except ValueError:
        seconds = default
    if not math.isfinite(seconds):
        seconds = default
    return max(floor, min(cap, seconds))


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: rate limits, server errors, timeouts and dropped connections."""
    if isinstance(exc, ApiError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, (requests.Timeout, requests.ConnectionError))


def retry_after(exc: BaseException, policy: RetryPolicy, attempt: int) -> float:
    """Seconds to wait before the next try: Webex's Retry-After when it gave one."""
    if isinstance(exc, RateLimitError):
        return min(policy.max_delay, float(exc.retry_after))
    return policy.backoff(attempt)


def call(fn: Callable[[], T], policy: RetryPolicy, what: str,
         sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `fn`, retrying transient failures up to `policy.attempts` times in all."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt >= policy.attempts or not is_transient(exc):
                raise
            delay = retry_after(exc, policy, attempt)
            log.warning("%s failed (%s); retry %d/%d in %.1fs", what, describe(exc),
                        attempt, policy.attempts - 1, delay)
            sleep(delay)
    raise AssertionError("unreachable")


def describe(exc: BaseException) -> str:
    """A log-safe description: status and Webex's message, never headers or URLs with tokens."""
    if isinstance(exc, ApiError):
        return f"HTTP {exc.status_code} {exc.message or exc.description or ''}".strip()
    return type(exc).__name__
