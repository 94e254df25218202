"""The transformers backend of the model seam: load a CodeGen checkpoint and stream turns.

It owns the tokenizer, the torch model and the decoding loop (greedy or temperature + top-p
with a seeded generator), and stops as soon as the text is a complete turn. Token ids are the
source of truth for what the model has seen: `PrefixIds` remembers the ids of recent prompts and
completions, so the next turn's prompt reuses them instead of re-tokenising decoded text, and a
`KVStore` keeps the model state (KV cache) of those ids, so the next turn encodes only its new
tokens. Weights come in two precisions (see `weights`): "exact" (float32) and "fast" (int8 on
CPU, float16 on CUDA). It does not know about sessions, kernels or notebooks.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from codegen_ui.core import is_complete
from codegen_ui.engine.api import (
    Delta,
    Event,
    Finished,
    ModelLoadError,
    SamplingParams,
    StopReason,
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
    """A causal LM from transformers behind the CodeModel protocol; one generation at a time."""

    def __init__(
        self,
        name: str,
        tokenizer: Any,
        model: Any,
        device: str,
        cache_mib: int = 512,
        precision_note: str = "",
    ) -> None:
        self.name = name
        self.tokenizer = tokenizer
        self.model = model.eval()
        self.device = device
        self.context_size = int(getattr(model.config, "n_positions", 2048))
        self.eos_id = tokenizer.eos_token_id
        # Ids past the tokenizer's vocabulary are padding rows of the embedding: never sample them.
        self.valid_vocab = len(tokenizer)
        self.prefixes = PrefixIds(self.encode, self.decode)
        self.kv = KVStore(cache_mib * MIB)
        self.n_layers = int(getattr(model.config, "n_layer", 0))
        self.precision_note = precision_note
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        name: str,
        device: str = "auto",
        progress: Callable[[str], None] | None = None,
        precision: str = "fast",
        cache_mib: int = 512,
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
        return cls(name, tok, model, chosen, cache_mib=cache_mib, precision_note=note)

    def describe(self) -> str:
        dtype = str(next(self.model.parameters()).dtype).removeprefix("torch.")
        return f"{self.name} on {self.device} ({self.precision_note or dtype})"

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
        with self._lock:
            yield from self._stream(prompt, params, cancel)

    def _stream(
        self, prompt: str, params: SamplingParams, cancel: threading.Event | None
    ) -> Iterator[Event]:
        start = time.perf_counter()
        ids, _ = self.prefixes.ids_for(prompt)
        generated: list[int] = []
        text, first_token_s = "", 0.0
        reason: StopReason = "length"
        cache, reused = self._cache_for(ids)
        tokens = self._tokens(ids, params, cache, reused)
        try:
            for token in tokens:
                if not generated:
                    first_token_s = time.perf_counter() - start
                if token == self.eos_id:
                    reason = "eos"
                    break
                generated.append(token)
                new_text = self.decode(generated)
                # A trailing U+FFFD is half of a multi-byte character: wait for the rest.
                if not new_text.endswith("\ufffd") and len(new_text) > len(text):
                    yield Delta(new_text[len(text) :])
                    text = new_text
                if is_complete(text):
                    reason = "complete"
                    break
                if cancel is not None and cancel.is_set():
                    reason = "cancelled"
                    break
                if len(generated) >= params.max_new_tokens:
                    break
        finally:
            tokens.close()  # puts the cache back in the store at once
        self.prefixes.remember(ids + generated)
        yield Finished(
            stop_reason=reason,
            prompt_tokens=len(ids),
            new_tokens=len(generated) + (reason == "eos"),
            reused_tokens=reused,
            first_token_s=first_token_s,
            total_s=time.perf_counter() - start,
        )

    def _tokens(
        self, ids: list[int], params: SamplingParams, cache: Any, start: int
    ) -> Generator[int, None, None]:
        """Decode token by token with a KV cache that already holds ids[:start].

        The caller decides when to stop; once the generator is closed the cache goes back to
        the store holding exactly the ids it has read.
        """
        import torch

        generator = torch.Generator(device=self.device)
        generator.manual_seed(params.seed if params.seed is not None else 0)
        read = list(ids[:start])  # ids the cache holds; grows only after a forward succeeds
        try:
            with torch.inference_mode():
                inputs = torch.tensor([ids[start:]], device=self.device)
                out = self.model(input_ids=inputs, cache=cache, use_cache=True, logits_to_keep=1)
                read = list(ids)
                while True:
                    token = self._pick(out.logits[0, -1], params, generator)
                    yield token
                    inputs = torch.tensor([[token]], device=self.device)
                    out = self.model(input_ids=inputs, cache=cache, use_cache=True)
                    read.append(token)
        finally:
            self._store(cache, read, len(ids))

    def _cache_for(self, ids: list[int]) -> tuple[Any, int]:
        """A KV cache holding a prefix of `ids` (at most all but the last id) and its length."""
        from codegen_ui.engine.kvcache import copy_prefix, crop_to, new_cache

        match = self.kv.match(ids)
        if match is None:
            return new_cache(self.n_layers), 0
        # The last prompt id must be fed to the model to get the next token's logits.
        keep = min(match.shared, len(ids) - 1)
        if match.owned:
            crop_to(match.entry.state, keep)
            return match.entry.state, keep
        return copy_prefix(match.entry.state, keep), keep

    def _store(self, cache: Any, read: list[int], prompt_len: int) -> None:
        from codegen_ui.engine.kvcache import cache_nbytes, seq_length

        if seq_length(cache) != len(read):  # a forward pass failed half-way: state unknown
            return
        self.kv.put(Entry(tuple(read), min(prompt_len, len(read)), cache, cache_nbytes(cache)))

    def _pick(self, logits: Any, params: SamplingParams, generator: Any) -> int:
        import torch

        logits = logits[: self.valid_vocab].float()
        if params.greedy:
            return int(torch.argmax(logits))
        probs = torch.softmax(logits / params.temperature, dim=-1)
        if 0 < params.top_k < probs.numel():
            # transformers' order: temperature, then top-k (ties with the k-th kept), then top-p
            # over what is left.
            probs[probs < torch.topk(probs, params.top_k).values[-1]] = 0.0
            probs = probs / probs.sum()
        sorted_probs, order = torch.sort(probs, descending=True)
        # Keep the smallest set of tokens whose mass reaches top_p (always at least one).
        outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs > params.top_p
        sorted_probs[outside] = 0.0
        choice = torch.multinomial(sorted_probs / sorted_probs.sum(), 1, generator=generator)
        return int(order[choice])
