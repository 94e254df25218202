"""Build llama.cpp's `llama-server` for the speed bench's comparison, once per CPU, out of the repo.

`python -m scripts.llama_cpp build` prints the path of a `llama-server` binary, building it
first if the cache lacks one. The source is PyPI's `llama-cpp-python` sdist at a pinned version
and hash (its `vendor/llama.cpp` is the engine that package runs), built with
`-DGGML_NATIVE=ON`: tuned to this processor's instruction set, as a user who installs it with
pip gets. Because the machine's processor can change, the build is keyed by the CPU's model
name and flags as well as the version: `<cache>/llama.cpp/<version>-<cpu key>/llama-server`,
where `<cache>` is the app's cache folder (`CODEGEN_UI_CACHE_DIR`, else XDG's, else
`~/.cache/codegen-ui`). It takes about 5 to 10 minutes on 2 cores and needs cmake and a C++
compiler. Only `make bench-gguf` uses it; it is never part of `make test`, and no package of
the app's environment is installed.

`python -m scripts.llama_cpp path` prints the cached binary's path, or exits 1 if there is none.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from codegen_ui.engine import cache_root

# The pinned source: bump both together (`pip download llama-cpp-python==V --no-binary :all:`).
VERSION = "0.3.36"
SDIST_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
PIP_FLAGS = ["--no-binary", ":all:", "--no-deps", "-d"]
CMAKE_FLAGS = [
    "-DGGML_NATIVE=ON",
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",  # one self-contained binary to cache
    "-DLLAMA_CURL=OFF",  # it only reads local files
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_SERVER=ON",
    "-DLLAMA_BUILD_TOOLS=ON",
]


def cpu_key() -> str:
    """A short hash of this processor's model name and instruction-set flags."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            lines = [ln for ln in f if ln.startswith(("model name", "flags"))][:2]
    except OSError:
        lines = [os.uname().machine]
    return hashlib.sha256("".join(lines).encode()).hexdigest()[:12]


def binary_path(root: Path | None = None) -> Path:
    """Where this CPU's build lives under `root` (default: the app's cache folder)."""
    return (root or cache_root()) / "llama.cpp" / f"{VERSION}-{cpu_key()}" / "llama-server"


def build(work: Path) -> Path:
    """Download, check and build; the binary is moved into the cache whole or not at all."""
    target = binary_path()
    subprocess.run(
        # pip prepares the sdist's metadata in an isolated build env of its own: nothing is
        # installed into this one.
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            f"llama-cpp-python=={VERSION}",
            *PIP_FLAGS,
            str(work),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    sdist = next(work.glob("llama_cpp_python-*.tar.gz"))
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise SystemExit(f"{sdist.name}: sha256 {digest}, expected {SDIST_SHA256}")
    with tarfile.open(sdist) as tar:
        tar.extractall(work, filter="data")
    source = next(work.glob("llama_cpp_python-*/vendor/llama.cpp"))
    build_dir = work / "build"
    jobs = str(os.cpu_count() or 1)
    subprocess.run(["cmake", "-S", str(source), "-B", str(build_dir), *CMAKE_FLAGS], check=True)
    subprocess.run(
        ["cmake", "--build", str(build_dir), "-j", jobs, "--target", "llama-server"], check=True
    )
    built = next(build_dir.rglob("llama-server"))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    shutil.copy2(built, partial)
    partial.replace(target)
    return target


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "build"
    target = binary_path()
    if command == "path":
        if not target.is_file():
            print("no llama-server built for this CPU: run `python -m scripts.llama_cpp build`")
            return 1
        print(target)
        return 0
    if command != "build":
        print(__doc__)
        return 2
    if not target.is_file():
        if not shutil.which("cmake"):
            raise SystemExit("building llama.cpp needs cmake and a C++ compiler")
        print(f"building llama.cpp {VERSION} for this CPU (minutes) ...", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="llama-cpp-") as work:
            build(Path(work))
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
