"""Create or repair the bot's webhooks (`leadsbot webhooks register URL`).

The bot's token owns `messages:created` and `attachmentActions:created`; with a Service App
configured, the token manager integration's token owns `serviceApp` `authorized` and
`deauthorized` (so consent changes arrive at once, SPEC §5.1).

Running it again is safe: a webhook for the same resource and event that already points at
URL (or carries our name, e.g. from an older public URL) is updated in place with the
secret and `status: active`, which also re-activates one Webex disabled after failures.
Other copies at URL, filtered ones, and ours left at an old URL are deleted, so each event
arrives once; webhooks with other names at other URLs are left alone.
"""
from __future__ import annotations

import logging

from bot.tokens import ServiceAppTokens, token_source
from bot.webex_client import WebexClient
from provisioning.settings import Settings

log = logging.getLogger(__name__)

WEBHOOKS = (("messages", "created"), ("attachmentActions", "created"))
SERVICE_APP_WEBHOOKS = (("serviceApp", "authorized"), ("serviceApp", "deauthorized"))
NAME_PREFIX = "leadsbot"


def webhook_name(resource: str, event: str) -> str:
    return f"{NAME_PREFIX} {resource}:{event}"


def register_webhooks(webex: WebexClient, url: str, secret: str,
                      events: tuple[tuple[str, str], ...] = WEBHOOKS) -> list[str]:
    """Ensure one active, signed webhook per event of `events` at `url`; returns their IDs."""
    if not secret:
        raise ValueError("a webhook secret is required (WEBEX_WEBHOOK_SECRET)")
    api = webex.sdk
    existing = [hook.to_dict() for hook in api.webhooks.list()]
    ids = []
    for resource, event in events:
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


def register_service_app_webhooks(settings: Settings, url: str) -> list[str]:
    """The serviceApp webhooks, owned by the token manager integration; none without a Service App."""
    tokens = token_source(settings)
    if not isinstance(tokens, ServiceAppTokens):
        return []
    manager = WebexClient(tokens.manager_token(), settings.webex_api_base_url)
    return register_webhooks(manager, url, settings.webex_webhook_secret, SERVICE_APP_WEBHOOKS)
