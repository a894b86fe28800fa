"""Create or repair the bot's two webhooks (`leadsbot webhooks register URL`).

Running it again is safe: a webhook for the same resource and event that already points at
URL (or carries our name, e.g. from an older public URL) is updated in place with the
secret and `status: active`, which also re-activates one Webex disabled after failures.
Other copies at URL, filtered ones, and ours left at an old URL are deleted, so each event
arrives once; webhooks with other names at other URLs are left alone.
"""
from __future__ import annotations

import logging

from bot.webex_client import WebexClient

log = logging.getLogger(__name__)

WEBHOOKS = (("messages", "created"), ("attachmentActions", "created"))
NAME_PREFIX = "leadsbot"


def webhook_name(resource: str, event: str) -> str:
    return f"{NAME_PREFIX} {resource}:{event}"


def register_webhooks(webex: WebexClient, url: str, secret: str) -> list[str]:
    """Ensure one active, signed webhook per event at `url`; returns their IDs."""
    if not secret:
        raise ValueError("a webhook secret is required (WEBEX_WEBHOOK_SECRET)")
    api = webex.sdk
    existing = [hook.to_dict() for hook in api.webhooks.list()]
    ids = []
    for resource, event in WEBHOOKS:
        name = webhook_name(resource, event)
        same_event = [h for h in existing if h.get("resource") == resource and h.get("event") == event]
        at_url = [h for h in same_event if h.get("targetUrl") == url]
        named = [h for h in same_event if h.get("name") == name and h.get("targetUrl") != url]
        # A filter cannot be changed in place, and the bot must see every event.
        usable = [h for h in at_url + named if not h.get("filter")]
        keep = usable[0] if usable else None
        for stale in at_url + named:
            if stale is not keep:
                api.webhooks.delete(stale["id"])
                log.info("deleted duplicate, stale or filtered webhook %s", stale["id"])
        if keep is None:
            hook = api.webhooks.create(name=name, targetUrl=url, resource=resource, event=event,
                                       secret=secret)
            log.info("created webhook %s", name)
            ids.append(hook.id)
            continue
        api.webhooks.update(keep["id"], name=name, targetUrl=url, secret=secret, status="active")
        log.info("updated webhook %s (was %s)", name, keep.get("status", "unknown"))
        ids.append(keep["id"])
    return ids
