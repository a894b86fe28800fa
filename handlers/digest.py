"""`digest`: subscribe this space to a daily status digest, or stop it."""
from __future__ import annotations

import re

from handlers.base import Reply
from handlers.registry import Args, Command, Context, UsageError
from provisioning.leads.digests import subscribe, unsubscribe
from provisioning.text import NAME_LIMIT, literal

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def run(ctx: Context, args: Args) -> Reply:
    words = [w.lower() for w in args.positional]
    room_id = ctx.request.room_id
    if words == ["off"]:
        stopped = unsubscribe(ctx.services.db, ctx.actor, room_id)
        return Reply("Daily digest stopped for this space." if stopped else "This space had no daily digest.")
    match = _TIME.match(words[1]) if len(words) == 2 and words[0] == "daily" else None
    if match is None:
        raise UsageError("Say `digest daily HH:MM` (24-hour UTC time) or `digest off`.")
    time_of_day = f"{int(match.group(1)):02d}:{match.group(2)}"
    subscribe(ctx.services.db, ctx.actor, room_id, time_of_day)
    return Reply(f"Every day at {time_of_day} UTC I'll post the status of the services of tenant "
                 f"{literal(ctx.actor.tenant_name, NAME_LIMIT)} here.")


COMMAND = Command(
    name="digest",
    usage="digest daily HH:MM | digest off",
    summary="a daily status digest of the tenant's services in this space (time in UTC), or stop it",
    examples=("digest daily 08:30", "digest off"),
    run=run,
)
