"""Signed webhook deliveries as Webex makes them: the envelope and its X-Spark-Signature."""
from __future__ import annotations

from tests.support.fakewebex.delivery import sign

__all__ = ["envelope", "sign"]


def envelope(data_id: str, resource: str = "messages", event: str = "created", **data) -> dict:
    """A webhook envelope whose `data` has `data_id` (plus `data`), as Webex posts it."""
    return {"id": "WEBHOOK-1", "name": f"leadsbot {resource}:{event}", "resource": resource,
            "event": event, "actorId": data.get("personId", "PERSON-1"),
            "data": {"id": data_id, "roomId": "ROOM-1", "personId": "PERSON-1", **data}}
