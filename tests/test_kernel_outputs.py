"""Output caps on scripted IOPub messages (the real-kernel floods are in the adversarial suite)."""

from __future__ import annotations

from typing import Any

from codegen_ui.kernel import OutputCaps
from codegen_ui.kernel.outputs import Collector


def stream(text: str, name: str = "stdout") -> dict[str, Any]:
    return {"header": {"msg_type": "stream"}, "content": {"name": name, "text": text}}


def display(data: dict[str, str]) -> dict[str, Any]:
    return {
        "header": {"msg_type": "display_data"},
        "content": {"data": data, "metadata": {}, "transient": {}},
    }


def clear(wait: bool = False) -> dict[str, Any]:
    return {"header": {"msg_type": "clear_output"}, "content": {"wait": wait}}


def texts(outputs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(o["name"], o["text"]) for o in outputs if o["output_type"] == "stream"]


def test_writes_to_one_stream_merge_and_streams_alternate() -> None:
    c = Collector()
    for msg in (stream("a"), stream("b"), stream("!", "stderr"), stream("c")):
        c.add(msg)
    assert texts(c.finish()) == [("stdout", "ab"), ("stderr", "!"), ("stdout", "c")]


def test_under_the_cap_nothing_is_dropped() -> None:
    c = Collector(OutputCaps(text_bytes=100))
    for i in range(9):
        c.add(stream(f"{i:09d}\n"))  # 90 characters, the tail part included
    assert "".join(t for _, t in texts(c.finish())) == "".join(f"{i:09d}\n" for i in range(9))


def test_one_huge_chunk_keeps_head_and_tail() -> None:
    c = Collector(OutputCaps(text_bytes=100))
    c.add(stream("H" * 50 + "x" * 10_000 + "T" * 50))
    (_, head), (_, marker), (_, tail) = texts(c.finish())
    assert head == "H" * 50 and tail == "T" * 50
    assert "10,000 characters of output dropped" in marker


def test_many_small_chunks_keep_the_first_and_the_last() -> None:
    streamed: list[dict[str, Any]] = []
    c = Collector(OutputCaps(text_bytes=1000), streamed.append)
    for i in range(10_000):
        c.add(stream(f"{i}\n"))
    out = "".join(t for _, t in texts(c.finish()))
    assert out.startswith("0\n1\n2\n") and out.endswith("9998\n9999\n")
    assert len(out) < 1200
    notes = [o for o in streamed if "head and tail are kept" in o["text"]]
    assert len(notes) == 1  # the live view is told once, then gets nothing more
    assert len(streamed) < 600


def test_clear_output_starts_over() -> None:
    c = Collector(OutputCaps(text_bytes=100))
    c.add(stream("x" * 500))
    c.add(clear())
    c.add(stream("fresh"))
    c.add(clear(wait=True))
    assert texts(c.finish()) == [("stdout", "fresh")]  # a pending clear waits for new output
    c.add(stream("newer"))
    assert texts(c.finish()) == [("stdout", "newer")]


def test_output_count_and_rich_sizes_are_capped() -> None:
    c = Collector(OutputCaps(outputs=3, image_bytes=10))
    c.add(display({"image/png": "A" * 11, "text/plain": "<Figure>"}))
    c.add(display({"text/html": "<b>ok</b>"}))
    for _ in range(5):
        c.add(display({"text/plain": "more"}))
    outs = c.finish()
    assert "image/png" not in outs[0]["data"]
    assert "image/png output of 11 bytes not shown" in outs[0]["data"]["text/plain"]
    assert outs[1]["data"]["text/html"] == "<b>ok</b>"
    assert len(outs) == 4
    assert outs[-1]["text"] == "[4 more outputs dropped: at most 3]\n"


def test_rich_outputs_of_one_run_are_capped_together() -> None:
    c = Collector(OutputCaps(image_bytes=10, rich_bytes=25))
    for _ in range(4):
        c.add(display({"image/png": "A" * 10}))
    outs = c.finish()
    assert [("image/png" in o["data"]) for o in outs] == [True, True, False, False]
    assert "rich outputs are over 25 bytes" in outs[2]["data"]["text/plain"]
