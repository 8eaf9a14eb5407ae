"""Exceptions that carry a one-line message for the user.

The CLI prints ``mintext: error: <message>`` and exits with ``exit_code``;
no traceback is shown for these.
"""

from __future__ import annotations


class MintextError(Exception):
    """Bad input or an impossible request; the message says what and how to fix it."""

    exit_code = 1


class InputError(MintextError):
    """An input file cannot be read as asked (encoding, binary, malformed rows...)."""

    exit_code = 1


class UsageError(MintextError):
    """Options or arguments that do not make sense together (exit status 2)."""

    exit_code = 2
