"""`cancel`: drop a preview; nothing of it is stored."""
from __future__ import annotations

from handlers.base import Reply
from handlers.registry import Args, Command, Context
from handlers.submit import upload_id
from provisioning.text import NAME_LIMIT, literal
from provisioning.uploads.submission import cancel


def run(ctx: Context, args: Args) -> Reply:
    summary = cancel(ctx.services.db, ctx.actor, ctx.request.room_id, upload_id(args), settings=ctx.services.settings)
    nothing = "nothing was released" if summary.kind == "release" else "nothing was stored"
    return Reply(f"Preview #{summary.upload_id} for {literal(summary.service, NAME_LIMIT)} cancelled: {nothing}.")


COMMAND = Command(
    name="cancel",
    usage="cancel [UPLOAD-ID]",
    summary="drop a preview (without an ID: your latest preview in this space)",
    examples=("cancel", "cancel 12"),
    run=run,
)
