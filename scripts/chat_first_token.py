"""Seconds to the first token of a new turn after a history of about 1,500 prompt tokens, in
both prompt formats, cold (nothing cached) and warm (the previous turn just generated, as in a
session), as `codegen-ui bench` measures it for the paper's format.

    PYTHONPATH=. python scripts/chat_first_token.py MODEL [--precision fast] [--tokens 1500]

The previous turn's code is fixed text, so both formats re-read the same amount after it. The
history is synthetic notebook code (`snippets`), the same for both formats.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from codegen_ui.core import Ask, Finished, PromptFormat, SamplingParams, fit
from codegen_ui.engine import load_model

INSTRUCTIONS = [
    "Load the numbers from 1 to 20 into a list.",
    "Keep the even ones.",
    "Square each of them.",
    "Print their sum.",
]


def snippets() -> list[str]:
    """Turns of plausible notebook code, a few lines each."""
    return [
        f"values_{i} = [n * {i} for n in range(1, 21)]\n"
        f"evens_{i} = [v for v in values_{i} if v % 2 == 0]\n"
        f"total_{i} = sum(e * e for e in evens_{i})\nprint(total_{i})"
        for i in range(1, 40)
    ]


def prompt(model: Any, fmt: PromptFormat, history: Any, instruction: str) -> str:
    render = model.render_chat if fmt == "chat" else None
    return fit(fmt, history, Ask(instruction), model.count_tokens, 8192, 16, render=render).text


def first_token(model: Any, fmt: str, text: str, new: int = 1) -> Finished:
    events = list(model.stream(text, SamplingParams(max_new_tokens=new), None, fmt))
    done = events[-1]
    assert isinstance(done, Finished)
    return done


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--precision", default="fast")
    p.add_argument("--tokens", type=int, default=1500)
    args = p.parse_args()
    model: Any = load_model(args.model, device="cpu", precision=args.precision)
    first_token(model, "paper", "x = 1\n", 4)  # first-call overheads
    figures = {}
    formats: tuple[PromptFormat, ...] = ("paper", "chat")
    for fmt in formats:
        history: list[tuple[str, str]] = []
        for i, code in enumerate(snippets() * 4):
            turn = (INSTRUCTIONS[i % len(INSTRUCTIONS)], code)
            if model.count_tokens(prompt(model, fmt, [*history, turn], "x")) > args.tokens:
                break
            history.append(turn)
        last = [*history, (INSTRUCTIONS[2], snippets()[0])]
        text = prompt(model, fmt, last, INSTRUCTIONS[3])
        model.kv.clear()
        cold = first_token(model, fmt, text)
        model.kv.clear()
        first_token(model, fmt, prompt(model, fmt, history, INSTRUCTIONS[2]), 16)
        warm = first_token(model, fmt, text)
        figures[fmt] = {
            "prompt_tokens": cold.prompt_tokens,
            "cold_first_token_s": round(cold.first_token_s, 2),
            "warm_first_token_s": round(warm.first_token_s, 2),
            "warm_reused_tokens": warm.reused_tokens,
        }
        print(fmt, figures[fmt], flush=True)
    print(json.dumps({"model": model.describe(), **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
