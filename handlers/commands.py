"""Every command the bot knows, in the order `help` lists them: the one place a command is added."""
from __future__ import annotations

from handlers import (
    cancel,
    digest,
    help,
    import_file,
    inventory,
    leads,
    numbers,
    release,
    status,
    submit,
    usage,
    template,
    tenant,
    upload,
)
from handlers.registry import Registry

REGISTRY = Registry([
    help.COMMAND,
    tenant.COMMAND,
    leads.COMMAND,
    upload.COMMAND,
    import_file.COMMAND,
    submit.COMMAND,
    cancel.COMMAND,
    template.COMMAND,
    numbers.COMMAND,
    status.COMMAND,
    release.COMMAND,
    usage.COMMAND,
    digest.COMMAND,
    inventory.COMMAND,
])
