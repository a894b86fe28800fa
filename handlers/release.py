"""`release`: preview numbers to take out of a service (typed or in an attached CSV/XLSX)."""
from __future__ import annotations

from handlers.base import Reply
from handlers.import_file import file_entries
from handlers.registry import Args, Command, Context, UsageError
from handlers.render import release_preview_reply
from handlers.upload import typed_entries
from provisioning.errors import UserError
from provisioning.files.sheet import FileError
from provisioning.releases.previews import release_preview
from provisioning.uploads.previews import invalid_report


def run(ctx: Context, args: Args) -> Reply:
    service_name = args.one("the SERVICE name")
    typed = typed_entries(ctx, args)  # the same entry grammar as uploads
    attachments = ctx.request.attachments
    if typed and attachments:
        raise UsageError("Type the numbers or attach a file, not both.")
    if len(attachments) > 1:
        raise UserError("Attach one file per `release`.")
    db, settings = ctx.services.db, ctx.services.settings
    if attachments:
        try:
            done = release_preview(db, ctx.actor, ctx.request.room_id, service_name,
                                   file_entries(ctx, attachments[0]), settings, source="file",
                                   filename=attachments[0].name[:300])
        except FileError as exc:
            raise FileError(f"{exc.message} Nothing was changed.") from None
    elif typed:
        done = release_preview(db, ctx.actor, ctx.request.room_id, service_name, lambda: typed, settings,
                               source="typed")
    else:
        raise UsageError("No numbers given: add the numbers or ranges to release, or attach a CSV/XLSX file.")
    return release_preview_reply(done, invalid_report(db, done.summary))


COMMAND = Command(
    name="release",
    usage="release SERVICE NUMBER|RANGE ...   (or with a CSV/XLSX attached)",
    summary="preview numbers to release from a service; `submit` releases them, `cancel` drops the preview",
    examples=(
        "release roma-cc +390212345678",
        "release bagels-cc +12127881500-1599",
        "release roma-cc   (attach numbers.csv; in leadsbot shell: file=numbers.csv)",
    ),
    details="Same entries and file columns as uploads. Numbers never pushed to Webex leave at once; the others "
            "are removed from the customer's Webex location (integrated services) or wait until the customer "
            "removed them (non-integrated); the service shows Removing meanwhile.",
    run=run,
)
