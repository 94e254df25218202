"""A real kernel's working folder through the files seam (`Kernel.files`): what the server puts
there the code reads (with pandas), what the code writes the server lists and reads back, links
the code makes are never followed, another kernel cannot open these files, a cell that fills
the disk is bounded, and `%pip` without network fails at once with one line."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen_ui.files import FileLimits, FilesError
from codegen_ui.kernel import Kernel, KernelConfig, Limits, sandbox_info
from codegen_ui.notebooks import SessionStore

CSV = b"month,total\n2024-01,10\n2024-01,5\n2024-02,12\n"


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[Kernel, Kernel]]:
    config = KernelConfig(limits=Limits(memory_mb=2048, file_mb=1))
    with Kernel(config=config) as first, Kernel(config=config) as second:
        yield first, second


def _text(result: object) -> str:
    outputs = getattr(result, "outputs", ())
    return "".join(str(o.get("text", "")) + str(o.get("evalue", "")) for o in outputs)


def test_a_file_put_in_is_read_with_pandas_and_what_the_cell_writes_comes_back(
    pair: tuple[Kernel, Kernel],
) -> None:
    kernel, _ = pair
    kernel.files.write("data.csv", CSV)
    code = (
        "import pandas as pd\n"
        "df = pd.read_csv('data.csv')\n"
        "by = df.groupby('month')['total'].sum()\n"
        "by.to_csv('by_month.csv')\n"
        "import os; os.makedirs('plots', exist_ok=True)\n"
        "open('plots/note.txt', 'w').write('é')\n"
        "print(int(by.sum()))"
    )
    result = kernel.run(code, timeout=60)
    assert result.status == "ok", _text(result)
    assert "27" in _text(result)
    names = [e.name for e in kernel.files.list()]
    assert names == ["by_month.csv", "data.csv", "plots/note.txt"]
    assert kernel.files.read("by_month.csv") == b"month,total\n2024-01,15\n2024-02,12\n"
    assert kernel.files.read("plots/note.txt") == "é".encode()


def test_another_kernel_cannot_open_these_files(pair: tuple[Kernel, Kernel]) -> None:
    first, second = pair
    first.files.write("secret.csv", b"first's data")
    assert first.workdir is not None
    path = first.workdir / "secret.csv"
    assert "secret.csv" not in [e.name for e in second.files.list()]
    result = second.run(f"print(open({str(path)!r}).read())", timeout=30)
    assert result.status == "error" and "first's data" not in _text(result)


def test_links_the_code_makes_are_never_followed(
    pair: tuple[Kernel, Kernel], tmp_path: Path
) -> None:
    kernel, _ = pair
    server_file = Path(__file__).resolve()  # the server's own files: outside the folder
    code = (
        "import os\n"
        f"os.symlink({str(server_file)!r}, 'server.py')\n"
        "os.symlink('/etc', 'etc')\n"
        "os.symlink('..', 'up')\n"
        "print('linked')"
    )
    assert kernel.run(code, timeout=30).status == "ok"
    names = [e.name for e in kernel.files.list()]
    assert not {"server.py", "etc", "up"} & {n.split("/")[0] for n in names}
    for name in ("server.py", "etc/passwd", "up/kernel.log"):
        with pytest.raises(FilesError):
            kernel.files.read(name)
    store = SessionStore(tmp_path / "sessions")
    sid = store.create("t").id
    store.data.mirror(sid, kernel.files)  # copying never follows them either
    assert not {"server.py", "etc", "up"} & {e.name.split("/")[0] for e in store.data.list(sid)}
    kernel.run("import os\nfor n in ('server.py', 'etc', 'up'): os.unlink(n)", timeout=30)


def test_a_cell_that_fills_the_disk_is_bounded(pair: tuple[Kernel, Kernel], tmp_path: Path) -> None:
    kernel, _ = pair
    code = (
        "import os\n"
        "os.makedirs('fill', exist_ok=True)\n"
        "written = 0\n"
        "try:\n"
        "    with open('fill/huge.bin', 'wb') as f:\n"
        "        while True:\n"
        "            f.write(b'x' * 65536); f.flush(); written += 65536\n"
        "except OSError as exc:\n"
        "    print('stopped at', written, type(exc).__name__)\n"
        "for i in range(6):\n"
        "    open(f'fill/part{i}.bin', 'wb').write(b'y' * 1000_000)\n"
        "print('parts written')"
    )
    result = kernel.run(code, timeout=60)
    assert result.status == "ok", _text(result)
    assert f"stopped at {1 << 20} OSError" in _text(result)  # the kernel's file-size limit
    limits = FileLimits(file_bytes=1 << 20, session_bytes=3 << 20, count=50)
    store = SessionStore(tmp_path / "sessions", limits)
    sid = store.create("t").id
    note = store.data.mirror(sid, kernel.files)
    held = store.data.list(sid)
    assert sum(e.size for e in held) <= 3 << 20
    assert "not kept" in note and "fill/part" in note and "\n" not in note
    assert kernel.run("print('still fine')", timeout=30).status == "ok"
    kernel.run("import shutil; shutil.rmtree('fill')", timeout=30)


def test_pip_without_network_fails_at_once_with_one_line(pair: tuple[Kernel, Kernel]) -> None:
    kernel, _ = pair
    info = sandbox_info(kernel.config.sandbox)
    if not (info.mode == "bwrap" or info.seccomp):
        pytest.skip(f"kernels here have network ({info.describe()}): pip may install")
    start = time.monotonic()
    result = kernel.run("%pip install requests", timeout=30)
    assert time.monotonic() - start < 10
    assert result.status == "error"
    (error,) = [o for o in result.outputs if o["output_type"] == "error"]
    assert error["traceback"] == [f"InstallError: {error['evalue']}"]
    assert (
        "cannot be installed here" in error["evalue"] and "ask the host" in error["evalue"].lower()
    )
    # Nothing was added to the user's namespace.
    names = kernel.run("print(sorted(n for n in dir() if not n.startswith('_')))", timeout=30)
    assert "InstallError" not in _text(names)


def test_a_kernel_with_a_uid_of_its_own_can_change_what_was_put_in_its_folder() -> None:
    info = sandbox_info("none")
    if not info.own_uid:
        pytest.skip("kernels here do not run as a uid of their own (not a root server)")
    with Kernel(config=KernelConfig(sandbox="none")) as kernel:
        kernel.files.write("raw/data.csv", CSV)
        code = (
            "import os\n"
            "print(os.getuid() != 0, open('raw/data.csv').read().count(chr(10)))\n"
            "open('raw/data.csv', 'a').write('2024-03,1\\n')\n"
            "open('raw/new.csv', 'w').write('n')"
        )
        result = kernel.run(code, timeout=30)
        assert result.status == "ok", _text(result)
        assert "True 4" in _text(result)
        assert kernel.files.read("raw/data.csv").endswith(b"2024-03,1\n")
        assert [e.name for e in kernel.files.list()] == ["raw/data.csv", "raw/new.csv"]
