"""Exceptions that carry a one-line message for the user, and the escaping that keeps it one line.

The CLI prints ``Error: <message>`` on one line and exits with ``exit_code``;
no traceback is shown for these.

A path on Linux is any bytes but ``/`` and NUL: it may hold a newline, a tab,
an escape sequence or bytes that are not valid UTF-8 (Python keeps those as
lone surrogates, ``\\udcff``, which cannot be written as UTF-8). Messages and
lexicon headers show paths through :func:`shown_name`, and the CLI passes every
error message through :func:`one_line`.
"""

from __future__ import annotations

import os


class MintextError(Exception):
    """Bad input or an impossible request; the message says what and how to fix it."""

    exit_code = 1


class InputError(MintextError):
    """An input file cannot be read as asked (encoding, binary, malformed rows...)."""

    exit_code = 1


class UsageError(MintextError):
    """Options or arguments that do not make sense together (exit status 2)."""

    exit_code = 2


def _escapes() -> dict[int, str]:
    table: dict[int, str] = {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}
    for code in [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]:
        table.setdefault(code, f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    for code in range(0xD800, 0xE000):
        # surrogateescape keeps an undecodable byte b as U+DC00 + b: show the byte itself
        table[code] = f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"
    return table


_ESCAPES = _escapes()


def one_line(text: str) -> str:
    """``text`` with line breaks, other control characters and lone surrogates escaped.

    A newline becomes the two characters ``\\n``, a tab ``\\t``, an undecodable
    file-name byte 0xff ``\\xff``: the result is one line of valid Unicode.
    Other characters, backslashes included, are unchanged.
    """
    return text.translate(_ESCAPES)


def shown_name(path: str | bytes | os.PathLike) -> str:
    """A path as one printable line for messages and headers (see :func:`one_line`)."""
    return one_line(os.fsdecode(path))


def first_line(err: BaseException) -> str:
    """The first line of ``err``'s message (its type's name when empty), cut to 200 characters.

    For one-line errors that quote what a library raised (TensorFlow's and
    safetensors' messages run over several lines).
    """
    text = str(err).strip().splitlines()
    line = text[0] if text else type(err).__name__
    return line if len(line) <= 200 else line[:197] + "..."
