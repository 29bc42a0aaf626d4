"""Command-line helpers shared by the top-level scripts."""
import argparse
import sys

from core import signals
from core.errors import UserError
from core.text import printable

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def str2bool(text):
    """absl-style boolean values: `--flag True`, `--flag=false`, `--flag 1`."""
    value = str(text).strip().lower()
    if value in ("1", "true", "t", "yes", "y", "on"):
        return True
    if value in ("0", "false", "f", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError("expected a boolean (true/false), got %r" % text)


def add_bool_flag(parser, name, default, help_text, aliases=()):
    """Adds `--name`, `--name VALUE`, `--name=VALUE` and `--noname`, as absl accepts them."""
    dest = name.replace("-", "_")
    flags = ["--" + name] + ["--" + alias for alias in aliases]
    if help_text != argparse.SUPPRESS:
        help_text += " (default: %s)" % default
    parser.add_argument(*flags, dest=dest, type=str2bool, nargs="?", const=True, default=default, help=help_text)
    parser.add_argument("--no" + name, dest=dest, action="store_false", help=argparse.SUPPRESS)


def run_main(main, argv=None):
    """Runs `main(argv)`, turning a UserError, Ctrl-C or SIGTERM (kill) into a message and an exit code."""
    try:
        with signals.interrupts():
            return main(argv)
    except UserError as error:
        print("error: %s" % printable(error), file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
