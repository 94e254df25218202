"""The JSON-lines file of one benchmark run, resumable: read on open, appended to line by line.

Each line is one record (an MTPB result, a HumanEval sample) with the configuration that made
it, so a file holds one configuration only: a file of another is refused with one line before
anything runs, and a re-run of the same configuration skips the records already there. A last
line cut by a crash mid-write is dropped on open, so that record is made again. Appends are
under a lock: worker threads add records as they finish. A subclass says how its records read
and write (`read`, `write`); this module knows neither format. `sample_seed` gives each sample a
seed of its own key, so a resumed run draws what the whole run would have.
"""

from __future__ import annotations

import threading
import zlib
from abc import ABC, abstractmethod
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Generic, TypeVar

from codegen_ui.errors import UserError

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


def sample_seed(base: int, *key: object) -> int:
    """A seed per sample that does not depend on run order, so runs and re-runs agree."""
    return zlib.crc32(":".join(map(str, (base, *key))).encode()) & 0x7FFFFFFF


class RunFile(ABC, Generic[K, T]):
    """The records of one run, by key (see the module docstring)."""

    error: type[UserError] = UserError  # the benchmark's own error family
    one_is = "a record"  # what a line is, for the error about a line that is not one
    records_are = "records"  # what its lines hold, for the error about another configuration

    def __init__(self, path: Path, config: Any) -> None:
        self.path = path
        self.config = config
        self.records: dict[K, T] = {}
        self._lock = threading.Lock()
        if path.exists():
            self._load()

    @abstractmethod
    def read(self, line: str) -> tuple[K, Any, T]:
        """A line's key, the configuration it records and its record; raises ValueError,
        KeyError or TypeError when the line is not one."""

    @abstractmethod
    def write(self, record: T) -> tuple[K, str]:
        """A record's key and its line (one line of JSON, without the newline)."""

    @property
    def recorded_config(self) -> Any:
        """This run's configuration as `read` gives a line's (the configuration itself)."""
        return self.config

    def _load(self) -> None:
        text = self.path.read_text(encoding="utf-8")
        if text and not text.endswith("\n"):
            # The last line was cut by a crash mid-write: drop it, so that record is made again.
            text = text[: text.rfind("\n") + 1]
            self.path.write_text(text, encoding="utf-8")
        # Split on newlines only: a record's text may hold U+2028, which `splitlines` splits on.
        for number, line in enumerate(text.split("\n"), 1):
            if not line:
                continue
            try:
                key, config, record = self.read(line)
            except (ValueError, KeyError, TypeError) as exc:
                raise self.error(f"{self.path}:{number} is not {self.one_is} ({exc!r})") from None
            if config != self.recorded_config:
                raise self.error(
                    f"{self.path} holds {self.records_are} of another configuration ({config}); "
                    "pass a different --out, or delete the file to start again"
                )
            self.records[key] = record

    def add(self, record: T) -> None:
        key, line = self.write(record)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
            self.records[key] = record
