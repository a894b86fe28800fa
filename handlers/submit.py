"""`submit`: store a previewed upload, all or nothing."""
from __future__ import annotations

from handlers.base import Reply
from handlers.registry import Args, Command, Context, UsageError
from provisioning.text import NAME_LIMIT, literal
from provisioning.uploads.submission import MAX_UPLOAD_ID, submit


def upload_id(args: Args) -> int | None:
    """The UPLOAD-ID argument of `submit` and `cancel`; None when it is left out."""
    if not args.positional:
        return None
    raw = args.positional[0].lstrip("#")
    if (len(args.positional) > 1 or not raw.isdigit() or not raw.isascii() or len(raw) > len(str(MAX_UPLOAD_ID))
            or int(raw) > MAX_UPLOAD_ID):
        raise UsageError(f"{literal(' '.join(args.positional), 40)} is not an upload ID: use the number of the "
                         "preview, e.g. 12.")
    return int(raw)


def run(ctx: Context, args: Args) -> Reply:
    summary = submit(ctx.services.db, ctx.actor, ctx.request.room_id, upload_id(args), settings=ctx.services.settings)
    return Reply(
        f"✅ Upload #{summary.upload_id} submitted: **{summary.valid:,}** number{'s' if summary.valid != 1 else ''} "
        f"stored for {literal(summary.service, NAME_LIMIT)}. They are now syncing with Webex; I'll post here when "
        f"they are Ready. {literal(f'status {summary.service}', NAME_LIMIT + 7)} shows progress."
    )


COMMAND = Command(
    name="submit",
    usage="submit [UPLOAD-ID]",
    summary="store the previewed upload (without an ID: your latest preview in this space)",
    examples=("submit", "submit 12"),
    run=run,
)
