"""Command handlers: one module per command, collected into one registry.

Importing this package registers every command; transports call `dispatch`.
"""
from handlers import digest, help, import_file, inventory, leads, numbers, submit, template, tenant, upload  # noqa: F401
from handlers.base import Attachment, Reply, ReplyFile, Request, Services
from handlers.dispatch import dispatch
from handlers.registry import REGISTRY

__all__ = ["REGISTRY", "Attachment", "Reply", "ReplyFile", "Request", "Services", "dispatch"]
