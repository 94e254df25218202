"""The transformers backend of the model seam: load a CodeGen checkpoint and stream turns.

It owns the tokenizer, the torch model and the decoding loop (greedy or temperature + top-p
with a seeded generator), and stops as soon as the text is a complete turn. Token ids are the
source of truth for what the model has seen: `PrefixIds` remembers the ids of recent prompts and
completions, so the next turn's prompt reuses them instead of re-tokenising decoded text.
It does not know about sessions, kernels or notebooks.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from codegen_ui.model import (
    Delta,
    Event,
    Finished,
    ModelLoadError,
    SamplingParams,
    StopReason,
)
from codegen_ui.prefix import PrefixIds
from codegen_ui.prompt import is_complete


def pick_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError("device 'cuda' was asked for but no CUDA GPU is available")
    return requested


def _load_parts(name: str, device: str) -> tuple[Any, Any]:
    """Tokenizer and model, from the local cache or folder first, the hub second."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    local_only = Path(name).is_dir() or os.environ.get("HF_HUB_OFFLINE") == "1"
    # The hub client retries an unreachable host for about a minute; ask the network once first.
    online = not local_only and hub_reachable()
    attempts = [True, False] if online else [True]
    last: Exception | None = None
    for local_files_only in attempts:
        try:
            tok = AutoTokenizer.from_pretrained(name, local_files_only=local_files_only)
            model = AutoModelForCausalLM.from_pretrained(
                name, dtype=dtype, local_files_only=local_files_only
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

    def __init__(self, name: str, tokenizer: Any, model: Any, device: str) -> None:
        self.name = name
        self.tokenizer = tokenizer
        self.model = model.eval()
        self.device = device
        self.context_size = int(getattr(model.config, "n_positions", 2048))
        self.eos_id = tokenizer.eos_token_id
        # Ids past the tokenizer's vocabulary are padding rows of the embedding: never sample them.
        self.valid_vocab = len(tokenizer)
        self.prefixes = PrefixIds(self.encode, self.decode)
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, name: str, device: str = "auto", progress: Callable[[str], None] | None = None
    ) -> TransformersModel:
        report = progress or (lambda _msg: None)
        report(f"loading {name}")
        try:
            chosen = pick_device(device)
        except ModuleNotFoundError as exc:
            raise ModelLoadError(
                f"cannot load model {name!r}: {exc.name} is not installed"
            ) from exc
        tok, model = _load_parts(name, chosen)
        model.to(chosen)
        report(f"loaded {name} on {chosen}")
        return cls(name, tok, model, chosen)

    def describe(self) -> str:
        dtype = str(next(self.model.parameters()).dtype).removeprefix("torch.")
        return f"{self.name} on {self.device} ({dtype})"

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
        ids, reused = self.prefixes.ids_for(prompt)
        generated: list[int] = []
        text, first_token_s = "", 0.0
        reason: StopReason = "length"
        for token in self._tokens(ids, params):
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
        self.prefixes.remember(ids + generated)
        yield Finished(
            stop_reason=reason,
            prompt_tokens=len(ids),
            new_tokens=len(generated) + (reason == "eos"),
            reused_tokens=reused,
            first_token_s=first_token_s,
            total_s=time.perf_counter() - start,
        )

    def _tokens(self, ids: list[int], params: SamplingParams) -> Iterator[int]:
        """Decode token by token with a KV cache; the caller decides when to stop."""
        import torch

        generator = torch.Generator(device=self.device)
        generator.manual_seed(params.seed if params.seed is not None else 0)
        with torch.inference_mode():
            inputs = torch.tensor([ids], device=self.device)
            out = self.model(input_ids=inputs, use_cache=True, logits_to_keep=1)
            while True:
                token = self._pick(out.logits[0, -1], params, generator)
                yield token
                inputs = torch.tensor([[token]], device=self.device)
                out = self.model(input_ids=inputs, cache=out.cache, use_cache=True)

    def _pick(self, logits: Any, params: SamplingParams, generator: Any) -> int:
        import torch

        logits = logits[: self.valid_vocab].float()
        if params.greedy:
            return int(torch.argmax(logits))
        probs = torch.softmax(logits / params.temperature, dim=-1)
        sorted_probs, order = torch.sort(probs, descending=True)
        # Keep the smallest set of tokens whose mass reaches top_p (always at least one).
        outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs > params.top_p
        sorted_probs[outside] = 0.0
        choice = torch.multinomial(sorted_probs / sorted_probs.sum(), 1, generator=generator)
        return int(order[choice])
