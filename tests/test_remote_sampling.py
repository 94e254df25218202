"""What the remote backend sends: every sampling field, checked on a server that records bodies.

A small stdlib HTTP server speaks either dialect the backend knows (vLLM-shaped: it tokenizes
and reports max_model_len; `transformers serve`-shaped: it reports a load status and serves a
folder on this machine), answers every completion with one fixed complete turn, and keeps each
request body. The tests read those bodies: the temperature, top-p, top-k, seed and token budget
the user asked for, with "off" spelled as each server needs it, through `stream` and through
`codegen-ui mtpb` itself.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.core import Delta, Finished, SamplingParams
from codegen_ui.engine import ServerOptions, load_model

TURN = "x = 1\n\n\n"  # a complete turn by the paper's rules: the stream ends at once


class Recorder(BaseHTTPRequestHandler):
    served: str  # the model name /v1/models lists
    dialect: str  # "vllm" or "transformers"
    bodies: list[dict[str, Any]]  # each /v1/completions body, in arrival order

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _json(self, body: Any, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        entry: dict[str, Any] = {"id": self.served}
        if self.dialect == "vllm":
            entry["max_model_len"] = 512
        else:
            entry["status"] = "loaded"
        self._json({"data": [entry]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path in ("/tokenize", "/detokenize"):
            if self.dialect != "vllm":
                self._json({"detail": "Not Found"}, 404)
            elif self.path == "/tokenize":  # one id per character is enough to count by
                self._json({"tokens": [ord(c) for c in body["prompt"]]})
            else:
                self._json({"prompt": "".join(chr(i) for i in body["tokens"])})
            return
        self.bodies.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        ids = [ord(c) for c in TURN]
        choice = {"text": TURN, "token_ids": ids, "finish_reason": "stop"}
        self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


@dataclass
class Recording:
    url: str
    bodies: list[dict[str, Any]]


def recording(served: str, dialect: str) -> Iterator[Recording]:
    bodies: list[dict[str, Any]] = []
    attrs = {"served": served, "dialect": dialect, "bodies": bodies}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (Recorder,), attrs))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Recording(f"http://127.0.0.1:{httpd.server_address[1]}/v1", bodies)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def vllm() -> Iterator[Recording]:
    yield from recording("rec-model", "vllm")


@pytest.fixture
def hf_serve(tiny_model_dir: Path) -> Iterator[Recording]:
    # `transformers serve PATH` names the model by its folder; the backend counts with it.
    yield from recording(str(tiny_model_dir), "transformers")


def sent(rec: Recording, params: SamplingParams) -> dict[str, Any]:
    model = load_model(rec.url, server=ServerOptions())
    events = list(model.stream("# Set x to 1.\n", params))
    assert isinstance(events[-1], Finished) and events[-1].stop_reason == "complete"
    assert "".join(e.text for e in events if isinstance(e, Delta)) == TURN
    return rec.bodies[-1]


SAMPLED = SamplingParams(max_new_tokens=40, temperature=0.7, top_p=0.9, seed=1234, top_k=50)


def test_vllm_gets_each_sampling_field_as_asked(vllm: Recording) -> None:
    body = sent(vllm, SAMPLED)
    fields = {k: body[k] for k in ("max_tokens", "temperature", "top_p", "top_k", "seed")}
    assert fields == {"max_tokens": 40, "temperature": 0.7, "top_p": 0.9, "top_k": 50, "seed": 1234}
    assert body["prompt"] == [ord(c) for c in "# Set x to 1.\n"]  # ids, as the server counts
    assert "stop" not in body  # the turn is cut here, by the paper's rules


@pytest.mark.parametrize(
    ("params", "top_k", "temperature", "top_p"),
    [
        (SamplingParams(temperature=0.7, top_k=0), -1, 0.7, 0.95),  # top-k off: vLLM's -1
        (SamplingParams(top_k=50), 50, 0.0, 1.0),  # greedy: the asked top-k, sampling off
    ],
)
def test_vllm_spells_off_as_it_reads_it(
    vllm: Recording, params: SamplingParams, top_k: int, temperature: float, top_p: float
) -> None:
    body = sent(vllm, params)
    assert (body["top_k"], body["temperature"], body["top_p"]) == (top_k, temperature, top_p)
    assert "seed" not in body  # no seed asked: the server draws one


def test_transformers_serve_gets_them_in_its_generation_config(hf_serve: Recording) -> None:
    body = sent(hf_serve, SAMPLED)
    assert "top_k" not in body  # it rejects fields outside OpenAI's schema
    assert (body["temperature"], body["top_p"], body["seed"], body["max_tokens"]) == (
        0.7,
        0.9,
        1234,
        40,
    )
    config = json.loads(body["generation_config"])
    assert config == {
        "do_sample": True,
        "temperature": 0.7,
        "top_p": 0.9,
        "top_k": 50,
        "max_new_tokens": 40,
    }
    off = json.loads(sent(hf_serve, SamplingParams(temperature=0.7, top_k=0))["generation_config"])
    assert off["top_k"] == 0  # transformers' "off"; left out it would mean 50
    greedy = json.loads(sent(hf_serve, SamplingParams(top_k=50))["generation_config"])
    assert greedy == {"do_sample": False, "temperature": 1.0, "top_p": 1.0, "max_new_tokens": 128}


@pytest.mark.slow
def test_mtpb_sends_the_top_k_it_was_given(
    vllm: Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codegen_ui.cli import main

    raw = {"id": "9", "name": "p", "description": "", "category": "math", "max_gen_length": 8}
    raw |= {"prompts": ["Set x to {x}."], "inputs": [{"x": 1}], "outputs": [1]}
    data = tmp_path / "own.jsonl"
    data.write_text(json.dumps(raw) + "\n")
    monkeypatch.delenv("CODEGEN_UI_API_KEY", raising=False)
    for top_k, expected in (("50", 50), ("0", -1)):
        out = tmp_path / f"k{top_k}.jsonl"
        argv = ["mtpb", "--data", str(data), "--model", vllm.url, "--out", str(out)]
        argv += ["--temperature", "0.2", "--top-p", "0.95", "--top-k", top_k, "--seed", "7"]
        assert main(argv) == 0
        body = vllm.bodies[-1]
        assert (body["top_k"], body["temperature"], body["top_p"]) == (expected, 0.2, 0.95)
        assert isinstance(body["seed"], int) and body["max_tokens"] == 8
