"""What every command-line tool does with an error it expects: one line on stderr,
naming the tool, exit status 1, no traceback."""

import contextlib
import sys

from absl import logging


def fail(program, message):
    """Logs `message`, prints `<program>: error: <message>` and exits with status 1."""
    logging.error("%s", message)
    print(f"{program}: error: {message}", file=sys.stderr)
    sys.exit(1)


@contextlib.contextmanager
def one_line_errors(program, *kinds):
    """Turns the exceptions `kinds` (ValueError when none is given) raised inside the
    block into `fail(program, str(error))`."""
    try:
        yield
    except kinds or (ValueError,) as error:
        fail(program, str(error))
