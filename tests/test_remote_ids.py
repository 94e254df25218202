"""The remote backend's token-id path, in CI: a vLLM-shaped server over the tiny model.

vLLM itself cannot share the app's environment (tests/test_vllm.py runs it where it is
installed). This small HTTP server answers the four endpoints the backend uses the way vLLM
does (`/v1/models` with max_model_len, `/tokenize`, `/detokenize`, streamed `/v1/completions`
over prompt ids with `return_token_ids`), decoding greedily with the real tiny CodeGen, so the
backend's id bookkeeping across turns is checked against the in-process engine token for token.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.core import Delta, Finished, SamplingParams, render_prompt, truncate
from codegen_ui.engine import ServerOptions, load_model
from tests.served import server_model

GREEDY = SamplingParams(max_new_tokens=24)
INSTRUCTIONS = ["Set x to 41.", "Print x plus one.", "Define a function add.", "Call it."]


class VllmShaped(BaseHTTPRequestHandler):
    model: Any
    tokenizer: Any
    name: str
    requests: list[dict[str, Any]]

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _json(self, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._json({"data": [{"id": self.name, "owned_by": "vllm", "max_model_len": 512}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/tokenize":
            self._json({"tokens": self.tokenizer.encode(body["prompt"], add_special_tokens=False)})
        elif self.path == "/detokenize":
            self._json({"prompt": self.decode(body["tokens"])})
        else:
            self.requests.append(body)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for event in self.generate(body):
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

    def decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, clean_up_tokenization_spaces=False))

    def generate(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        import torch

        ids, new, sent = list(body["prompt"]), [], ""
        with torch.no_grad():
            while len(new) < body["max_tokens"]:
                token = int(self.model(torch.tensor([ids + new])).logits[0, -1].argmax())
                if token == self.tokenizer.eos_token_id:
                    yield {"choices": [{"text": "", "token_ids": [], "finish_reason": "stop"}]}
                    return
                new.append(token)
                text = self.decode(new)
                delta = "" if text.endswith("\ufffd") else text[len(sent) :]
                sent += delta
                yield {"choices": [{"text": delta, "token_ids": [token], "finish_reason": None}]}
        yield {"choices": [{"text": "", "token_ids": [], "finish_reason": "length"}]}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, type]]:
    from transformers import AutoTokenizer, CodeGenForCausalLM

    path = server_model(tmp_path_factory.mktemp("ids") / "tiny")
    handler = type(
        "Handler",
        (VllmShaped,),
        {
            "model": CodeGenForCausalLM.from_pretrained(path).eval(),
            "tokenizer": AutoTokenizer.from_pretrained(path),
            "name": "tiny-codegen",
            "requests": [],
        },
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", path, handler
    httpd.shutdown()
    httpd.server_close()


def session(model: Any) -> list[tuple[str, str, int]]:
    history: list[tuple[str, str]] = []
    turns = []
    for instruction in INSTRUCTIONS:
        events = list(model.stream(render_prompt(history, instruction), GREEDY))
        done = events[-1]
        assert isinstance(done, Finished)
        text = "".join(e.text for e in events if isinstance(e, Delta))
        turns.append((text, done.stop_reason, done.prompt_tokens))
        history.append((instruction, truncate(text)))
    return turns


def test_prompts_go_as_ids_and_a_session_equals_the_in_process_one(
    served: tuple[str, Path, type],
) -> None:
    url, path, handler = served
    remote = load_model(url, server=ServerOptions())
    assert remote.describe() == f"tiny-codegen served at {url} (prompts as token ids)"
    assert remote.context_size == 512
    local = load_model(str(path), device="cpu", precision="exact", cache_mib=0)
    assert session(remote) == session(local)
    body = handler.requests[-1]  # type: ignore[attr-defined]
    assert all(isinstance(i, int) for i in body["prompt"])
    assert (body["top_k"], body["return_token_ids"], body["temperature"]) == (-1, True, 0.0)


def test_a_local_tokenizer_does_the_counting_and_ids_still_go(
    served: tuple[str, Path, type],
) -> None:
    url, path, handler = served
    remote = load_model(url, server=ServerOptions(tokenizer=str(path)))
    local = load_model(str(path), device="cpu", precision="exact", cache_mib=0)
    assert session(remote) == session(local)
    assert all(isinstance(i, int) for i in handler.requests[-1]["prompt"])  # type: ignore[attr-defined]


class Stalls(BaseHTTPRequestHandler):
    """Answers a completion with one event, then says nothing more."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        event = {"choices": [{"text": "x = ", "finish_reason": None}]}
        self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        self.wfile.flush()
        threading.Event().wait(10)


def test_a_server_that_stalls_mid_turn_ends_it_after_the_timeout() -> None:
    from codegen_ui.engine.remote import RemoteModel, Served
    from codegen_ui.engine.server_http import Endpoint

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Stalls)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        served = Served("m", 512, server_tokenizes=False, transformers_serve=False)
        model = RemoteModel(Endpoint(url, timeout=0.5), served, lambda t: [0] * len(t), str, 512)
        events = list(model.stream("# Set x.\n", GREEDY))
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert events[0] == Delta("x = ")
    done = events[-1]
    assert isinstance(done, Finished) and done.stop_reason == "error"
    assert done.message == f"the model server at {url} sent nothing for 0.5 s; the turn stops here"


def test_the_chat_format_renders_the_template_here_and_equals_the_in_process_session(
    served: tuple[str, Path, type],
) -> None:
    """With a local tokenizer that has a chat template, the remote backend renders chat
    prompts itself and sends them as ids: a chat session equals the in-process one."""
    from codegen_ui.core import Ask, chat_code, fit
    from tests.tiny import add_chat_template

    url, path, _handler = served
    add_chat_template(path)
    remote = load_model(url, server=ServerOptions(tokenizer=str(path)))
    local = load_model(str(path), device="cpu", precision="exact", cache_mib=0)
    assert remote.has_chat_template and local.has_chat_template

    def chat_session(model: Any) -> list[tuple[str, str]]:
        history: list[tuple[str, str]] = []
        out = []
        for instruction in INSTRUCTIONS[:2]:
            fitted = fit(
                "chat",
                history,
                Ask(instruction),
                model.count_tokens,
                512,
                24,
                "",
                model.render_chat,
            )
            events = list(model.stream(fitted.text, GREEDY, None, "chat"))
            done = events[-1]
            assert isinstance(done, Finished)
            text = "".join(e.text for e in events if isinstance(e, Delta))
            out.append((text, done.stop_reason))
            history.append((instruction, chat_code(text) or "x = 1"))
        return out

    assert chat_session(remote) == chat_session(local)
    from codegen_ui.core import chat_messages

    messages = chat_messages([("a", "b = 1")], "c")
    assert remote.render_chat(messages) == local.render_chat(messages)
