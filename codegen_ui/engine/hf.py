"""The transformers backend of the model seam: load a CodeGen checkpoint and stream turns.

It owns the tokenizer and the torch model; its engine thread (`batch`) runs every forward pass
for all callers, several generations in one pass (`forward`, `rows`), and stops each as soon
as its text is a complete turn. Token ids are the source of truth for what the model has seen:
`PrefixIds` remembers the ids of recent prompts and completions, so the next turn's prompt
reuses them instead of re-tokenising decoded text, and a `KVStore` keeps the model state (KV
cache) of those ids, so the next turn encodes only its new tokens. Weights come in two
precisions (see `weights`): "exact" (float32) and "fast" (int8 on CPU, float16 on CUDA).
It does not know about sessions, kernels or notebooks.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from codegen_ui.engine.api import (
    Activity,
    Event,
    Finished,
    GenerationError,
    ModelLoadError,
    SamplingParams,
)
from codegen_ui.engine.cache import Entry, KVStore
from codegen_ui.engine.prefix import PrefixIds

MIB = 2**20


def pick_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError("device 'cuda' was asked for but no CUDA GPU is available")
    return requested


def _load_parts(name: str, device: str, precision: str = "fast") -> tuple[Any, Any]:
    """Tokenizer and model, from the local cache or folder first, the hub second."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from codegen_ui.engine.weights import load_fast_cpu as fast_cpu

    cuda = device.startswith("cuda")
    dtype = torch.float16 if cuda and precision == "fast" else torch.float32
    # Memory-mapped weights stay resident (and mapped) after int8 conversion replaces them.
    extra = {"disable_mmap": True} if not cuda and precision == "fast" else {}
    local_only = Path(name).is_dir() or os.environ.get("HF_HUB_OFFLINE") == "1"
    # The hub client retries an unreachable host for about a minute; ask the network once first.
    online = not local_only and hub_reachable()
    attempts = [True, False] if online else [True]
    last: Exception | None = None
    for local_files_only in attempts:
        try:
            tok = AutoTokenizer.from_pretrained(name, local_files_only=local_files_only)
            # CPU "fast": read and convert layer by layer, never the float32 model whole.
            model = fast_cpu(name, local_files_only) if extra else None
            if model is None:
                model = AutoModelForCausalLM.from_pretrained(
                    name, dtype=dtype, local_files_only=local_files_only, **extra
                )
            return tok, model
        except (OSError, ValueError) as exc:  # not cached, no network, not a model folder
            last = exc
    raise ModelLoadError(_explain(name, last, online)) from last


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the model hub answers a TCP connection within a few seconds."""
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((url.hostname or "", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _explain(name: str, exc: Exception | None, online: bool) -> str:
    if Path(name).exists():
        first = str(exc).strip().splitlines()[0] if exc else "unknown error"
        return f"cannot load model from {name!r}: not a transformers model folder ({first})"
    if online:
        return (
            f"cannot load model {name!r}: no such local folder, and the hub has no model by "
            f"that id (or refused access); check the name, or pass --model PATH"
        )
    return (
        f"cannot load model {name!r}: it is not in the local Hugging Face cache and the hub "
        f"cannot be reached; download it where there is network, or pass a local folder "
        f"with --model PATH (or CODEGEN_UI_MODEL=PATH)"
    )


class TransformersModel:
    """A causal LM from transformers behind the CodeModel protocol, served by one engine thread.

    `stream` may be called from any thread and by many at once: requests go to the engine
    thread (`codegen_ui.engine.batch`), which decodes up to `batch_size` of them together.
    Token ids, KV caches and the torch model are touched by the engine thread only.
    """

    def __init__(
        self,
        name: str,
        tokenizer: Any,
        model: Any,
        device: str,
        cache_mib: int = 512,
        precision_note: str = "",
        batch_size: int = 16,
    ) -> None:
        from codegen_ui.engine.batch import Scheduler
        from codegen_ui.engine.forward import Forward

        self.name = name
        self.tokenizer = tokenizer
        self.model = model.eval()
        self.device = device
        self.context_size = int(getattr(model.config, "n_positions", 2048))
        self.eos_id = tokenizer.eos_token_id
        self.valid_vocab = len(tokenizer)
        self.prefixes = PrefixIds(self.encode, self.decode)
        self.kv = KVStore(cache_mib * MIB)
        self.n_layers = int(getattr(model.config, "n_layer", 0))
        self.precision_note = precision_note
        self.forward = Forward(self.model, device, self.valid_vocab)
        self.engine = Scheduler(self, batch_size=batch_size)

    @classmethod
    def load(
        cls,
        name: str,
        device: str = "auto",
        progress: Callable[[str], None] | None = None,
        precision: str = "fast",
        cache_mib: int = 512,
        batch_size: int = 16,
    ) -> TransformersModel:
        from codegen_ui.engine.weights import make_fast

        report = progress or (lambda _msg: None)
        report(f"loading {name}")
        try:
            chosen = pick_device(device)
        except ModuleNotFoundError as exc:
            missing = f"{exc.name} is not installed"
            raise ModelLoadError(f"cannot load model {name!r}: {missing}") from exc
        tok, model = _load_parts(name, chosen, precision)
        model.to(chosen)
        note = make_fast(model, chosen) if precision == "fast" else ""
        report(f"loaded {name} on {chosen}")
        return cls(
            name,
            tok,
            model,
            chosen,
            cache_mib=cache_mib,
            precision_note=note,
            batch_size=batch_size,
        )

    def describe(self) -> str:
        dtype = str(next(self.model.parameters()).dtype).removeprefix("torch.")
        return f"{self.name} on {self.device} ({self.precision_note or dtype})"

    def activity(self) -> Activity:
        writing, waiting = self.engine.counts()
        return Activity(writing, waiting, self.engine.batch_size)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def decode(self, ids: list[int]) -> str:
        return str(
            self.tokenizer.decode(
                ids, skip_special_tokens=False, clean_up_tokenization_spaces=False
            )
        )

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def stream(
        self, prompt: str, params: SamplingParams, cancel: threading.Event | None = None
    ) -> Iterator[Event]:
        request = self.engine.submit(prompt, params, cancel or threading.Event())
        try:
            while True:
                event = request.events.get()
                if isinstance(event, Exception):
                    raise GenerationError(
                        f"the model failed while writing: {type(event).__name__}: {event}"
                    ) from event
                yield event
                if isinstance(event, Finished):
                    return
        finally:
            request.abandoned = True  # the caller stopped reading: the engine drops it

    def close(self) -> None:
        """Stop the engine thread (tests; the process's model lives as long as it)."""
        self.engine.close()

    # ---- called by the engine thread -----------------------------------------------------
    def open(self, prompt: str) -> tuple[list[int], Any, int]:
        """Token ids for the prompt, a KV cache holding a prefix of them, and its length."""
        from codegen_ui.engine.kvcache import copy_prefix, crop_to, new_cache

        ids, _ = self.prefixes.ids_for(prompt)
        match = self.kv.match(ids)
        if match is None:
            return ids, new_cache(self.n_layers), 0
        # The last prompt id must be fed to the model to get the next token's logits.
        keep = min(match.shared, len(ids) - 1)
        if match.owned:
            crop_to(match.entry.state, keep)
            return ids, match.entry.state, keep
        return ids, copy_prefix(match.entry.state, keep), keep

    def close_request(self, ids: list[int], cache: Any, prompt_len: int, read: int) -> None:
        """Keep the ids (prompt + completion) and the cache, which holds ids[:read]."""
        from codegen_ui.engine.kvcache import cache_nbytes, seq_length

        self.prefixes.remember(ids)
        if seq_length(cache) != read:  # a forward pass failed half-way: state unknown
            return
        entry = Entry(tuple(ids[:read]), min(prompt_len, read), cache, cache_nbytes(cache))
        self.kv.put(entry)
