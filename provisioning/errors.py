"""Errors the operator can act on, as opposed to bugs."""


class UserError(Exception):
    """A known business reason an action cannot go ahead; its text is shown to the operator."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def shown(text: str, limit: int = 60) -> str:
    """Operator input quoted back in a message, cut so that any reply fits one chat message."""
    return text if len(text) <= limit else text[:limit - 1] + "…"
