"""Command handlers: one module per command, listed in `commands`; transports call `dispatch`.

A handler parses its arguments, calls the domain (`provisioning`) and renders the reply; it
never touches the database or Webex itself.
"""
from handlers.base import Attachment, Reply, ReplyFile, Request, Services
from handlers.commands import REGISTRY
from handlers.dispatch import dispatch

__all__ = ["REGISTRY", "Attachment", "Reply", "ReplyFile", "Request", "Services", "dispatch"]
