"""How long to wait before trying failed background work again: exponential, capped, jittered.

One policy for everything that retries (webhook events, outbox messages, sync tasks, Webex
calls), so "attempt 3" means the same wait everywhere. Half the delay is fixed and half is
random ("equal jitter"), so retries after a shared outage spread out but never come early.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    """`base` seconds after the first failure, doubling per attempt, never above `cap`."""

    base: float
    cap: float
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (counting from 1)."""
        ceiling = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def after(self, seconds: float) -> float:
        """A wait the server asked for (Retry-After), plus up to 10% so waiting clients spread out."""
        return max(seconds, 0.001) * (1 + self.rng.uniform(0, 0.1))
