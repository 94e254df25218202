"""The transformers backend of the model seam: load a causal LM and stream turns.

Any decoder-only model transformers loads, from a hub id, a folder, or a GGUF file (or a
folder holding one), dequantised by transformers' GGUF support once and kept as a folder in
the app's cache (`ggufcache`). It owns the tokenizer and the torch model; its
engine thread (`batch`) runs every forward pass for all callers, several generations in one
pass (`forward`, `rows`) for the families `rows.BATCHED` lists, one at a time through the
model's own attention and cache for any other (`forward.OwnForward`); `describe()` and the log
name the path. It stops each generation as soon as its text is a complete turn. Token ids are
the source of truth for what the model has seen: `PrefixIds` remembers the ids of recent
prompts and completions, so the next turn's prompt reuses them instead of re-tokenising decoded
text, and a `KVStore` keeps the model state (KV cache) of those ids, so the next turn encodes
only its new tokens. The tokenizer may be GPT-2's byte BPE or SentencePiece style (`▁` for
spaces, byte fallback): a BOS id leads every prompt when the tokenizer adds one, a continuation
is encoded without the space such tokenizers put in front of a text, EOS is every id the
generation config names, and the text of a completion is decoded with a few prompt tokens
before it, so that a leading space survives. Weights come in two precisions (see `weights`):
"exact" (float32) and "fast" (int8 weights, batch-invariant, on CPU; float16 on CUDA), with
"repeatable" the same as "fast" on CPU (float32 on CUDA). Before a converted model is
reported loaded, the guard (`probe`) compares it with the same weights in float32 and loads
it in exact precision where it falls short. For the chat prompt format it renders messages
with the tokenizer's chat template (`render_chat`; a GGUF file's template comes with its
tokenizer), folds the system message into the first user message where the template has no
system role, and ends a chat request also at the template's end-of-turn token. It does not
know about sessions, kernels or notebooks.
"""

from __future__ import annotations

import logging
import os
import re
import resource
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from codegen_ui.core import (
    Activity,
    ChatMessage,
    Event,
    Finished,
    GenerationError,
    SamplingParams,
    fold_system,
)
from codegen_ui.engine.cache import Entry, KVStore
from codegen_ui.engine.options import ModelLoadError, ModelUnavailable, require_local
from codegen_ui.engine.prefix import PrefixIds
from codegen_ui.errors import first_line
from codegen_ui.settings import DEFAULTS

if TYPE_CHECKING:
    from codegen_ui.engine.weights import Float32Source

MIB = 2**20
CONTEXT_TOKENS = 8  # prompt tokens decoded before a completion, so its first space survives

log = logging.getLogger(__name__)


def pick_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError("device 'cuda' was asked for but no CUDA GPU is available")
    return requested


def gguf_source(name: str) -> tuple[str, str] | None:
    """(folder, file name) when `name` is a .gguf file or a folder holding exactly one."""
    path = Path(name)
    if path.is_file() and path.suffix.lower() == ".gguf":
        return str(path.parent), path.name
    if path.is_dir() and not (path / "config.json").exists():
        found = sorted(path.glob("*.gguf"))
        if len(found) == 1:
            return str(path), found[0].name
        if len(found) > 1:
            names = ", ".join(f.name for f in found)
            raise ModelLoadError(f"{name!r} holds several .gguf files ({names}); name one")
    return None


def check_gguf_types(path: Path) -> None:
    """Raise ModelLoadError naming a tensor type in the file that gguf cannot dequantise."""
    import numpy as np
    from gguf import GGML_QUANT_SIZES, GGUFReader, dequantize

    try:
        types = {t.tensor_type for t in GGUFReader(str(path)).tensors}
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot read {str(path)!r} as a GGUF file ({exc})") from None
    for qtype in sorted(types):
        block, size = GGML_QUANT_SIZES[qtype]
        if block == 1:  # plain floats and integers: read as they are
            continue
        try:
            dequantize(np.zeros((1, size), np.uint8), qtype)
        except NotImplementedError:
            raise ModelLoadError(
                f"cannot load {path.name}: its {qtype.name} tensors are a quant type "
                f"transformers' GGUF support cannot read; use another quantisation of the model"
            ) from None


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0  # pragma: no cover - every Linux has it


def _load_gguf(folder: str, file: str, dtype: Any) -> tuple[Any, Any]:
    require_local(f"loading {file}", "gguf")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    check_gguf_types(Path(folder) / file)
    start, rss = time.perf_counter(), _rss_mib()
    try:
        tok = AutoTokenizer.from_pretrained(folder, gguf_file=file)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=file, dtype=dtype)
    except (OSError, ValueError, KeyError, NotImplementedError) as exc:
        raise ModelLoadError(f"cannot load {file}: {first_line(exc)}") from None
    # Loaded, it is an ordinary float model: drop the GGUF mark so it can be saved and converted.
    setattr(model, "hf_quantizer", None)  # noqa: B010 - typed as a module attribute
    with_quant = getattr(model.config, "quantization_config", None)
    if with_quant is not None:
        del model.config.quantization_config
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    log.info(
        "GGUF %s dequantised in %.1f s; resident memory +%.0f MiB (peak %.0f MiB)",
        file,
        time.perf_counter() - start,
        _rss_mib() - rss,
        peak,
    )
    return tok, model


def _load_parts(
    name: str, device: str, precision: str = DEFAULTS.precision
) -> tuple[Any, Any, Float32Source | None]:
    """Tokenizer and model, from the local cache or folder first, the hub second; and where the
    CPU fast loader converted it layer by layer, where its float32 weights are read again."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from codegen_ui.engine.weights import load_fast_cpu as fast_cpu

    gguf = gguf_source(name)
    cuda = device.startswith("cuda")
    dtype = torch.float16 if cuda and precision == "fast" else torch.float32
    # Memory-mapped weights stay resident (and mapped) after int8 conversion replaces them.
    extra = {"disable_mmap": True} if not cuda and precision != "exact" else {}
    if gguf is not None:
        from codegen_ui.engine.ggufcache import dequantised_folder

        source = Path(gguf[0]) / gguf[1]
        try:  # dequantised once, then an ordinary folder (`ggufcache`)
            name = str(dequantised_folder(source, lambda: _load_gguf(*gguf, torch.float32)))
        except OSError as exc:  # no cache folder to write: dequantise on every start
            log.warning("cannot keep the dequantised %s (%s)", source.name, exc)
            return (*_load_gguf(*gguf, dtype), None)
    local_only = Path(name).is_dir() or os.environ.get("HF_HUB_OFFLINE") == "1"
    # The hub client retries an unreachable host for about a minute; ask the network once first.
    online = not local_only and hub_reachable()
    attempts = [True, False] if online else [True]
    last: Exception | None = None
    for local_files_only in attempts:
        try:
            tok = AutoTokenizer.from_pretrained(name, local_files_only=local_files_only)
            # CPU "fast": read and convert layer by layer, never the float32 model whole.
            converted = fast_cpu(name, local_files_only) if extra else None
            if converted is not None:
                return tok, *converted
            model = AutoModelForCausalLM.from_pretrained(
                name, dtype=dtype, local_files_only=local_files_only, **extra
            )
            return tok, model, None
        except (OSError, ValueError) as exc:  # not cached, no network, not a model folder
            last = exc
    failure = ModelLoadError if Path(name).exists() else ModelUnavailable
    raise failure(_explain(name, last, online)) from last


def _convert(
    model: Any, tok: Any, source: Float32Source | None, device: str, precision: str
) -> tuple[str, str]:
    """Convert `model` in place to `precision`; its note for `describe()`, and on CPU the
    guard's: the converted model's logits on the probe against the same weights' in float32
    (`probe`), "" when it passes, else one line saying why the model must be loaded again in
    exact precision, with the figure. On CUDA (float16 from the start, no float32 copy) it is
    not probed."""
    from codegen_ui.engine import probe
    from codegen_ui.engine.weights import make_fast

    if device != "cpu":
        return make_fast(model, device, precision), ""
    if precision == "repeatable":
        log.info("precision 'repeatable' is the same as 'fast' on CPU (batch-invariant int8)")
    start = time.perf_counter()
    ids, vocab = probe.probe_ids(tok, bos_lead(tok)), len(tok)
    want = probe.logits(model, ids, vocab) if source is None else None  # before conversion
    note = make_fast(model, device, precision)
    if note.startswith("float32"):  # not converted; the note says why
        return note, ""
    try:
        got = probe.logits(model, ids, vocab)
    except Exception as exc:  # whatever the converted model raises, exact it is
        return note, f"{precision} precision failed on the probe ({first_line(exc)}); using exact"
    if source is not None:
        try:
            with source.model() as reference:
                want = None if reference is None else probe.logits(reference, ids, vocab)
        except (RuntimeError, NotImplementedError, ValueError) as exc:  # reads a weight early
            log.warning(
                "%s precision not probed: float32 from the checkpoint failed: %s",
                precision,
                first_line(exc),
            )
    if want is None:
        return f"{note}; not probed", ""
    verdict = probe.compare(want, got)
    log.info(
        "%s precision on the probe against float32: %s (%.2f s)",
        precision,
        verdict.figures(),
        time.perf_counter() - start,
    )
    return note, "" if verdict.passed else verdict.failure(precision, "exact")


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
        first = first_line(exc) if exc else "unknown error"
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
        cache_mib: int = DEFAULTS.cache_mib,
        precision_note: str = "",
        batch_size: int = DEFAULTS.batch_size,
    ) -> None:
        from codegen_ui.engine.batch import EngineThread
        from codegen_ui.engine.forward import Forward, OwnForward
        from codegen_ui.engine.rows import batched_family

        self.name = name
        self.note = ""  # why this model runs, when it is not the one asked for (a fallback)
        self.tokenizer = tokenizer
        self.model = model.eval()
        self.device = device
        config = model.config.get_text_config()
        self.family = str(getattr(config, "model_type", "") or "unknown")
        self.context_size = int(getattr(config, "max_position_embeddings", None) or 2048)
        self.eos_ids = eos_ids(model, tokenizer)
        self.has_chat_template = bool(getattr(tokenizer, "chat_template", None))
        self.system_role = self.has_chat_template and has_system_role(tokenizer)
        self.turn_end_ids = turn_end_ids(tokenizer) if self.has_chat_template else frozenset()
        self.lead = bos_lead(tokenizer)
        self.valid_vocab = len(tokenizer)
        self.byte_ids = byte_fallback_ids(tokenizer)
        self._adds_space = adds_prefix_space(self.encode)
        self.prefixes = PrefixIds(self.encode, self.decode, encode_rest=self.encode_rest)
        self.n_layers = int(getattr(config, "num_hidden_layers", 0) or 0)
        self.precision_note = precision_note
        self.batched = batched_family(model.config) and self.n_layers > 0
        if self.batched:
            self.forward: Forward = Forward(self.model, device, self.valid_vocab)
        else:
            # Correct for any causal LM, one request per pass; its caches are not kept.
            self.forward = OwnForward(self.model, device, self.valid_vocab)
            batch_size, cache_mib = 1, 0
        self.kv = KVStore(cache_mib * MIB)
        self.engine_thread = EngineThread(self, batch_size=batch_size)
        log.info("model %s (%s): %s", name, self.family, self.path())

    def path(self) -> str:
        """Which engine path the model takes, in words."""
        if self.batched:
            return f"batched, up to {self.engine_thread.batch_size} together"
        return f"one at a time: {self.family} is not on the batched path"

    @classmethod
    def load(
        cls,
        name: str,
        device: str = DEFAULTS.device,
        progress: Callable[[str], None] | None = None,
        precision: str = DEFAULTS.precision,
        cache_mib: int = DEFAULTS.cache_mib,
        batch_size: int = DEFAULTS.batch_size,
    ) -> TransformersModel:
        from codegen_ui.engine.weights import release_freed_memory

        report = progress or (lambda _msg: None)
        report(f"loading {name}")
        try:
            chosen = pick_device(device)
        except ModuleNotFoundError as exc:
            missing = f"{exc.name} is not installed"
            raise ModelLoadError(f"cannot load model {name!r}: {missing}") from exc
        tok, model, source = _load_parts(name, chosen, precision)
        model.to(chosen)
        note = ""
        if precision != "exact":
            note, failure = _convert(model, tok, source, chosen, precision)
            if failure:  # the guard: this precision breaks this model
                log.warning("%s: %s", name, failure)
                report(failure)
                del model, source
                release_freed_memory()
                model, note = _load_parts(name, chosen, "exact")[1], failure
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
        how = f"{self.name} on {self.device} ({self.precision_note or dtype}; {self.path()})"
        return f"{how} · {self.note}" if self.note else how

    def render_chat(self, messages: Sequence[ChatMessage]) -> str:
        if not self.has_chat_template:
            raise GenerationError(f"{self.name} has no chat template")
        return render_template(self.tokenizer, messages, self.system_role)

    def activity(self) -> Activity:
        writing, waiting = self.engine_thread.counts()
        return Activity(writing, waiting, self.engine_thread.batch_size)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def encode_rest(self, text: str) -> list[int]:
        """Ids for text that follows other text: without a space put in front of it."""
        if not self._adds_space:
            return self.encode(text)
        # Encoded after a newline, which such tokenizers keep as a token of its own, then
        # the newline's ids dropped; if they merged with the text, plain encoding it is.
        anchor = self.encode("\n")
        ids = self.encode("\n" + text)
        return ids[len(anchor) :] if ids[: len(anchor)] == anchor else ids

    def decode(self, ids: list[int]) -> str:
        return str(
            self.tokenizer.decode(
                ids, skip_special_tokens=False, clean_up_tokenization_spaces=False
            )
        )

    def completion_text(self, ids: list[int], prompt_len: int) -> str:
        """The text of ids[prompt_len:] as it reads after the prompt.

        Decoded with a few prompt tokens before it and those cut off again: SentencePiece-style
        decoders drop the space of a sequence's first token, which would lose a completion's
        leading space.
        """
        start = max(0, prompt_len - CONTEXT_TOKENS)
        before = self.decode(ids[start:prompt_len])
        text = self.decode(ids[start:])
        return text[len(before) :] if text.startswith(before) else self.decode(ids[prompt_len:])

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def stream(
        self,
        prompt: str,
        params: SamplingParams,
        cancel: threading.Event | None = None,
        prompt_format: str = "paper",
    ) -> Iterator[Event]:
        cancel = cancel or threading.Event()
        request = self.engine_thread.submit(prompt, params, cancel, prompt_format)
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
        self.engine_thread.close()

    # ---- called by the engine thread -----------------------------------------------------
    def open(self, prompt: str) -> tuple[list[int], Any, int]:
        """Token ids for the prompt, a KV cache holding a prefix of them, and its length."""
        from codegen_ui.engine.kvcache import copy_prefix, crop_to, new_cache, own_cache

        ids, _ = self.prefixes.ids_for(prompt)
        bos = self.tokenizer.bos_token
        # A chat template may write the BOS itself; it then leads once, not twice.
        if not (self.lead and bos and prompt.startswith(bos)):
            ids = self.lead + ids
        if not self.batched:
            return ids, own_cache(self.model.config), 0
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

        self.prefixes.remember(ids[len(self.lead) :])
        if not self.batched or seq_length(cache) != read:
            return  # transformers' own cache is not kept; or a pass failed half-way
        entry = Entry(tuple(ids[:read]), min(prompt_len, read), cache, cache_nbytes(cache))
        self.kv.put(entry)


def eos_ids(model: Any, tokenizer: Any) -> frozenset[int]:
    """The ids that end a generation: the generation config's (one or several), else the
    tokenizer's EOS."""
    found: Any = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if found is None:
        found = getattr(model.config.get_text_config(), "eos_token_id", None)
    if found is None:
        found = tokenizer.eos_token_id
    ids = found if isinstance(found, (list, tuple)) else [found]
    return frozenset(int(i) for i in ids if i is not None)


def render_template(tokenizer: Any, messages: Sequence[ChatMessage], system_role: bool) -> str:
    """Messages in the tokenizer's chat template, with the generation prompt at the end."""
    shown = messages if system_role else fold_system(messages)
    listed = [{"role": m.role, "content": m.content} for m in shown]
    try:
        text = tokenizer.apply_chat_template(listed, tokenize=False, add_generation_prompt=True)
    except Exception as exc:  # jinja's TemplateError and what a template raises itself
        raise GenerationError(f"the model's chat template failed: {first_line(exc)}") from None
    return str(text)


def has_system_role(tokenizer: Any) -> bool:
    """Whether the chat template renders a system message (some raise, some drop it)."""
    mark = "SYSTEM-MESSAGE-PROBE"
    listed = [{"role": "system", "content": mark}, {"role": "user", "content": "hi"}]
    try:
        return mark in str(tokenizer.apply_chat_template(listed, tokenize=False))
    except Exception:  # the template refuses the role
        return False


def turn_end_ids(tokenizer: Any) -> frozenset[int]:
    """The special token the template writes after an assistant's answer (`<|im_end|>`,
    `<|eot_id|>`, `<end_of_turn>`), where it writes one."""
    answer = "ANSWER-PROBE"
    listed = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": answer}]
    try:
        text = str(tokenizer.apply_chat_template(listed, tokenize=False))
    except Exception:
        return frozenset()
    after = text.split(answer, 1)[1] if answer in text else ""
    ids = list(tokenizer.encode(after, add_special_tokens=False)) if after.strip() else []
    special = set(getattr(tokenizer, "all_special_ids", ())) | set(
        getattr(tokenizer, "added_tokens_decoder", {}) or {}
    )
    return frozenset(ids[:1]) if ids and ids[0] in special else frozenset()


def bos_lead(tokenizer: Any) -> list[int]:
    """[BOS] when the tokenizer puts it in front of a text (the model was trained so), else []."""
    bos = tokenizer.bos_token_id
    if bos is None:
        return []
    with_special = list(tokenizer.encode("x", add_special_tokens=True))
    plain = list(tokenizer.encode("x", add_special_tokens=False))
    return [bos] if with_special[:1] == [bos] and plain[:1] != [bos] else []


def adds_prefix_space(encode: Callable[[str], list[int]]) -> bool:
    """Whether the tokenizer puts a space in front of every text (SentencePiece's dummy
    prefix): then "\n" encoded alone differs from "\n" encoded after other text."""
    alone, after, head = encode("\n"), encode("a\n"), encode("a")
    return after[: len(head)] != head or after[len(head) :] != alone


def byte_fallback_ids(tokenizer: Any) -> frozenset[int]:
    """Ids of SentencePiece-style byte tokens (`<0x0A>`), which spell what the vocabulary
    lacks one byte at a time; none for GPT-2's byte-level BPE."""
    vocab = tokenizer.get_vocab()
    return frozenset(i for t, i in vocab.items() if re.fullmatch(r"<0x[0-9A-Fa-f]{2}>", t))
