"""`submit`: store a previewed upload, all or nothing."""
from __future__ import annotations

from handlers.base import Reply
from handlers.registry import Args, Command, Context, UsageError
from provisioning.releases.submission import ReleaseOutcome
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


def released_reply(done: ReleaseOutcome) -> Reply:
    """What a submitted release did now, and what happens next."""
    service = literal(done.service, NAME_LIMIT)
    total = done.released + done.removing
    lines = [f"✅ Release #{done.release_id} submitted: **{total:,}** number{'s' if total != 1 else ''} of {service}."]
    if done.released:
        lines.append(f"- {done.released:,} never reached Webex and {'were' if done.released != 1 else 'was'} "
                     "released at once.")
    if done.removing:
        one = done.removing == 1
        how = (f"{'is' if one else 'are'} being removed from the customer's Webex location" if done.mode == "integrated"
               else f"{'waits' if one else 'wait'} until the customer removes {'it' if one else 'them'} in Control Hub")
        lines.append(f"- {done.removing:,} {how}; {service} shows Removing meanwhile, and I'll post here when "
                     f"{'it is' if one else 'they are'} released.")
    if done.held:
        lines.append(f"- ⏸️ Queued: {done.held}.")
    return Reply("\n".join(lines))


def run(ctx: Context, args: Args) -> Reply:
    summary = submit(ctx.services.db, ctx.actor, ctx.request.room_id, upload_id(args), settings=ctx.services.settings)
    if isinstance(summary, ReleaseOutcome):
        return released_reply(summary)
    return Reply(
        f"✅ Upload #{summary.upload_id} submitted: **{summary.valid:,}** number{'s' if summary.valid != 1 else ''} "
        f"stored for {literal(summary.service, NAME_LIMIT)}. They are now syncing with Webex; I'll post here when "
        f"they are Ready. {literal(f'status {summary.service}', NAME_LIMIT + 7)} shows progress."
    )


COMMAND = Command(
    name="submit",
    usage="submit [UPLOAD-ID]",
    summary="store the previewed upload, or release the previewed numbers (without an ID: your latest preview here)",
    examples=("submit", "submit 12"),
    run=run,
)
