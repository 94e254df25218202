"""The one error family: every failure a user may be shown derives from `UserError`.

Each seam raises its own subclass (a model that will not load, a kernel that cannot start, a
damaged notebook, a bad setting) with a message written for the person at the keyboard. The two
edges map the family to what their users see, each in one place: `codegen_ui.cli.main` to a
line on stderr and exit status 2, the web app's controller to a note on the page. Errors in the
user's own code are not exceptions at all: they are outputs of the cell. `one_line` and
`first_line` are the one place any exception becomes a line of text. It imports nothing.
"""

from __future__ import annotations


class UserError(Exception):
    """A failure whose message is one line meant for the user, not a traceback."""


def one_line(exc: BaseException) -> str:
    """An exception as one line for the user: its message, with its type unless it is ours."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, UserError) else f"{type(exc).__name__}: {text}"


def first_line(exc: BaseException) -> str:
    """The first line of a library's message (often paragraphs of advice), else its type."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
