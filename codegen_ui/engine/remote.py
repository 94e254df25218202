"""The remote backend of the model seam: a CodeGen model on an OpenAI-compatible server.

A model setting that is an `http(s)://...` URL ending in `/v1` names a server (vLLM, SGLang,
TGI, `transformers serve`). `RemoteModel.connect` asks `/v1/models` for the served model and
its context size, and whether the server tokenizes (vLLM's `/tokenize`): then prompts go as
token ids, kept across turns as the in-process engine keeps them, so ids stay the record of what
the model saw; else as text, counted by a local tokenizer. `stream` posts one streamed
`/v1/completions` request with the turn's sampling as asked (temperature, top-p, top-k, seed,
max tokens) and closes it the moment the text is a complete turn by the stop rule of the
request's prompt format (`turn_complete`), or on Stop. For the chat format the template is
rendered here, with the local tokenizer's chat template (`--tokenizer`, or the served folder),
and sent as text or ids like any prompt. A tokenizer here takes transformers, the `tokenizer`
extra (no torch); a server that tokenizes, with the paper's format, needs none. Failures end
the turn with what it had and one line saying why. HTTP lives in
`codegen_ui.engine.server_http`; this module knows nothing of sessions or kernels.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen_ui.core import (
    Activity,
    ChatMessage,
    Delta,
    Event,
    Finished,
    GenerationError,
    SamplingParams,
    StopReason,
    turn_complete,
)
from codegen_ui.engine.options import ServerOptions
from codegen_ui.engine.prefix import PrefixIds
from codegen_ui.engine.server_http import CompletionStream, Endpoint, ServerError, call
from codegen_ui.errors import MissingExtra, first_line, require_extra

DEFAULT_CONTEXT = 2048  # CodeGen's n_positions, when neither server nor setting says


@dataclass(frozen=True)
class Served:
    """What `/v1/models` and a probe of `/tokenize` told about the server."""

    name: str  # the model name requests must carry
    context: int  # max_model_len where the server reports it, else 0
    server_tokenizes: bool  # /tokenize answers (vLLM, SGLang): prompts go as ids
    transformers_serve: bool  # `transformers serve`: sampling goes in generation_config


def probe(ep: Endpoint, wanted: str) -> Served:
    """Ask the server what it serves; ServerError when it is not there or lacks `wanted`."""
    listing = call(ep, "GET", "/v1/models")
    entries = [e for e in listing.get("data", []) if isinstance(e, dict) and e.get("id")]
    names = [str(e["id"]) for e in entries]
    if wanted and names and wanted not in names:
        raise ServerError(
            f"the model server at {ep.url} does not serve {wanted!r}; it serves: "
            + ", ".join(names)
        )
    if not wanted:
        if len(names) != 1:
            which = ", ".join(names) if names else "no model list"
            raise ServerError(
                f"the model server at {ep.url} has {which}; name the model with --served-model"
            )
        wanted = names[0]
    entry = next((e for e in entries if e["id"] == wanted), {})
    try:
        call(ep, "POST", "/tokenize", {"model": wanted, "prompt": "#", "add_special_tokens": False})
        tokenizes = True
    except ServerError:
        tokenizes = False
    return Served(
        name=wanted,
        context=int(entry.get("max_model_len") or 0),
        server_tokenizes=tokenizes,
        transformers_serve="status" in entry,  # only `transformers serve` reports load status
    )


class RemoteModel:
    """A served model behind the CodeModel protocol; many turns at once (the server batches)."""

    def __init__(
        self,
        ep: Endpoint,
        served: Served,
        encode: Callable[[str], list[int]],
        decode: Callable[[list[int]], str],
        context_size: int,
        template: Any = None,
        streams: int = 1,
    ) -> None:
        self.ep = ep
        self.template = template  # a local tokenizer with a chat template, or None
        self.served = served
        self.name = ep.url
        self.context_size = context_size
        self.streams = streams  # turns it is sent at once: the server batches them
        self.encode = encode
        self.decode = decode
        self.prefixes = PrefixIds(encode, decode, capacity=8)
        self._lock = threading.Lock()  # guards `prefixes` across concurrent turns

    @classmethod
    def connect(
        cls, url: str, options: ServerOptions, progress: Callable[[str], None] | None = None
    ) -> RemoteModel:
        """Reach the server and learn what it serves; raises ServerError (one line)."""
        report = progress or (lambda _msg: None)
        ep = Endpoint(url.rstrip("/"), options.api_key, options.timeout)
        report(f"connecting to {ep.url}")
        served = probe(ep, options.served_model)
        local = options.tokenizer or (served.name if Path(served.name).is_dir() else "")
        if local:
            require_tokenizer(f"the tokenizer {local!r}")
        template = chat_tokenizer(local) if local else None
        if options.tokenizer:
            encode, decode = local_tokenizer(options.tokenizer)
        elif served.server_tokenizes:
            encode, decode = server_tokenizer(ep, served.name)
        elif local:  # `transformers serve PATH` on this machine
            encode, decode = local_tokenizer(served.name)
        else:
            raise ServerError(
                f"the model server at {ep.url} cannot count tokens; pass the model's "
                "tokenizer with --tokenizer (hub id or folder)"
            )
        context = served.context or options.context_size or local_context(served.name)
        report(f"connected to {served.name} at {ep.url}")
        return cls(ep, served, encode, decode, context, template, options.streams)

    @property
    def has_chat_template(self) -> bool:
        return self.template is not None

    def render_chat(self, messages: Sequence[ChatMessage]) -> str:
        from codegen_ui.engine.hf import has_system_role, render_template

        if self.template is None:
            raise GenerationError(
                f"{self.served.name} has no chat template here: pass its tokenizer with --tokenizer"
            )
        return render_template(self.template, messages, has_system_role(self.template))

    def activity(self) -> Activity:
        # The server's own queue is not visible from here; what it is sent at once is.
        return Activity(capacity=self.streams)

    def describe(self) -> str:
        way = "token ids" if self.served.server_tokenizes else "text"
        return f"{self.served.name} served at {self.ep.url} (prompts as {way})"

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def stream(
        self,
        prompt: str,
        params: SamplingParams,
        cancel: threading.Event | None = None,
        prompt_format: str = "paper",
    ) -> Iterator[Event]:
        start = time.perf_counter()
        if self.served.server_tokenizes:
            with self._lock:
                ids, _ = self.prefixes.ids_for(prompt)
        else:
            ids = self.encode(prompt)
        text, shown, first_token_s = "", 0, 0.0
        generated: list[int] = []
        usage: dict[str, Any] = {}
        reason: StopReason = "length"
        message = ""
        try:
            with CompletionStream(self.ep, self.request(prompt, ids, params)) as events:
                for event in events.events(cancel):
                    usage = event.get("usage") or usage
                    choice = (event.get("choices") or [{}])[0]
                    generated.extend(choice.get("token_ids") or ())
                    text += choice.get("text") or ""
                    if text and not first_token_s:
                        first_token_s = time.perf_counter() - start
                    # A trailing U+FFFD is half of a multi-byte character: wait for the rest.
                    if len(text) > shown and not text.endswith("\ufffd"):
                        yield Delta(text[shown:])
                        shown = len(text)
                    if turn_complete(prompt_format, text):
                        reason = "complete"
                        break
                    finish = choice.get("finish_reason")
                    if finish:
                        reason = "length" if finish == "length" else "eos"
                if cancel is not None and cancel.is_set() and reason != "complete":
                    reason = "cancelled"
        except ServerError as exc:
            reason, message = "error", str(exc)
        if len(text) > shown:
            yield Delta(text[shown:])
        if self.served.server_tokenizes and generated:
            with self._lock:
                self.prefixes.remember(ids + generated)
        yield Finished(
            stop_reason=reason,
            prompt_tokens=len(ids),
            new_tokens=len(generated)
            or int(usage.get("completion_tokens") or 0)
            or (self.count_tokens(text) if text else 0),
            first_token_s=first_token_s,
            total_s=time.perf_counter() - start,
            message=message,
        )

    def request(self, prompt: str, ids: list[int], params: SamplingParams) -> dict[str, Any]:
        """The /v1/completions body for one turn, in the dialect the server speaks.

        Every sampling field is sent as asked, so the server samples as the in-process engine
        does; where a server spells "off" differently, the field says so. No `stop` strings:
        the turn is cut here by the paper's rules, and the stream closed.
        """
        body: dict[str, Any] = {
            "model": self.served.name,
            "prompt": ids if self.served.server_tokenizes else prompt,
            "max_tokens": params.max_new_tokens,
            "temperature": 0.0 if params.greedy else params.temperature,
            "top_p": 1.0 if params.greedy else params.top_p,
        }
        if params.seed is not None:  # None: the server draws one, as the engine would
            body["seed"] = params.seed
        if self.served.transformers_serve:
            # It rejects fields outside OpenAI's schema, and samples only when told to.
            config: dict[str, Any] = {
                "do_sample": not params.greedy,
                "temperature": body["temperature"] or 1.0,  # 1.0: greedy draws no warning
                "top_p": body["top_p"],
                "max_new_tokens": params.max_new_tokens,
            }
            if not params.greedy:
                # transformers reads 0 as off; left out, it would take its default of 50.
                config["top_k"] = params.top_k
            body["generation_config"] = json.dumps(config)
        else:
            # vLLM and SGLang read -1 as off (vLLM 0.8 and later also 0); left out, they
            # would take the model's own generation_config default.
            body["top_k"] = params.top_k if params.top_k > 0 else -1
            if self.served.server_tokenizes:
                body["return_token_ids"] = True  # vLLM: the ids it generated, to keep
                body["skip_special_tokens"] = False
        return body


def require_tokenizer(feature: str) -> None:
    """A tokenizer on this machine takes transformers (the `tokenizer` extra; no torch)."""
    try:
        require_extra("tokenizer", feature, "transformers", "tokenizers")
    except MissingExtra as exc:
        raise ServerError(str(exc)) from None


def local_tokenizer(name: str) -> tuple[Callable[[str], list[int]], Callable[[list[int]], str]]:
    """Encode and decode with a transformers tokenizer from a folder or the local hub cache."""
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError) as exc:
        raise ServerError(f"cannot load the tokenizer {name!r} ({first_line(exc)})") from None

    def encode(text: str) -> list[int]:
        return list(tok.encode(text, add_special_tokens=False))

    def decode(ids: list[int]) -> str:
        return str(tok.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False))

    return encode, decode


def chat_tokenizer(name: str) -> Any:
    """The local tokenizer `name` when it has a chat template (rendered here), else None."""
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError):
        return None
    return tok if getattr(tok, "chat_template", None) else None


def local_context(name: str) -> int:
    """n_positions of a served folder that is also on this machine, else CodeGen's 2048."""
    try:
        config = json.loads((Path(name) / "config.json").read_text())
    except (OSError, ValueError):
        return DEFAULT_CONTEXT
    return int(config.get("n_positions") or DEFAULT_CONTEXT)


def server_tokenizer(
    ep: Endpoint, model: str
) -> tuple[Callable[[str], list[int]], Callable[[list[int]], str]]:
    """Encode and decode through vLLM's /tokenize and /detokenize."""

    def encode(text: str) -> list[int]:
        body = {"model": model, "prompt": text, "add_special_tokens": False}
        return [int(i) for i in call(ep, "POST", "/tokenize", body)["tokens"]]

    def decode(ids: list[int]) -> str:
        return str(call(ep, "POST", "/detokenize", {"model": model, "tokens": ids})["prompt"])

    return encode, decode
