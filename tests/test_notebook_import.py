"""Import of notebooks as Jupyter writes them: nbformat 4.0 to 4.5, v3, outputs, attachments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from codegen_ui.notebooks import SessionStore, StoreError, convert, parse, split_instruction

PNG = (  # a 1x1 image
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _code(n: int, source: list[str], outputs: list[dict[str, Any]], with_outputs: bool) -> dict:
    return {
        "cell_type": "code",
        "execution_count": n if with_outputs else None,
        "metadata": {"collapsed": False} if n == 1 else {},
        "outputs": outputs if with_outputs else [],
        "source": source,
    }


def jupyter_notebook(minor: int, with_outputs: bool = True) -> bytes:
    """A notebook laid out byte for byte the way Jupyter writes nbformat 4.<minor>."""
    markdown: dict[str, Any] = {"cell_type": "markdown", "metadata": {}, "source": ["# Sums\n"]}
    if minor >= 1:  # attachments exist since 4.1
        markdown["attachments"] = {"dot.png": {"image/png": PNG}}
        markdown["source"] = ["# Sums\n", "![dot](attachment:dot.png)"]
    stdout = {"name": "stdout", "output_type": "stream", "text": ["[1, 2, 3]\n"]}
    result = {
        "data": {"text/plain": ["6"]},
        "execution_count": 2,
        "metadata": {},
        "output_type": "execute_result",
    }
    image = {"data": {"image/png": PNG, "text/plain": ["<Figure>"]}, "metadata": {}}
    image["output_type"] = "display_data"
    error = {
        "ename": "ZeroDivisionError",
        "evalue": "division by zero",
        "output_type": "error",
        "traceback": ["\u001b[0;31mZeroDivisionError\u001b[0m: division by zero"],
    }
    cells = [
        markdown,
        _code(
            1, ["# Load the numbers.\n", "xs = [1, 2, 3]\n", "print(xs)"], [stdout], with_outputs
        ),
        _code(2, ["sum(xs)"], [result, image], with_outputs),
        {"cell_type": "raw", "metadata": {"format": "text/x-rst"}, "source": ["**raw**"]},
        _code(3, ["# Divide by zero,\n", "#\n", "# on purpose.\n", "1 / 0"], [error], with_outputs),
        _code(4, [], [], with_outputs),
    ]
    if minor >= 5:  # cell ids exist since 4.5
        for n, cell in enumerate(cells):
            cell["id"] = f"cell-{n}"
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.7"},
        },
        "nbformat": 4,
        "nbformat_minor": minor,
    }
    return (json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


@pytest.mark.parametrize("with_outputs", [True, False])
@pytest.mark.parametrize("minor", [0, 1, 2, 3, 4, 5])
def test_notebooks_from_jupyter_become_sessions(
    tmp_path: Path, minor: int, with_outputs: bool
) -> None:
    data = jupyter_notebook(minor, with_outputs)
    nbformat.validate(nbformat.reads(data.decode(), as_version=nbformat.NO_CONVERT))
    store = SessionStore(tmp_path / "s")
    info = store.import_notebook(data, "from jupyter")
    assert (info.title, info.turns) == ("from jupyter", 4)
    assert info.notes[0] == "left out 1 markdown cell, 1 raw cell: a session keeps only code cells"
    assert info.notes[1].startswith("2 code cells have no leading '# ' comment")
    turns, _ = store.load(info.id)
    assert [(t.instruction, t.code) for t in turns] == [
        ("Load the numbers.", "xs = [1, 2, 3]\nprint(xs)"),
        ("", "sum(xs)"),
        ("Divide by zero,\n\non purpose.", "1 / 0"),
        ("", ""),
    ]
    if with_outputs:
        assert [t.status for t in turns] == ["ok", "ok", "error", "ok"]
        assert turns[0].outputs[0]["text"] == "[1, 2, 3]\n"
        assert turns[1].outputs[0]["data"]["text/plain"] == "6"
        assert turns[1].outputs[1]["data"]["image/png"] == PNG
        assert turns[2].outputs[0]["ename"] == "ZeroDivisionError"
        assert [t.execution_count for t in turns] == [1, 2, 3, 4]
    else:
        assert all(t.status == "not-run" and not t.outputs for t in turns)
    # What is stored is a current notebook of this app, whatever came in.
    stored = parse(store.path(info.id).read_bytes())
    assert stored.nbformat_minor == nbformat.v4.nbformat_minor
    assert stored.cells[3].source == "# Divide by zero,\n#\n# on purpose.\n1 / 0"


def test_a_v3_notebook_is_converted(tmp_path: Path) -> None:
    v3 = {
        "metadata": {"name": "old"},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "code", "input": "# Say hi.\nprint('hi')", "language": "python",
                     "outputs": [{"output_type": "stream", "stream": "stdout", "text": "hi\n"}],
                     "prompt_number": 1, "metadata": {}},
                    {"cell_type": "heading", "level": 1, "source": "Old", "metadata": {}},
                ],
                "metadata": {},
            }
        ],
    }  # fmt: skip
    info = SessionStore(tmp_path / "s").import_notebook(json.dumps(v3).encode())
    assert info.turns == 1 and info.title == "Imported notebook"
    assert "1 markdown cell" in info.notes[0]  # v3 headings are markdown in v4


def test_an_app_notebook_imports_to_exactly_its_turns(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s")
    first = store.import_notebook(jupyter_notebook(4))
    again = store.import_notebook(store.export_ipynb(first.id).read_bytes())
    assert again.notes == () and again.title == first.title
    assert store.load(again.id)[0] == store.load(first.id)[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.4 binary", "not valid JSON"),
        (b'{"cells": []}', "no nbformat version"),
        (b'{"nbformat": 4, "nbformat_minor": 4, "cells": [{"cell_type": "code"}]}', "not a valid"),
    ],
)
def test_an_invalid_upload_gets_a_clear_error(tmp_path: Path, data: bytes, message: str) -> None:
    store = SessionStore(tmp_path / "s")
    with pytest.raises(StoreError, match=message):
        store.import_notebook(data)
    assert store.list() == []


def test_an_oversized_upload_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import codegen_ui.notebooks.store

    monkeypatch.setattr(codegen_ui.notebooks.store, "MAX_IMPORT_BYTES", 1000)
    with pytest.raises(StoreError, match="larger than"):
        SessionStore(tmp_path / "s").import_notebook(jupyter_notebook(5))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("# Do it.\nx = 1", ("Do it.", "x = 1")),
        ("# Only a comment", ("Only a comment", "")),
        ("# Trailing space  \nx", ("", "# Trailing space  \nx")),  # would not write back as is
        ("#!shebang\nx", ("", "#!shebang\nx")),
        ("#no space\nx", ("", "#no space\nx")),
        ("x = 1\n# later", ("", "x = 1\n# later")),
        ("# a\n#\n#\nx", ("a", "#\n#\nx")),  # bare lines at the end stay code
        ("# a\n#\n# b\nx", ("a\n\nb", "x")),
        ("# a\n#\nx", ("a", "#\nx")),
        ("", ("", "")),
    ],
)
def test_split_instruction_never_changes_the_source(source: str, expected: tuple[str, str]) -> None:
    from codegen_ui.core import instruction_comment

    instruction, code = split_instruction(source)
    assert (instruction, code) == expected
    if instruction:  # the comment as the prompt writes it, plus the code, is the source
        assert (instruction_comment(instruction) + code).startswith(source)
        assert len(instruction_comment(instruction) + code) - len(source) in (0, code == "")


def test_convert_keeps_the_preamble_of_an_app_notebook() -> None:
    from codegen_ui.notebooks import to_notebook

    result = convert(to_notebook([], {"preamble": "import os\n\n", "title": "t"}))
    assert result.meta["preamble"] == "import os\n\n" and result.turns == ()


def test_a_notebook_executed_and_written_by_jupyter_imports_with_its_outputs(
    tmp_path: Path,
) -> None:
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(
        cells=[
            new_markdown_cell("Some *notes*."),
            new_code_cell("# Say hello.\nprint('hello')"),
            new_code_cell("6 * 7"),
            new_code_cell("from IPython.display import HTML\nHTML('<b>bold</b>')"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    path = tmp_path / "ran.ipynb"
    nbformat.write(nb, path)  # exactly how Jupyter writes a notebook to disk
    store = SessionStore(tmp_path / "s")
    info = store.import_notebook(path.read_bytes())
    turns, _ = store.load(info.id)
    assert [(t.instruction, t.status) for t in turns] == [
        ("Say hello.", "ok"),
        ("", "ok"),
        ("", "ok"),
    ]
    assert turns[0].outputs[0]["text"] == "hello\n"
    assert turns[1].outputs[0]["data"]["text/plain"] == "42"
    assert turns[2].outputs[0]["data"]["text/html"] == "<b>bold</b>"
    assert [list(t.outputs) for t in turns] == [c.outputs for c in nb.cells[1:]]
