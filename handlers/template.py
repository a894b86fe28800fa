"""`template`: the numbers template as CSV and XLSX."""
from __future__ import annotations

from handlers.base import Reply, ReplyFile
from handlers.registry import Args, Command, Context
from provisioning.files.templates import XLSX_CONTENT_TYPE, template_csv, template_xlsx


def run(ctx: Context, args: Args) -> Reply:
    return Reply(
        "Here are the numbers templates. One number per row in `Number` (E.164, with the `+`), or a range with its "
        "last number in `Range End`. In a spreadsheet, keep the columns formatted as Text so the `+` stays.",
        files=(ReplyFile("numbers-template.csv", template_csv()),
               ReplyFile("numbers-template.xlsx", template_xlsx(), XLSX_CONTENT_TYPE)),
    )


COMMAND = Command(
    name="template",
    usage="template",
    summary="the CSV and XLSX templates for `import`",
    examples=("template",),
    needs_tenant=False,
    run=run,
)
