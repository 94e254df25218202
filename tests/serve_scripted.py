"""`python tests/serve_scripted.py PORT SESSIONS COMPLETION...`: the web app with the scripted
model (`tests.fakes.ScriptedModel`, its completions given in order) and real kernels, for
browser tests where the model's words must be the test's. Blocks until SIGTERM."""

from __future__ import annotations

import signal
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from codegen_ui.kernel import KernelPool
    from codegen_ui.notebooks import SessionStore
    from codegen_ui.settings import Settings
    from codegen_ui.web.app import assemble, launch
    from codegen_ui.web.ui import build_app
    from codegen_ui.workspace import ModelHolder
    from tests.fakes import ScriptedModel

    port, sessions, *completions = argv
    model = ScriptedModel(chunk=3).enqueue(*completions)
    pool = KernelPool(size=0)
    controller = assemble(ModelHolder.ready(model), pool, SessionStore(sessions), False)
    settings = Settings(port=int(port), api=False)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        launch(build_app(controller, settings), settings)
    finally:
        controller.workspaces.shutdown()
        pool.close()


if __name__ == "__main__":
    main(sys.argv[1:])
