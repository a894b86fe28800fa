"""`import`: validate a CSV/XLSX attachment into a preview."""
from __future__ import annotations

from collections.abc import Callable, Iterator

from handlers.base import Attachment, Reply
from handlers.registry import Args, Command, Context, UsageError
from handlers.upload import UPLOAD_OPTIONS, preview_entries, with_note
from provisioning.errors import UserError
from provisioning.files.reader import columns_used, read_rows
from provisioning.files.sheet import FileError, check_size
from provisioning.numbers.validation import RawEntry


def run(ctx: Context, args: Args) -> Reply:
    service_name = args.one("the SERVICE name")
    if len(args.positional) > 1:
        raise UsageError("`import` takes the numbers from the attached file; type numbers with `upload` instead.")
    if not ctx.request.attachments:
        raise UserError("Attach a CSV or XLSX file to the `import` message (`template` gives one to fill in).")
    if len(ctx.request.attachments) > 1:
        raise UserError("Attach one file per `import`.")
    attachment = ctx.request.attachments[0]
    try:
        data = file_data(ctx, attachment)
        entries = file_entries(ctx, attachment, data)
        reply = preview_entries(ctx, args, service_name, entries, source="file", filename=attachment.name[:300])
        settings = ctx.services.settings
        return with_note(reply, columns_used(data, attachment.name, max_bytes=settings.max_file_bytes))
    except FileError as exc:  # the preview's transaction was rolled back: say so
        raise FileError(f"{exc.message} Nothing was stored.") from None


def file_data(ctx: Context, attachment: Attachment) -> bytes:
    """The attachment's bytes, size-checked before downloading."""
    if attachment.size is not None:
        check_size(attachment.size, ctx.services.settings.max_file_bytes)
    return attachment.fetch()


def file_entries(ctx: Context, attachment: Attachment, data: bytes | None = None) -> Callable[[], Iterator[RawEntry]]:
    """The attachment's rows as entries (read afresh on each call); uploads and releases read files
    the same way."""
    settings = ctx.services.settings
    if data is None:
        data = file_data(ctx, attachment)

    def entries() -> Iterator[RawEntry]:
        return read_rows(data, attachment.name, max_rows=settings.max_rows, max_bytes=settings.max_file_bytes)

    return entries


COMMAND = Command(
    name="import",
    usage='import SERVICE profile=P sip=S type=T [cac=N] [info="..."]   (with a CSV or XLSX attached)',
    summary="validate the numbers of an attached CSV/XLSX file and show a preview",
    options=UPLOAD_OPTIONS,
    examples=(
        "import roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center   (attach numbers.csv)",
        "import bagels-cc profile=CC-Default sip=PSTN-NewYork type=user file=numbers.xlsx   (in leadsbot shell)",
    ),
    details="Columns: `Number` (or `Phone`, `Phone Number`, `E.164`, `DID`; a single column needs no header) and "
            "optional `Range End`, header names in any case; the preview says which column was read. "
            "`template` gives a file to fill in.",
    run=run,
)
