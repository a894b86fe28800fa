"""`digest`: subscribe this space to a daily status digest, or stop it."""
from __future__ import annotations

import re

from sqlalchemy import delete, select

from handlers.base import Reply
from handlers.registry import Args, Context, UsageError, command
from provisioning.directory import audit
from store.models import DigestSubscription

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@command(
    name="digest",
    usage="digest daily HH:MM | digest off",
    summary="a daily status digest of the tenant's services in this space (time in UTC), or stop it",
    examples=("digest daily 08:30", "digest off"),
)
def digest(ctx: Context, args: Args) -> Reply:
    words = [w.lower() for w in args.positional]
    room_id = ctx.request.room_id
    actor = ctx.actor
    with ctx.services.db.sessions.begin() as session:
        if words == ["off"]:
            removed = session.execute(delete(DigestSubscription).where(DigestSubscription.room_id == room_id)).rowcount
            audit(session, actor.email, "digest.off", "", tenant_id=actor.tenant_id, room_id=room_id)
            return Reply("Daily digest stopped for this space." if removed else "This space had no daily digest.")
        match = _TIME.match(words[1]) if len(words) == 2 and words[0] == "daily" else None
        if match is None:
            raise UsageError("Say `digest daily HH:MM` (24-hour UTC time) or `digest off`.")
        time_of_day = f"{int(match.group(1)):02d}:{match.group(2)}"
        subscription = session.scalar(select(DigestSubscription).where(DigestSubscription.room_id == room_id))
        if subscription is None:
            subscription = DigestSubscription(room_id=room_id)
            session.add(subscription)
        subscription.tenant_id = actor.tenant_id
        subscription.operator_id = actor.operator_id
        subscription.time_of_day = time_of_day
        audit(session, actor.email, "digest.daily", time_of_day, tenant_id=actor.tenant_id, room_id=room_id)
    return Reply(f"Every day at {time_of_day} UTC I'll post the status of {actor.tenant_name}'s services here.")
