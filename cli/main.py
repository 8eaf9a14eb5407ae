"""The ``mintext`` command: a Click group whose subcommands load on demand.

Each subcommand lives in its own module under :mod:`cli` and is imported only
when it runs (or when ``--help`` lists it). Subcommand modules import nothing
heavy at module level, so ``mintext --help`` stays fast and never touches
TensorFlow.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import signal
import sys

import click

from mintext import __version__
from mintext.errors import MintextError, one_line
from mintext.io.allocator import keep_freed_memory
from mintext.io.stopping import (
    BROKEN_PIPE_STATUS,
    Stopped,
    guard_standard_streams,
    ignore_stop_signals,
    install_stop_handlers,
    silence_stdout,
    stdout_reader_gone,
)

# name -> "module:function", in the order shown by --help
SUBCOMMANDS = {
    "discover": "cli.discover:discover",
    "segment": "cli.segment:segment",
    "score": "cli.score:score",
    "apriori": "cli.apriori:apriori",
    "parse": "cli.parse:parse",
    "pretrain": "cli.pretrain:pretrain",
}


class OneLineError(click.ClickException):
    """A :class:`MintextError` or a command-line mistake shown as one ``Error: ...`` line with its exit code.

    Line breaks and other control characters in the message (a file name may
    hold them) are escaped, so the error is always one line.
    """

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(one_line(message))
        self.exit_code = exit_code


def one_line_usage(err: click.UsageError) -> click.ClickException:
    """Click's usage error (usage, "Try ... --help", then the error: three lines) as one line, exit 2.

    The message keeps Click's wording (the option and its valid values) and
    points to the command's ``--help``. ``mintext`` alone still prints the help.
    """
    if isinstance(err, click.exceptions.NoArgsIsHelpError):
        return err
    command = err.ctx.command_path if err.ctx is not None else "mintext"
    return OneLineError(f"{err.format_message().rstrip('.')}; see '{command} --help'", err.exit_code)


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when it is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in SUBCOMMANDS if self._available(name)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name == module_name:
                return None
            raise
        return getattr(module, attribute)

    @staticmethod
    def _available(name: str) -> bool:
        module_name = SUBCOMMANDS[name].split(":")[0]
        return importlib.util.find_spec(module_name) is not None

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra):
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as err:  # the group's own options
            raise one_line_usage(err) from None

    def invoke(self, ctx: click.Context):
        try:
            result = super().invoke(ctx)
            if sys.stdout is sys.__stdout__ and stdout_reader_gone():
                raise BrokenPipeError  # its last write can come back short, without an error
            return result
        except click.UsageError as err:  # a subcommand's options and arguments, an unknown command
            raise one_line_usage(err) from None
        except MintextError as err:
            raise OneLineError(str(err), err.exit_code) from None
        except MemoryError:
            raise OneLineError("out of memory; lower --memory or --batch-size, or use a smaller input", 1) from None
        except KeyboardInterrupt:  # where the stop handlers are not installed (main() installs them)
            raise Stopped(signal.SIGINT) from None
        except BrokenPipeError:  # the reader went away (`| head`): the shell's status for SIGPIPE, no message
            if sys.stdout is sys.__stdout__:
                silence_stdout()
            raise SystemExit(BROKEN_PIPE_STATUS) from None


@click.group(name="mintext", cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="mintext")
def cli() -> None:
    """Unsupervised Chinese NLP for the shell: word discovery, Apriori, BERT pretraining and parsing.

    \b
    Examples:
      mintext discover corpus.txt | head
      mintext discover corpus.txt -o lexicon.tsv --segment segmented.txt
      mintext segment --lexicon lexicon.tsv corpus.txt
      mintext score gold.txt segmented.txt
      mintext apriori baskets.csv --min-support 0.01
      mintext parse --bert chinese_L-12_H-768_A-12 sentences.txt
      mintext pretrain corpus.txt -o model --time 30m

    Run `mintext COMMAND --help` for the options of each command.
    """
    _configure_logging()


class _StderrHandler(logging.StreamHandler):
    """A StreamHandler on whatever ``sys.stderr`` is when a record is emitted (CliRunner swaps it per call)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _configure_logging() -> None:
    logger = logging.getLogger("mintext")
    if not any(getattr(h, "_mintext", False) for h in logger.handlers):
        handler = _StderrHandler()  # stderr, resolved at emit time
        handler.setFormatter(logging.Formatter("mintext: %(message)s"))
        handler._mintext = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(argv: list[str] | None = None) -> None:
    """Console entry point (``mintext``).

    SIGINT, SIGTERM and SIGHUP stop the run through an exception (exit status
    130, 143, 129) so that temporary and half-written files are removed on the
    way out; a closed pipe exits 141; a standard descriptor closed at start is
    held on /dev/null (see :mod:`mintext.io.stopping`). The C allocator keeps
    freed memory for the next arrays (:mod:`mintext.io.allocator`).
    """
    install_stop_handlers()
    guard_standard_streams()
    keep_freed_memory()
    try:
        cli.main(args=argv, prog_name="mintext")
    finally:
        ignore_stop_signals()  # the run is over: no signal may cut short the removal of temporary files at exit


if __name__ == "__main__":  # pragma: no cover
    main()
