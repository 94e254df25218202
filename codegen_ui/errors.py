"""The one error family: every failure a user may be shown derives from `UserError`.

Each seam raises its own subclass (a model that will not load, a kernel that cannot start, a
damaged notebook, a bad setting) with a message written for the person at the keyboard. The two
edges map the family to what their users see, each in one place: `codegen_ui.cli.main` to a
line on stderr and exit status 2, the web app's controller to a note on the page. Errors in the
user's own code are not exceptions at all: they are outputs of the cell. `one_line` and
`first_line` are the one place any exception becomes a line of text. `require_extra` is the one
check that a feature's optional packages (an extra of pyproject.toml) are installed, made where
the feature starts, so a missing one is a `MissingExtra` that names the extra to install. It
imports nothing at import time.
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


class MissingExtra(UserError):
    """A feature whose packages come with an extra of the package that is not installed."""

    def __init__(self, extra: str, module: str, feature: str) -> None:
        self.extra = extra
        self.module = module
        super().__init__(
            f'{feature} needs {module}, which is not installed: pip install "codegen-ui[{extra}]"'
        )


def require_extra(extra: str, feature: str, *modules: str) -> None:
    """MissingExtra naming `extra` unless every one of `modules` (top-level names) can be
    imported; found, not imported."""
    from importlib.util import find_spec

    for module in modules:
        try:
            found = find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise MissingExtra(extra, module, feature)
