"""The one error family: every failure a user may be shown derives from `UserError`.

Each seam raises its own subclass (a model that will not load, a kernel that cannot start, a
damaged notebook, a bad setting) with a message written for the person at the keyboard. The two
edges map the family to what their users see, each in one place: `codegen_ui.cli.main` to a
line on stderr and exit status 2, the web app's controller to a note on the page. Errors in the
user's own code are not exceptions at all: they are outputs of the cell. This module holds no
logic and imports nothing.
"""

from __future__ import annotations


class UserError(Exception):
    """A failure whose message is one line meant for the user, not a traceback."""
