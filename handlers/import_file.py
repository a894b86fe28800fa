"""`import`: validate a CSV/XLSX attachment into a preview."""
from __future__ import annotations

from handlers.base import Reply
from handlers.registry import Args, Context, UsageError, command
from handlers.render import preview_reply, report_file
from handlers.upload import UPLOAD_OPTIONS, options_from
from provisioning.errors import UserError, shown
from provisioning.spreadsheets import FileError, check_size, read_rows
from provisioning.uploads import invalid_entries, preview
from provisioning.validation import RawEntry


@command(
    name="import",
    usage='import SERVICE profile=P sip=S type=T [cac=N] [info="..."]   (with a CSV or XLSX attached)',
    summary="validate the numbers of an attached CSV/XLSX file and show a preview",
    options=UPLOAD_OPTIONS,
    examples=(
        "import roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center   (attach numbers.csv)",
        "import bagels-cc profile=CC-Default sip=PSTN-NewYork type=user file=numbers.xlsx   (in leadsbot shell)",
    ),
    details="Columns: `Number` and optional `Range End` (header names in any case). `template` gives a file to fill in.",
)
def import_file(ctx: Context, args: Args) -> Reply:
    service_name = args.one("the SERVICE name")
    if len(args.positional) > 1:
        raise UsageError("`import` takes the numbers from the attached file; type numbers with `upload` instead.")
    if not ctx.request.attachments:
        raise UserError("Attach a CSV or XLSX file to the `import` message (`template` gives one to fill in).")
    if len(ctx.request.attachments) > 1:
        raise UserError("Attach one file per `import`.")
    attachment = ctx.request.attachments[0]
    name = shown(attachment.name, 80)
    settings = ctx.services.settings
    try:
        if attachment.size is not None:
            check_size(attachment.size, settings.max_file_bytes)  # before downloading it
        data = attachment.fetch()
        rows = read_rows(data, name, max_rows=settings.max_rows, max_bytes=settings.max_file_bytes)
        entries = (RawEntry(row.line, row.number, row.range_end) for row in rows)
        with ctx.services.db.sessions.begin() as session:
            summary = preview(session, ctx.actor, ctx.request.room_id, service_name, options_from(args), entries,
                              settings, source="file", filename=attachment.name[:300])
            report = report_file(summary, invalid_entries(session, summary.upload_id))
    except FileError as exc:  # the preview's transaction was rolled back: say so
        raise FileError(f"{exc.message} Nothing was stored.") from None
    return preview_reply(summary, report)
