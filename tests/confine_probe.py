"""Run as another, unprivileged user by `test_kernel_unprivileged.py`: one kernel in the mode
named on the command line, the escape checks and the extra cases, one JSON object on stdout.

`python -m tests.confine_probe MODE`. A mode this user cannot get prints {"skip": reason}.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from pathlib import Path

from codegen_ui.core import KernelError
from codegen_ui.kernel import Kernel, KernelConfig, Limits, escape_checks
from codegen_ui.kernel.folders import KernelDirs


def probe(mode: str) -> dict[str, object]:
    config = KernelConfig(sandbox=mode, limits=Limits(memory_mb=1024, file_mb=32))  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory(prefix="codegen-ui-sessions-") as folder:
        sessions = Path(folder)
        sessions.chmod(0o755)
        (sessions / "secret.txt").write_text("another user's notebook")
        other = KernelDirs.create()
        (other.work / "notes.txt").write_text("private")
        try:
            with Kernel(config=config) as kernel:
                assert kernel.info is not None
                checks = escape_checks(kernel, sessions)
                read = kernel.run(f"print(open({str(other.work / 'notes.txt')!r}).read())")
                crash = kernel.run("import ctypes\nctypes.string_at(0)", timeout=60)
                after = kernel.run("print(6 * 7)", timeout=60)
                info = dataclasses.asdict(kernel.info)
        except KernelError as exc:
            return {"skip": str(exc).splitlines()[0]}
        finally:
            other.remove()
    return {
        "info": info,
        "checks": [dataclasses.asdict(c) for c in checks],
        "other_kernel_read": read.status,
        "segfault": crash.status,
        "after": [o.get("text", "") for o in after.outputs],
    }


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1])))
