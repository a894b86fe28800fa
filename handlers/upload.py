"""`upload`: validate typed numbers and ranges into a preview, or open the Upload Numbers card."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from handlers.base import Reply
from handlers.registry import Args, Command, Context, UsageError, is_option, split_words
from handlers.render import preview_reply
from provisioning.numbers.validation import RawEntry, entries_from_text
from provisioning.progress import Progress
from provisioning.text import NAME_LIMIT, literal, shown_list
from provisioning.uploads.options import USER_CAC, UploadOptions, upload_form
from provisioning.uploads.previews import invalid_report, preview

UPLOAD_OPTIONS = ("profile", "sip", "type", "cac", "info")


def options_from(args: Args) -> UploadOptions:
    o = args.options
    return UploadOptions(o.get("profile", ""), o.get("sip", ""), o.get("type", ""), o.get("cac", ""), o.get("info", ""))


def preview_entries(ctx: Context, args: Args, service_name: str, entries: Callable[[], Iterable[RawEntry]], *,
                    source: str, filename: str | None = None) -> Reply:
    """Validate the entries (`entries()` reads them afresh each time) with the upload options in `args`
    and answer with the preview."""
    db = ctx.services.db
    summary = preview(db, ctx.actor, ctx.request.room_id, service_name, options_from(args), entries,
                      ctx.services.settings, source=source, filename=filename,
                      number_check=ctx.services.number_check, progress=progress_of(ctx))
    return preview_reply(summary, invalid_report(db, summary))


def with_note(reply: Reply, note: str) -> Reply:
    """The reply with a line added under its first line (the preview's title)."""
    title, _, rest = reply.markdown.partition("\n")
    return replace(reply, markdown=f"{title}\n{note}\n{rest}" if rest else f"{title}\n{note}")


def progress_of(ctx: Context) -> Progress:
    """Progress reports of this command to the transport's sink, as often as the settings allow."""
    settings = ctx.services.settings
    return Progress(ctx.request.progress, after=settings.progress_after_seconds, every=settings.progress_every)


def form_reply(ctx: Context, service_name: str) -> Reply:
    """The Upload Numbers card, with a typed alternative for the shell and for people who prefer it."""
    form = upload_form(ctx.services.db, ctx.actor, service_name)
    profiles, sips, types = form.calling_profiles, form.sip_connections, form.number_types
    if not sips:
        return Reply(f"Tenant {literal(ctx.actor.tenant_name, NAME_LIMIT)} has no SIP connection yet: add one to "
                     "the inventory before uploading numbers.")
    if not profiles:  # the card could never be submitted: its calling profile is required
        return Reply(f"Tenant {literal(ctx.actor.tenant_name, NAME_LIMIT)} has no calling profile yet: add one to "
                     "the inventory before uploading numbers.")
    example = (f"upload {form.service} profile={profiles[0]} sip={sips[0]} type={types[0]} "
               f"+CCNUMBER")
    markdown = "\n".join([
        f"**Upload Numbers — {literal(form.service, NAME_LIMIT)}**",
        f"- Calling profiles: {shown_list([literal(p, NAME_LIMIT) for p in profiles])}",  # the card has them all
        f"- SIP connections: {shown_list([literal(s, NAME_LIMIT) for s in sips])}",
        f"- Number types: {', '.join(types)} (user numbers have CAC {USER_CAC}, fixed)",
        f"Fill in the card, or type: {literal(example, 4 * NAME_LIMIT)}",
    ])
    card = {"kind": "upload-form", "service": form.service, "calling_profiles": profiles, "sip_connections": sips,
            "number_types": list(types), "user_cac": USER_CAC}
    return Reply(markdown, card=card)


def typed_entries(ctx: Context, args: Args) -> list[RawEntry]:
    """The entries after the service name. Words are split like a shell line, which loses line
    breaks, and a new line separates entries (SPEC §2 rule 1): a message of several lines is
    read line by line, dropping the options, the command and the service name."""
    text = ctx.request.text if ctx.request.card_inputs is None else ""
    if "\n" not in text.strip():
        return entries_from_text(" ".join(args.positional[1:]))
    skip, lines = 2, []  # the command and the service name
    for line in text.splitlines():
        try:
            words = [word for word in split_words(line) if not is_option(word)]
        except UsageError:  # a quoted value spans lines: the words as the whole message gave them
            return entries_from_text(" ".join(args.positional[1:]))
        taken = min(skip, len(words))
        skip -= taken
        lines.append(" ".join(words[taken:]))
    return entries_from_text("\n".join(lines))


def run(ctx: Context, args: Args) -> Reply:
    source = args.options.pop("source", "")
    service_name = args.one("the SERVICE name")
    entries = typed_entries(ctx, args)
    if not entries and not args.options:
        return form_reply(ctx, service_name)
    if not entries:
        raise UsageError("No numbers given: add numbers or ranges after the options.")
    return preview_entries(ctx, args, service_name, lambda: entries, source=source or "typed")


COMMAND = Command(
    name="upload",
    usage='upload SERVICE profile=P sip=S type=T [cac=N] [info="..."] NUMBER|RANGE ...',
    summary="validate numbers and ranges and show a preview (without numbers: the Upload Numbers card)",
    options=UPLOAD_OPTIONS,
    examples=(
        "upload roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center cac=10 +390212345678",
        "upload bagels-cc profile=CC-Default sip=PSTN-NewYork type=user +12127881500-1599",
        'upload roma-cc profile=CC-Default sip=PSTN-Milan type=service info="Fax IVR" +39 02 1234 5600 - 5699',
        "upload roma-cc",
    ),
    details="Options go in any order. Ranges: `START-END`, END in full or as the last digits. "
            "Entries are separated by commas, semicolons, new lines or the next `+`; spaces inside "
            "an entry are fine (`+1 212 788 1610-1619`).",
    run=run,
)
