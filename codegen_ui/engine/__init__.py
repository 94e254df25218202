"""The model backends behind the domain's `CodeModel` port, chosen by `load_model`.

Callers import from here: `load_model`, which imports a backend only when a model is loaded
(`settings_model` loads the model a `Settings` names, as it says: the one loader of the page, the
CLI and the magic):
the in-process transformers one (`hf`), or for a model setting that is a server's `.../v1` URL
the remote one (`remote`), so `import codegen_ui.engine` pulls no torch or transformers, and
a model server needs no torch at all (the in-process engine's torch and gguf are the
`codegen-ui[local]` extra; `require_local` fails a load without them in one line naming it); what
loading takes and how it fails (`ServerOptions`, `ModelLoadError`); `convert_to_gptj`, which
rewrites a CodeGen checkpoint for servers that know GPT-J. `TransformersModel` itself is offered
lazily for tools that measure the backend (the benchmark), with `new_cache` (the engine's
in-place KV cache) and what `measure` gives the speed bench of the engine's insides (a bare
decoding loop, teacher-forced logits, weight bytes, thread counts). The port's types are
imported from `codegen_ui.core`, never from here. Nothing outside this package imports its
modules directly.

Inside: `options` (ServerOptions, ModelLoadError); `hf` (load a checkpoint, stream turns) over
`batch` (the engine thread: admission and continuous batching), `forward` (the forward passes
and the token pick), `threads` (the engine thread's torch thread count, measured), `rows`
(ragged batches for any family on the batched path), `prefix`, `cache` and `kvcache` (ids and
KV caches kept across turns), `weights` (the fast precision), `probe` (the guard at load that
compares it with float32), `ggufcache` (a .gguf dequantised once, kept as a folder),
`packaged` (the fallback model a checkout always has), `measure` (what the speed bench reads
beneath the port); `remote` (a model
on an OpenAI-compatible server) over `server_http` (its HTTP and streaming); `gptj` (CodeGen ->
GPT-J).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from codegen_ui.core import CodeModel
from codegen_ui.engine.ggufcache import cache_root
from codegen_ui.engine.measure import (
    bare_decode_rate,
    fix_threads,
    logit_agreement,
    stepwise_logits,
    thread_counts,
    weight_bytes_per_token,
)
from codegen_ui.engine.options import (
    ModelLoadError,
    ModelUnavailable,
    ServerOptions,
    require_local,
)
from codegen_ui.engine.packaged import INSTALL, LABEL, fallback_note, packaged_model
from codegen_ui.settings import DEFAULTS

if TYPE_CHECKING:
    from codegen_ui.engine.gptj import convert_to_gptj
    from codegen_ui.engine.hf import TransformersModel
    from codegen_ui.engine.kvcache import new_cache
    from codegen_ui.settings import Settings

API_KEY_VAR = "CODEGEN_UI_API_KEY"  # a model server's key: read here only, never a setting

__all__ = [
    "INSTALL",
    "LABEL",
    "ModelLoadError",
    "ModelUnavailable",
    "ServerOptions",
    "TransformersModel",
    "bare_decode_rate",
    "cache_root",
    "convert_to_gptj",
    "fix_threads",
    "is_server_url",
    "load_model",
    "logit_agreement",
    "new_cache",
    "packaged_model",
    "server_options",
    "settings_model",
    "stepwise_logits",
    "thread_counts",
    "weight_bytes_per_token",
]


def load_model(
    name_or_path: str,
    device: str = DEFAULTS.device,
    progress: Callable[[str], None] | None = None,
    precision: str = DEFAULTS.precision,
    cache_mib: int = DEFAULTS.cache_mib,
    batch_size: int = DEFAULTS.batch_size,
    server: ServerOptions | None = None,
    fallback: bool = False,
) -> CodeModel:
    """Load a transformers causal LM by hub id, local folder or .gguf; raises ModelLoadError.

    With `fallback`, a hub id that cannot be had here (ModelUnavailable) loads the packaged
    SmolLM2-135M-Instruct instead (`packaged`), where it is installed; its `describe()` then
    says so and why.

    `precision` is "fast" (int8 weights whose output does not depend on the batch on CPU,
    float16 on CUDA), "exact" (float32) or "repeatable" (the same as "fast" on CPU, float32 on
    CUDA); a converted model that the guard at load finds too far from float32 is loaded in
    "exact" instead, and `describe()` says so; `cache_mib`
    bounds the KV caches kept across turns (0: none); `batch_size` is the most generations
    the engine thread decodes together (1: one at a time, in arrival order). A name that is an
    http(s) URL ending in /v1 is a model server instead, reached with `server` (device,
    precision, cache and batching are the server's business then).
    """
    if is_server_url(name_or_path):
        from codegen_ui.engine.remote import RemoteModel

        return RemoteModel.connect(name_or_path, server or ServerOptions(), progress)
    require_local(f"loading {name_or_path!r} in this process", "torch", "transformers")
    from codegen_ui.engine.hf import TransformersModel

    def load(name: str) -> TransformersModel:
        return TransformersModel.load(
            name,
            device=device,
            progress=progress,
            precision=precision,
            cache_mib=cache_mib,
            batch_size=batch_size,
        )

    try:
        return load(name_or_path)
    except ModelUnavailable:
        packaged = packaged_model() if fallback else None
        if packaged is None:
            raise
    model = load(str(packaged))
    model.name = LABEL
    model.note = fallback_note(name_or_path)
    return model


def settings_model(
    settings: Settings, progress: Callable[[str], None] | None = None, fallback: bool = True
) -> CodeModel:
    """The model the settings name, loaded as they say: on their device, in their precision,
    with their cache and batch size, or on the server they name (reached as they say); with
    `fallback` (and the settings allowing it), the packaged model where theirs cannot be had."""
    return load_model(
        settings.model,
        settings.device,
        progress,
        precision=settings.precision,
        cache_mib=settings.cache_mib,
        batch_size=settings.batch_size,
        server=server_options(settings),
        fallback=fallback and settings.may_fall_back,
    )


def server_options(settings: Settings) -> ServerOptions:
    """How to reach a model server, from the settings and the API key in the environment."""
    return ServerOptions(
        served_model=settings.served_model,
        tokenizer=settings.tokenizer,
        context_size=settings.context_size,
        timeout=settings.server_timeout,
        api_key=os.environ.get(API_KEY_VAR, ""),
        streams=settings.server_streams,
    )


def is_server_url(model: str) -> bool:
    """Whether a model setting names a server (http(s)://.../v1), not a hub id or folder."""
    return model.startswith(("http://", "https://")) and model.rstrip("/").endswith("/v1")


def __getattr__(name: str) -> Any:
    # Lazy, so that importing the seam does not import torch.
    if name == "convert_to_gptj":
        from codegen_ui.engine.gptj import convert_to_gptj

        return convert_to_gptj
    if name == "TransformersModel":
        from codegen_ui.engine.hf import TransformersModel

        return TransformersModel
    if name == "new_cache":
        from codegen_ui.engine.kvcache import new_cache

        return new_cache
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
