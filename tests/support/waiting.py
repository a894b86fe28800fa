"""Waiting for background work (inbox threads, other processes), which has no other signal."""
from __future__ import annotations

import threading
from typing import Callable


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll until `predicate` holds or `timeout` passes; no timing is asserted."""
    pause = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return True
        pause.wait(0.02)
    return predicate()
