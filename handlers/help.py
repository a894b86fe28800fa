"""`help`: rendered from the command registry, so it never drifts from the commands."""
from __future__ import annotations

from handlers.base import Reply
from handlers.registry import Args, Command, Context, usage_text
from provisioning.text import literal


def run(ctx: Context, args: Args) -> Reply:
    registry = ctx.registry
    if args.positional:
        wanted = registry.get(args.positional[0])
        if wanted is None:
            return Reply(f"There is no command {literal(args.positional[0], 40)}. Type `help` for the list.")
        return Reply(usage_text(wanted))
    lines = ["**leadsbot** uploads your customers' numbers, checks them, and tells you when they are Ready in Webex.",
             "In a group space, mention me first. Commands:"]
    for cmd in registry.ordered:
        example = f" — e.g. `{cmd.examples[0]}`" if cmd.examples else ""
        admin = " (admins)" if cmd.admin_only else ""
        lines.append(f"- `{cmd.usage}`{admin}: {cmd.summary}{example}")
    lines.append("`help COMMAND` shows every example of a command.")
    return Reply("\n".join(lines))


COMMAND = Command(
    name="help",
    usage="help [COMMAND]",
    summary="what I can do, with examples",
    examples=("help", "help upload"),
    needs_tenant=False,
    run=run,
)
