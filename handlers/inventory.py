"""`inventory`: admins load an inventory YAML file from chat (the same loader as the CLI)."""
from __future__ import annotations

from handlers.base import Reply
from handlers.registry import Args, Command, Context
from handlers.render import fit_lines
from provisioning.errors import UserError
from provisioning.inventory import InventoryError, load_inventory_as
from provisioning.text import literal

MAX_INVENTORY_BYTES = 2 * 1024 * 1024


def run(ctx: Context, args: Args) -> Reply:
    if not ctx.request.attachments:
        raise UserError("Attach the inventory .yaml file to the `inventory` message.")
    attachment = ctx.request.attachments[0]
    if attachment.size is not None and attachment.size > MAX_INVENTORY_BYTES:
        raise UserError("The inventory file is over 2 MB: that is not an inventory.")
    data = attachment.fetch()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        name = literal(attachment.name, 80)
        raise UserError(f"{name} is not UTF-8 text: save the inventory as UTF-8 YAML.") from None
    try:
        report = load_inventory_as(ctx.services.db, ctx.actor, text)
    except InventoryError as exc:
        raise UserError(_problems(exc)) from None
    return Reply("Inventory loaded:\n" + "\n".join(f"- {line}" for line in report.summary().splitlines()))


def _problems(error: InventoryError) -> str:
    """The problems of a refused file, as many as fit in one message (the CLI prints them all)."""
    problems = error.problems
    if len(problems) == 1 and not error.truncated:
        return f"Inventory not loaded: {literal(problems[0], 500)}"
    head = [f"Inventory not loaded, {error.count}:"]
    lines, _ = fit_lines(head, [f"- {literal(p, 300)}" for p in problems],
                         lambda left: f"…and {left} more: `leadsbot inventory load FILE` lists them all.")
    return "\n".join(lines)


COMMAND = Command(
    name="inventory",
    usage="inventory   (with an inventory .yaml attached)",
    summary="load tenants, operators, customers, services, calling profiles and SIP connections from a YAML file",
    examples=("inventory   (attach inventory.yaml)",),
    admin_only=True,
    run=run,
)
