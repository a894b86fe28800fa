"""`help`: rendered from the command registry, so it never drifts from the commands."""
from __future__ import annotations

from handlers.base import Reply
from handlers.registry import REGISTRY, Args, Context, command, usage_text

ORDER = ("help", "tenant", "leads", "upload", "import", "submit", "cancel", "template", "numbers", "status",
         "digest", "inventory")


def ordered():
    known = [REGISTRY.commands[name] for name in ORDER if name in REGISTRY.commands]
    return known + [c for name, c in sorted(REGISTRY.commands.items()) if name not in ORDER]


@command(
    name="help",
    usage="help [COMMAND]",
    summary="what I can do, with examples",
    examples=("help", "help upload"),
    needs_tenant=False,
)
def help_command(ctx: Context, args: Args) -> Reply:
    if args.positional:
        wanted = REGISTRY.get(args.positional[0])
        if wanted is None:
            return Reply(f"There is no command `{args.positional[0][:40]}`. Type `help` for the list.")
        return Reply(usage_text(wanted))
    lines = ["**leadsbot** uploads your customers' numbers, checks them, and tells you when they are Ready in Webex.",
             "In a group space, mention me first. Commands:"]
    for cmd in ordered():
        example = f" — e.g. `{cmd.examples[0]}`" if cmd.examples else ""
        admin = " (admins)" if cmd.admin_only else ""
        lines.append(f"- `{cmd.usage}`{admin}: {cmd.summary}{example}")
    lines.append("`help COMMAND` shows every example of a command.")
    return Reply("\n".join(lines))
