"""Options shared by several subcommands, as decorators (one place for each concern)."""

from __future__ import annotations

import contextlib
import logging
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from mintext.io.sources import DecodeStats

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("mintext")


def input_options(f: F) -> F:
    """``--encoding`` and ``--errors``: how input bytes are decoded."""
    f = click.option(
        "--errors",
        type=click.Choice(["strict", "replace", "ignore"]),
        default="strict",
        show_default=True,
        help="What to do with undecodable bytes: stop with an error, replace them with U+FFFD, or drop them "
        "(a count goes to stderr).",
    )(f)
    f = click.option(
        "--encoding",
        default="utf-8",
        show_default=True,
        metavar="NAME",
        callback=checked_encoding,
        help="Input encoding: utf-8 (a BOM is allowed), gb18030, big5, utf-16 ... or auto to detect.",
    )(f)
    return f


def checked_encoding(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Option callback: refuse an unknown encoding, or a codec that is not a text encoding, before any work."""
    from mintext.io.sources import check_encoding

    check_encoding(value, param.opts[-1] if param.opts else "--encoding")
    return value


def output_option(f: F) -> F:
    """``-o/--output FILE``: where results go (``-`` for stdout); written atomically."""
    return click.option(
        "-o",
        "--output",
        default="-",
        show_default=True,
        metavar="FILE",
        help="Write results to FILE (atomically: complete or not at all); - for stdout.",
    )(f)


def quiet_option(f: F) -> F:
    """``-q/--quiet``: no progress bars and no notes on stderr (errors still show)."""

    def callback(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        if value:
            log.setLevel(logging.WARNING)
        return value

    return click.option(
        "-q", "--quiet", is_flag=True, callback=callback, expose_value=True,
        help="No progress bars or notes on stderr.",
    )(f)


class ByteSize(click.ParamType):
    """A size such as ``2G``, ``512M``, ``800k`` or a plain number of bytes."""

    name = "SIZE"
    _units = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)i?[bB]?\s*", str(value))
        if not match:
            self.fail(f"{value!r} is not a size; use e.g. 512M or 2G", param, ctx)
        size = int(float(match.group(1)) * self._units[match.group(2).lower()])
        if size < 16 << 20:
            self.fail(f"{value!r} is too small; the minimum is 16M", param, ctx)
        return size


class FiniteFloatRange(click.FloatRange):
    """A :class:`click.FloatRange` that also refuses ``nan`` and ``inf``, naming the valid range."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number in the range {self._describe_range()}.", param, ctx)
        return number


def note(message: str) -> None:
    """A line on stderr for the user (suppressed by ``--quiet``); line breaks in it (a path's) are escaped."""
    from mintext.errors import one_line

    log.info(one_line(message))


def warn(message: str) -> None:
    """A warning line on stderr (shown even with ``--quiet``); line breaks in it are escaped."""
    from mintext.errors import one_line

    log.warning("warning: %s", one_line(message))


def warn_undecodable(stats: DecodeStats, errors: str) -> None:
    """Say on stderr how many undecodable byte sequences ``--errors replace`` or ``ignore`` replaced or dropped."""
    if stats.replaced:
        warn(stats.summary(errors))


def scheduler_option(f: F) -> F:
    """``--scheduler ADDRESS|local:N``: run the command's tasks on a Dask cluster (see docs/cluster.md)."""
    return click.option(
        "--scheduler", metavar="ADDRESS",
        help="Run on a Dask cluster: a scheduler's address (tcp://host:8786) or local:N (N worker processes here); "
        "needs mintext[cluster], the same output. See docs/cluster.md.",
    )(f)


def cluster(scheduler: str | None) -> contextlib.AbstractContextManager:
    """A context giving the executor of ``--scheduler`` (connected, checked, closed on leaving), or ``None``
    without one (Dask is then never imported)."""
    if scheduler is None:
        return contextlib.nullcontext(None)
    from mintext.cluster.dask import connect

    return connect(scheduler)
