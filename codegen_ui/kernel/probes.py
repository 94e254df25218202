"""Hostile cells that check, against a live kernel, what its sandbox really contains.

`escape_checks` runs each attempt in the kernel (TCP and UDP to a listener of this process on
127.0.0.1, reading and writing a folder the kernel must not see, reading this process's
/proc environ, signalling it, a bounded fork loop) and returns one `Check` per attempt, with the
evidence from both sides: the cell's outcome and whether anything arrived here. `codegen-ui
doctor` prints them; the tests assert them. The kernel is left working (each cell cleans up).
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from codegen_ui.core import Runner, RunResult

LOOP = "127.0.0.1"
FORKS = 300  # the fork loop stops here even without a cap; a cap stops it well before


@dataclass(frozen=True)
class Check:
    name: str
    contained: bool
    detail: str


def _said(result: RunResult) -> str:
    for out in result.outputs:
        if out["output_type"] == "error":
            return f"{out['ename']}: {out['evalue']}"[:160]
    return "".join(o.get("text", "") for o in result.outputs if o["output_type"] == "stream")


@contextlib.contextmanager
def _listeners() -> Iterator[tuple[socket.socket, socket.socket]]:
    with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        tcp.settimeout(0.3)
        udp.settimeout(0.3)
        yield tcp, udp


def _arrived(receive: Callable[[], object]) -> bool:
    try:
        receive()
    except OSError:
        return False
    return True


def escape_checks(kernel: Runner, secret_dir: Path) -> list[Check]:
    """Try each escape; `secret_dir` must hold a file `secret.txt` and be off-limits."""
    pid, checks = os.getpid(), []
    secret = secret_dir / "secret.txt"
    with _listeners() as (tcp, udp):
        port, uport = tcp.getsockname()[1], udp.getsockname()[1]
        attempts = {
            "TCP to 127.0.0.1": f"import socket\nsocket.create_connection(({LOOP!r}, {port}), 3)",
            "UDP to 127.0.0.1": "import socket as s\nu = s.socket(s.AF_INET, s.SOCK_DGRAM)\n"
            f"u.sendto(b'x', ({LOOP!r}, {uport}))",
            "read a folder it must not see": f"print(open({str(secret)!r}).read())",
            "write into that folder": f"open({str(secret_dir / 'planted.txt')!r}, 'w').write('x')",
            "read the server's /proc environ": f"print(len(open('/proc/{pid}/environ').read()))",
            "signal the server": f"import os\nos.kill({pid}, 0)",
        }
        for name, code in attempts.items():
            result = kernel.run(code, timeout=30)
            ok = result.status == "ok"
            # What counts for the network is what arrived here: in bubblewrap's own network a
            # datagram is "sent" to a loopback that is not this one.
            if name.startswith("TCP"):
                ok = _arrived(tcp.accept)
            elif name.startswith("UDP"):
                ok = _arrived(lambda: udp.recv(8))
            elif name.startswith("write"):
                ok = ok or (secret_dir / "planted.txt").exists()
            checks.append(Check(name, not ok, _said(result).strip() or result.status))
    checks.append(fork_check(kernel))
    return checks


FORK_LOOP = f"""
import os, time
kids = []
try:
    for _ in range({FORKS}):
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        kids.append(pid)
except OSError as exc:
    print(type(exc).__name__, end=' ')
finally:
    for pid in kids:
        os.kill(pid, 9)
    for pid in kids:
        os.waitpid(pid, 0)
print(len(kids))
"""


def fork_check(kernel: Runner) -> Check:
    """A bounded fork loop (children sleep, then are killed and reaped): capped below FORKS?"""
    result = kernel.run(FORK_LOOP, timeout=120)
    said = _said(result).strip()
    count = int(said.split()[-1]) if said and said.split()[-1].isdigit() else FORKS
    return Check(f"fork {FORKS} processes", count < FORKS, f"{count} children ({said[:60]})")
