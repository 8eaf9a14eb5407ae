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


def first_line(err: BaseException) -> str:
    """The first line of ``err``'s message (its type's name when empty), cut to 200 characters.

    For one-line errors that quote what a library raised (TensorFlow's and
    safetensors' messages run over several lines).
    """
    text = str(err).strip().splitlines()
    line = text[0] if text else type(err).__name__
    return line if len(line) <= 200 else line[:197] + "..."
