"""The Multi-Turn Programming Benchmark (MTPB) of the CodeGen paper: its data.

115 problems, one JSON object a line, each with `str.format` prompt templates and five test
cases (inputs and gold outputs). `load_problems` reads a local file; `fetch_data` downloads the
file from the CodeGen repository once into a cache folder. Defects in the data are found and
described, not crashed on (`Problem.defects`). It does not score: see `verdicts` and `execute`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen_ui.errors import UserError

MTPB_URL = "https://raw.githubusercontent.com/salesforce/CodeGen/main/codegen1/benchmark/mtpb.jsonl"
DEFAULT_GEN_LENGTH = 256  # the reference's fallback when a problem has no max_gen_length
# A prompt that reads a data file the benchmark does not ship (problems 38 and 46).
_DATA_FILE = re.compile(r"""["'](\.?/?datasets/[^"']+)["']""")


class MtpbError(UserError):
    """The benchmark data cannot be had or read; the message is one line for the user."""


@dataclass(frozen=True)
class Problem:
    id: str
    name: str
    category: str
    prompts: tuple[str, ...]  # str.format templates, one per turn
    cases: tuple[tuple[dict[str, Any], Any], ...]  # (inputs, gold output) pairs
    max_gen_length: int
    defects: tuple[str, ...] = ()  # what is wrong with this problem's data
    runnable: bool = True  # False when no model could pass it (a data file is missing)

    def filled(self, case: int) -> list[str]:
        """The prompts of one test case, `template.format(**inputs)`, byte for byte."""
        inputs = self.cases[case][0]
        return [p.format(**inputs) for p in self.prompts]


def parse_problem(raw: dict[str, Any]) -> Problem:
    inputs, outputs = list(raw["inputs"]), list(raw["outputs"])
    defects: list[str] = []
    if len(outputs) != len(inputs):
        defects.append(
            f"{len(outputs)} outputs for {len(inputs)} inputs: only the first "
            f"{min(len(inputs), len(outputs))} pairs are scored, as the reference pairs them"
        )
    files = sorted({m.group(1) for p in raw["prompts"] for m in _DATA_FILE.finditer(p)})
    if files:
        defects.append(f"reads {', '.join(files)}, which the benchmark does not ship: not run")
    return Problem(
        id=str(raw["id"]),
        name=str(raw.get("name", "")),
        category=str(raw.get("category", "")),
        prompts=tuple(raw["prompts"]),
        cases=tuple(zip(inputs, outputs, strict=False)),  # the reference's pairing
        max_gen_length=int(raw.get("max_gen_length") or DEFAULT_GEN_LENGTH),
        defects=tuple(defects),
        runnable=not files,
    )


def load_problems(path: str | Path) -> list[Problem]:
    """Every problem in an MTPB file, in id order; raises MtpbError naming the bad line."""
    try:
        # Not splitlines: U+2028 and the like are no line breaks in these files.
        lines = Path(path).read_text(encoding="utf-8").split("\n")
    except OSError as exc:
        raise MtpbError(f"cannot read MTPB data {str(path)!r}: {exc.strerror or exc}") from None
    problems = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            problems.append(parse_problem(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise MtpbError(f"{path}:{number} is not an MTPB problem ({exc!r})") from None
    if not problems:
        raise MtpbError(f"{path} holds no MTPB problems")
    return sorted(problems, key=_id_order)


def _id_order(problem: Problem) -> tuple[int, str]:
    return (int(problem.id), "") if problem.id.isdigit() else (2**31, problem.id)


def select(problems: Iterable[Problem], spec: str | None) -> list[Problem]:
    """The problems named by a spec like "1-10,57" (all when None), in id order."""
    problems = list(problems)
    if not spec:
        return problems
    wanted: set[str] = set()
    for part in spec.split(","):
        part = part.strip()
        lo, _, hi = part.partition("-")
        if not (lo.isdigit() and (not hi or hi.isdigit())) or int(hi or lo) < int(lo):
            raise MtpbError(f"--problems: {part!r} is not an id or a range like 1-10")
        wanted.update(str(i) for i in range(int(lo), int(hi or lo) + 1))
    unknown = sorted(wanted - {p.id for p in problems}, key=int)
    if unknown:
        raise MtpbError(f"--problems: no problem with id {', '.join(unknown)} in the data")
    return [p for p in problems if p.id in wanted]


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "codegen-ui"


def fetch_data(source: str | None = None, cache: Path | None = None, timeout: float = 10) -> Path:
    """A local path for `source` (a path, or a URL downloaded once into the cache folder)."""
    source = source or MTPB_URL
    if not source.startswith(("http://", "https://")):
        return Path(source)
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    target = (cache or cache_dir()) / f"mtpb-{digest}.jsonl"
    if target.exists():
        return target
    try:
        with urllib.request.urlopen(source, timeout=timeout) as response:
            body = response.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise MtpbError(
            f"cannot download the MTPB data from {source} ({reason}); without network, pass a "
            "local copy of codegen1/benchmark/mtpb.jsonl from the CodeGen repository with "
            "--data PATH"
        ) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(body)
    try:
        load_problems(partial)  # never cache a file that is not MTPB data (an error page, say)
    except MtpbError:
        partial.unlink()
        raise MtpbError(f"{source} did not answer with MTPB data; pass --data PATH") from None
    partial.replace(target)
    return target
