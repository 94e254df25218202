"""Names: session ids, titles and download file names, where text from users meets paths.

Session ids are made here (`secrets.token_urlsafe`) and are the only names that ever become
file names; every id is checked against a strict pattern before it is used. Titles are free
text kept inside notebooks, checked only for what cannot be a one-line title. Download file
names are an ASCII form of the title. Nothing here touches the file system.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

from codegen_ui.errors import UserError

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
MAX_TITLE = 200  # characters
DEFAULT_TITLE = "Untitled"


class StoreError(UserError, ValueError):
    """A store operation cannot be done; the message is meant for the user."""


def new_id() -> str:
    """A fresh unguessable id (22 characters) that starts with a letter or digit."""
    while True:
        session_id = secrets.token_urlsafe(16)
        if session_id[0].isalnum():
            return session_id


def check_id(session_id: object) -> str:
    if not isinstance(session_id, str) or not ID_PATTERN.fullmatch(session_id):
        raise StoreError("that is not a session id")
    return session_id


def check_title(title: object) -> str:
    """The title, stripped; StoreError for what cannot be a one-line title."""
    if not isinstance(title, str):
        raise StoreError("a title must be text")
    title = title.strip()
    if len(title) > MAX_TITLE:
        raise StoreError(f"a title can have at most {MAX_TITLE} characters, not {len(title)}")
    for ch in title:
        if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            raise StoreError(f"a title cannot contain control characters or line breaks ({ch!r})")
    return title


def file_stem(title: str) -> str:
    """A safe ASCII file name for downloads, from a title."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_title).strip("-_")[:60].strip("-_")
    return stem or "session"
