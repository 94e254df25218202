"""The kernel's state for the prompt, read from inside real kernels: what it tells of names,
arrays, DataFrames and files, that a hostile object or a huge DataFrame does not slow it past
its cap, that it reads its own kernel alone, and where the session puts it in the prompt."""

from __future__ import annotations

import ast
import time
from collections.abc import Iterator

import pytest

from codegen_ui.core import (
    FileInfo,
    KernelState,
    NameInfo,
    SamplingParams,
    Session,
    finish,
    render_prompt,
    state_block,
)
from codegen_ui.kernel import Kernel, read_state
from codegen_ui.kernel.inventory import LIMIT_S, parse
from tests.fakes import ScriptedModel

SETUP = """
import pandas as pd
x = 41
name = 'Ada'
long_text = 'y' * 1000
items = [1, 2, 3]
arr = np.zeros((3, 4))
df = pd.DataFrame({'city': ['a', 'b'], 'people': [1, 2]})
def add(a, b):
    return a + b
class Point:
    pass
with open('sales.csv', 'w') as f:
    f.write('region,units,price\\nnorth,3,2.5\\n')
"""


def run(kernel: Kernel, code: str) -> None:
    result = kernel.run(code, 60)
    assert result.status == "ok", result.outputs


@pytest.fixture
def kernel() -> Iterator[Kernel]:
    with Kernel() as k:
        run(k, "import numpy as np")
        yield k


def test_names_arrays_dataframes_and_files(kernel: Kernel) -> None:
    run(kernel, SETUP)
    state = read_state(kernel)
    names = {n.name: n for n in state.names}
    assert names["x"] == NameInfo("x", "int", "41")
    assert names["name"] == NameInfo("name", "str", "'Ada'")
    assert names["long_text"] == NameInfo("long_text", "str", "1000 characters")
    assert names["items"] == NameInfo("items", "list", "3 items")
    assert names["arr"] == NameInfo("arr", "ndarray", "shape (3, 4), dtype float64")
    assert names["df"] == NameInfo(
        "df", "DataFrame", "shape (2, 2), columns city (object), people (int64)"
    ) or names["df"] == NameInfo(
        "df", "DataFrame", "shape (2, 2), columns city (str), people (int64)"
    )
    assert names["add"] == NameInfo("add", "function", "(a, b)")
    assert names["Point"].kind == "class"
    assert "np" not in names and "pd" not in names  # modules are left out
    assert state.files == (FileInfo("sales.csv", 31, "region,units,price"),)
    assert state.complete
    # The reading leaves no name of its own behind, and takes none of the user's.
    after = kernel.run("print(sorted(k for k in globals() if not k.startswith('_')))", 30)
    listed = after.outputs[0]["text"]
    assert "state" not in listed and "json" not in listed


def test_a_hostile_object_is_never_asked_to_describe_itself(kernel: Kernel) -> None:
    run(
        kernel,
        "import time\n"
        "class Hostile:\n"
        "    def __repr__(self): time.sleep(30)\n"
        "    def __str__(self): raise RuntimeError('no')\n"
        "    def __len__(self): time.sleep(30)\n"
        "    def __getattr__(self, name): time.sleep(30)\n"
        "h = Hostile()\n"
        "class Meta(type):\n"
        "    @property\n"
        "    def __name__(cls): time.sleep(30)\n"
        "class Odd(metaclass=Meta): pass\n"
        "o = Odd()\n"
        "len = 5\nstr = None\n",  # the user's names do not shadow the reading's builtins
    )
    start = time.monotonic()
    state = read_state(kernel)
    assert time.monotonic() - start < 5
    names = {n.name: n for n in state.names}
    assert names["h"] == NameInfo("h", "Hostile", "")
    assert names["o"] == NameInfo("o", "Odd", "")


def test_a_huge_dataframe_is_told_by_its_shape_within_the_cap(kernel: Kernel) -> None:
    run(
        kernel,
        "import pandas as pd\n"
        "wide = pd.DataFrame(np.zeros((2, 20000)))\n"
        "tall = pd.DataFrame({'v': np.arange(2_000_000)})\n"
        "many = {f'n{i}': i for i in range(10)}\n" + "".join(f"v{i} = {i}\n" for i in range(100)),
    )
    start = time.monotonic()
    state = read_state(kernel)
    assert time.monotonic() - start < LIMIT_S + 3  # the reading's own cap, and a round trip
    names = {n.name: n for n in state.names}
    assert names["tall"].detail == "shape (2000000, 1), columns v (int64)"
    assert names["wide"].detail.startswith("shape (2, 20000), columns 0 (float64), 1 (float64)")
    assert names["wide"].detail.endswith(", ...")
    assert not state.complete and len(state.names) == 30  # the name cap, said


def test_a_reading_past_its_deadline_stops_and_says_so(kernel: Kernel) -> None:
    run(kernel, "import pandas as pd\nwide = pd.DataFrame(np.zeros((1, 200000)))")
    start = time.monotonic()
    state = read_state(kernel, limit=0.001)  # a deadline no reading can meet
    assert time.monotonic() - start < 3
    assert not state.complete
    assert read_state(kernel).complete  # the kernel is left as it was


def test_each_session_reads_its_own_kernel_alone(kernel: Kernel) -> None:
    run(kernel, "secret_of_a = 1\nopen('a_only.csv', 'w').write('a,b\\n')")
    with Kernel() as other:
        run(other, "mine = 2")
        state = read_state(other)
    assert [n.name for n in state.names] == ["mine"]
    assert state.files == ()


def test_garbage_parses_to_an_empty_state() -> None:
    assert parse("") == KernelState()
    assert parse("\x1ecodegen-ui-state:{not json") == KernelState()
    assert not KernelState()


def test_the_state_block_is_capped() -> None:
    state = KernelState(tuple(NameInfo(f"n{i}", "int", str(i)) for i in range(500)))
    text = state_block(state, chars=300)
    assert len(text) <= 300 and text.endswith('(and more)\n"""\n')
    assert text.startswith('"""The kernel holds:\nn0: int, 0\n')
    compile(text, "<state>", "exec")  # one string statement


def test_the_state_block_stays_one_string_whatever_a_name_holds() -> None:
    hostile = NameInfo("s", "str", repr('end"""; import os\\'))
    text = state_block(KernelState((hostile,), (FileInfo('q""".csv', 9, 'a,"""b'),)))
    (statement,) = ast.parse(text).body
    assert isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    assert 'end"""; import os' in statement.value.value and 'q""".csv' in statement.value.value


def test_the_state_stands_after_the_history_and_before_the_instruction(kernel: Kernel) -> None:
    scripted = ScriptedModel().enqueue("x = 41\n\n", "print(x)\n\n", "y = 1\n\n")
    session = Session(scripted, kernel, run_timeout=20, read_state=read_state)
    params = SamplingParams(max_new_tokens=32)
    finish(session.add_turn("Set x to 41.", params))
    second = finish(session.add_turn("Print x.", params))
    history = [("Set x to 41.", "x = 41\n\n")]
    first_prompt, prompt = scripted.calls[0][0], scripted.calls[1][0]
    assert first_prompt == render_prompt([], "Set x to 41.")  # an empty kernel: no block
    assert prompt == (
        render_prompt(history, "Print x.").removesuffix("# Print x.\n")
        + '"""The kernel holds:\nx: int, 41\n"""\n# Print x.\n'
    )
    # The history is a prefix of this prompt and the next: a KV cache of it stays valid.
    finish(session.add_turn("Set y.", params))
    assert scripted.calls[2][0].startswith(render_prompt(history, "").removesuffix("#\n"))
    assert "The kernel holds" not in scripted.calls[2][0].split("# Print x.\n")[0]
    # The reading takes no cell's execution count.
    assert second.execution_count == 2 and session.turns[2].execution_count == 3


def test_in_chat_the_state_leads_the_users_message(kernel: Kernel) -> None:
    chat = ScriptedModel(has_chat_template=True).enqueue("x = 41\n```\n", "print(x)\n```\n")
    session = Session(chat, kernel, run_timeout=20, read_state=read_state, prompt_format="chat")
    params = SamplingParams(max_new_tokens=32)
    finish(session.add_turn("Set x to 41.", params))
    finish(session.add_turn("Print x.", params))
    assert "The kernel holds" not in chat.calls[0][0]  # nothing to tell yet
    assert chat.calls[1][0].endswith(
        "<|im_start|>user\nThe kernel holds:\nx: int, 41\n\nPrint x.<|im_end|>\n"
        "<|im_start|>assistant\n```python\n"
    )
    # Only that turn's prompt holds it: the history is the instructions and code alone.
    assert session.history() == [("Set x to 41.", "x = 41"), ("Print x.", "print(x)")]


def test_a_session_is_told_its_own_kernel_and_never_another_sessions(kernel: Kernel) -> None:
    model = ScriptedModel().enqueue("secret = 1\n\n", "mine = 2\n\n", "print(mine)\n\n")
    first = Session(model, kernel, run_timeout=20, read_state=read_state)
    finish(first.add_turn("Set secret.", SamplingParams(max_new_tokens=16)))
    run(kernel, "open('first_only.csv', 'w').write('a,b\\n')")
    with Kernel() as other_kernel:
        second = Session(model, other_kernel, run_timeout=20, read_state=read_state)
        for instruction in ("Set mine.", "Print mine."):
            finish(second.add_turn(instruction, SamplingParams(max_new_tokens=16)))
    told = model.calls[2][0]
    assert "mine: int, 2" in told
    assert "secret" not in told and "first_only" not in told
    assert second.last_state is not None and "secret" not in str(second.last_state)
