"""Hostile cells that check, against a live kernel, what its sandbox really contains.

`escape_checks` runs each attempt in the kernel (TCP and UDP to a listener of this process on
127.0.0.1, reading and writing a folder the kernel must not see, reading this process's
/proc environ, signalling it, a bounded fork loop) and returns one `Check` per attempt, with the
evidence from both sides: the cell's outcome and whether anything arrived here. `codegen-ui
doctor` prints them; the tests assert them. The kernel is left working (each cell cleans up).
`gateway_checks` is the part that means something for a kernel on a gateway, on any host.
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
        got = receive()
    except OSError:
        return False
    if isinstance(got, tuple) and isinstance(got[0], socket.socket):
        got[0].close()  # an accepted connection: the evidence is that it arrived
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


SECRET_WORDS = ("TOKEN", "SECRET", "KEY", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH")
_ENV_CODE = """
import hashlib, os
words = {words!r}
names = sorted(k for k in os.environ if any(w in k.upper() for w in words))
ours = any(hashlib.sha256(v.encode()).hexdigest() == {digest!r} for v in os.environ.values())
print(' '.join(names) or '-', ours)
"""
_PARENT_CODE = """
import os
parent = os.getppid()
try:
    env = open(f'/proc/{parent}/environ', 'rb').read().split(b'\\0')
    names = sorted(e.split(b'=')[0].decode() for e in env if e)
    secret = [n for n in names if any(w in n.upper() for w in {words!r})]
    print('readable', len(names), 'names;', ' '.join(secret) or 'none secret-like')
except OSError as exc:
    print('refused', type(exc).__name__)
"""


def gateway_checks(
    kernel: Runner, folder: str, other_folder: str | None, token: str = ""
) -> list[Check]:
    """What the app can check from inside a kernel on a gateway (any host): its folder, another
    kernel's folder, secrets in its environment and its parent's (the gateway's process, where
    it runs kernels as local processes), signalling that parent, and the process cap. The
    token itself is never sent: the kernel compares a digest of each value with its digest."""
    import hashlib

    checks = []
    mode = kernel.run(f"import os, stat\nprint(oct(stat.S_IMODE(os.stat({folder!r}).st_mode)))")
    said = _said(mode).strip()
    checks.append(Check("its folder is private (0700)", said == "0o700", f"{folder}: {said}"))
    if other_folder is not None:
        peek = kernel.run(f"import os\nprint(os.listdir({other_folder!r}))")
        checks.append(
            Check("read another kernel's folder", peek.status != "ok", _said(peek).strip())
        )
    digest = hashlib.sha256(token.encode()).hexdigest() if token else ""
    env = kernel.run(_ENV_CODE.format(words=SECRET_WORDS, digest=digest))
    names, _, ours = _said(env).strip().rpartition(" ")
    checks.append(
        Check(
            "secrets in its environment",
            env.status == "ok" and names == "-" and ours == "False",
            f"secret-like names: {names or '?'}; the app's gateway token among the values: {ours}",
        )
    )
    parent = kernel.run(_PARENT_CODE.replace("{words!r}", repr(SECRET_WORDS)))
    said = _said(parent).strip()
    checks.append(Check("read its parent's environment", not said.startswith("readable"), said))
    sig = kernel.run("import os\nos.kill(os.getppid(), 0)\nprint(os.getppid())")
    checks.append(Check("signal its parent process", sig.status != "ok", _said(sig).strip()))
    net = kernel.run(
        "import socket\ntry:\n    socket.getaddrinfo('pypi.org', 443)\n    print('resolves')\n"
        "except OSError as exc:\n    print('no DNS:', exc)"
    )
    said = _said(net).strip()
    checks.append(
        Check("resolve an outside name (pypi.org)", not said.startswith("resolves"), said)
    )
    checks.append(fork_check(kernel))
    return checks
