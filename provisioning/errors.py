"""Errors the operator can act on, as opposed to bugs."""


class UserError(Exception):
    """A known business reason an action cannot go ahead; its text is shown to the operator."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
