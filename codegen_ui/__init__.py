"""codegen-ui: conversational program synthesis in a notebook.

A person types an instruction per turn; a code model writes the Python for it in the
conversational format of the CodeGen paper; a Jupyter kernel runs it; the session is a notebook.

The map, bottom to top: `errors` (the one error family), `version`, `settings` (the typed settings
and their `DEFAULTS`), `core` (the domain and its model and kernel ports), `files` (a session's user
files on disk), `engine` (the model backends), `kernel` (sandboxed Jupyter kernels), `notebooks`
(files and the session store), `evals` (what the two benchmarks share), `workspace` (the application
layer every door adapts: sessions and their lifecycle, autosave, ownership, the fair queue, the
model holder), `web` (the Gradio app, the session API and MCP), `mtpb` (the paper's benchmark),
`humaneval` (the model card's other benchmark), `bench` (speed and memory), `magic` (the `%%codegen`
Jupyter magic), `cli` (the `codegen-ui` command).

This package imports nothing heavy at import time: torch, transformers and gradio are imported
inside the functions that need them, so `import codegen_ui` stays fast for the CLI and tests.
"""

from codegen_ui.core import PREAMBLE, render_prompt, truncate
from codegen_ui.settings import Settings
from codegen_ui.version import __version__

__all__ = ["PREAMBLE", "Settings", "__version__", "render_prompt", "truncate"]
