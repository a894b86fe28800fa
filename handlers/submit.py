"""`submit` and `cancel`: finish a preview, all or nothing."""
from __future__ import annotations

from handlers.base import Reply
from handlers.registry import Args, Context, UsageError, command
from provisioning.uploads import cancel as cancel_upload
from provisioning.uploads import submit as submit_upload

MAX_ID = 2**31 - 1  # the largest upload ID the uploads table can hold


def upload_id(args: Args) -> int | None:
    if not args.positional:
        return None
    raw = args.positional[0].lstrip("#")
    if len(args.positional) > 1 or not raw.isdigit() or not raw.isascii() or len(raw) > 10 or int(raw) > MAX_ID:
        raise UsageError(f"`{' '.join(args.positional)[:40]}` is not an upload ID: use the number of the preview, e.g. 12.")
    return int(raw)


@command(
    name="submit",
    usage="submit [UPLOAD-ID]",
    summary="store the previewed upload (without an ID: your latest preview in this space)",
    examples=("submit", "submit 12"),
)
def submit(ctx: Context, args: Args) -> Reply:
    wanted = upload_id(args)
    with ctx.services.db.sessions.begin() as session:
        summary = submit_upload(session, ctx.actor, ctx.request.room_id, wanted)
    return Reply(
        f"✅ Upload #{summary.upload_id} submitted: **{summary.valid}** number{'s' if summary.valid != 1 else ''} "
        f"stored for {summary.service}. They are now syncing with Webex; I'll post here when they are Ready. "
        f"`status {summary.service}` shows progress."
    )


@command(
    name="cancel",
    usage="cancel [UPLOAD-ID]",
    summary="drop a preview (without an ID: your latest preview in this space)",
    examples=("cancel", "cancel 12"),
)
def cancel(ctx: Context, args: Args) -> Reply:
    wanted = upload_id(args)
    with ctx.services.db.sessions.begin() as session:
        summary = cancel_upload(session, ctx.actor, ctx.request.room_id, wanted)
    return Reply(f"Preview #{summary.upload_id} for {summary.service} cancelled: nothing was stored.")
