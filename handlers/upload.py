"""`upload`: validate typed numbers and ranges into a preview, or open the Upload Numbers card."""
from __future__ import annotations

from handlers.base import Reply
from handlers.registry import Args, Context, UsageError, command
from handlers.render import preview_reply, report_file
from provisioning.directory import find_service, list_names
from provisioning.errors import shown_list
from provisioning.upload_options import USER_CAC, UploadOptions, allowed_number_types, check_accepts_numbers
from provisioning.uploads import invalid_entries, preview
from provisioning.validation import entries_from_words
from store.models import CallingProfile, SipConnection

UPLOAD_OPTIONS = ("profile", "sip", "type", "cac", "info")


def options_from(args: Args) -> UploadOptions:
    o = args.options
    return UploadOptions(o.get("profile", ""), o.get("sip", ""), o.get("type", ""), o.get("cac", ""), o.get("info", ""))


def upload_form(ctx: Context, service_name: str) -> Reply:
    """The Upload Numbers card, with a typed alternative for the shell and for people who prefer it."""
    with ctx.services.db.sessions.begin() as session:
        service = find_service(session, ctx.actor, service_name)
        check_accepts_numbers(service)
        profiles = list_names(session, CallingProfile, ctx.actor.tenant_id)
        sips = list_names(session, SipConnection, ctx.actor.tenant_id)
        types = allowed_number_types(service)
        name = service.name
    if not sips:
        return Reply(f"Tenant {ctx.actor.tenant_name} has no SIP connection yet: add one to the inventory "
                     "before uploading numbers.")
    example = (f"upload {name} profile={profiles[0] if profiles else 'PROFILE'} sip={sips[0]} type={types[0]} "
               f"+CCNUMBER")
    markdown = "\n".join([
        f"**Upload Numbers — {name}**",
        f"- Calling profiles: {shown_list(profiles)}",  # the card's dropdowns have them all
        f"- SIP connections: {shown_list(sips)}",
        f"- Number types: {', '.join(types)} (user numbers have CAC {USER_CAC}, fixed)",
        f"Fill in the card, or type: `{example}`",
    ])
    card = {"kind": "upload-form", "service": name, "calling_profiles": profiles, "sip_connections": sips,
            "number_types": list(types), "user_cac": USER_CAC}
    return Reply(markdown, card=card)


@command(
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
            "Separate entries typed with spaces by commas.",
)
def upload(ctx: Context, args: Args) -> Reply:
    source = args.options.pop("source", "")
    service_name = args.one("the SERVICE name")
    entries = entries_from_words(args.positional[1:])
    if not entries and not args.options:
        return upload_form(ctx, service_name)
    if not entries:
        raise UsageError("No numbers given: add numbers or ranges after the options.")
    with ctx.services.db.sessions.begin() as session:
        summary = preview(session, ctx.actor, ctx.request.room_id, service_name, options_from(args), entries,
                          ctx.services.settings, source=source or "typed")
        report = report_file(summary, invalid_entries(session, summary.upload_id))
    return preview_reply(summary, report)
