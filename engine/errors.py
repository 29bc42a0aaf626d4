"""Errors a user can fix: the scripts print their message and exit non-zero, without a traceback."""


class UserError(Exception):
    """Bad input, a missing file, an unknown name: the message says what was given and what to do."""
