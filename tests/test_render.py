"""Rendering outputs and turns to HTML: escaping, sanitising, ANSI colours, images, caps."""

from __future__ import annotations

import base64

import pytest

from codegen_ui.web import render, style
from codegen_ui.web.render import (
    ansi_to_html,
    capped,
    render_output,
    render_outputs,
    sanitize_html,
)

PNG_1X1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
    "rkJggg=="
)


def stream(text: str, name: str = "stdout") -> dict[str, object]:
    return {"output_type": "stream", "name": name, "text": text}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain <b>&", "plain &lt;b&gt;&amp;"),
        ("\x1b[0;31mred\x1b[0m after", '<span class="ansi-fg-red">red</span> after'),
        ("\x1b[1;32mok", '<span class="ansi-bold ansi-fg-green">ok</span>'),
        ("\x1b[92mbright\x1b[39m", '<span class="ansi-fg-bright-green">bright</span>'),
        ("\x1b[38;5;9mpalette", '<span class="ansi-fg-bright-red">palette</span>'),
        ("\x1b[38;2;1;2;3mtrue\x1b[0m", "true"),
        ("\x1b[41m<x>", '<span class="ansi-bg-red">&lt;x&gt;</span>'),
        ("\x1b[2Kerased", "erased"),
    ],
)
def test_ansi_colours_become_spans_and_text_is_escaped(text: str, expected: str) -> None:
    assert ansi_to_html(text) == expected


def test_stream_outputs_are_escaped_and_marked_by_stream() -> None:
    out = render_output(stream("<script>alert(1)</script>\n"))
    assert "<script>" not in out
    assert "&lt;script&gt;" in out
    assert 'class="cg-out cg-stdout"' in out
    assert "cg-stderr" in render_output(stream("warn", "stderr"))


def test_kernel_html_loses_script_handlers_styles_and_remote_images() -> None:
    dirty = (
        '<table class="dataframe"><tr><th>a</th><td onclick="x()">1</td></tr></table>'
        "<script>alert(1)</script><style>body{display:none}</style>"
        '<img src="http://evil.example/t.png" onerror="alert(2)">'
        f'<img src="data:image/png;base64,{PNG_1X1}">'
        '<a href="javascript:alert(3)">js</a><a href="https://example.org">ok</a>'
        '<iframe src="https://example.org"></iframe><svg onload="alert(4)"></svg>'
    )
    clean = sanitize_html(dirty)
    for banned in (
        "script",
        "onclick",
        "onerror",
        "onload",
        "style",
        "evil",
        "javascript",
        "iframe",
        "svg",
        "alert",
    ):
        assert banned not in clean, banned
    assert "<table>" in clean and "<td>1</td>" in clean
    assert f"data:image/png;base64,{PNG_1X1}" in clean
    assert 'href="https://example.org"' in clean


def test_a_dataframe_renders_as_a_sanitised_table() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"name": ["Ann", "<Bob>"], "mark": [72, 58]})
    out = render_output(
        {
            "output_type": "execute_result",
            "execution_count": 1,
            "metadata": {},
            "data": {"text/html": df.to_html(), "text/plain": str(df)},
        }
    )
    assert out.count("<tr>") == 3
    assert "&lt;Bob&gt;" in out
    assert "cg-html" in out


def test_images_become_data_uris_and_svg_cannot_run_script() -> None:
    data = {"image/png": PNG_1X1 + "\n", "text/plain": "<Figure>"}
    png = render_output({"output_type": "display_data", "metadata": {}, "data": data})
    assert f'src="data:image/png;base64,{PNG_1X1}"' in png
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    out = render_output(
        {"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": svg}}
    )
    # Inside an <img> an SVG is an image: its script never runs, and it never reaches the DOM.
    encoded = base64.b64encode(svg.encode()).decode()
    assert (
        out == f'<img class="cg-img" alt="output image" src="data:image/svg+xml;base64,{encoded}">'
    )
    bad = render_output(
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {"image/png": '"><script>x</script>'},
        }
    )
    assert "<script" not in bad and "not base64" in bad


def test_errors_show_the_coloured_traceback() -> None:
    out = render_output(
        {
            "output_type": "error",
            "ename": "ZeroDivisionError",
            "evalue": "division by zero",
            "traceback": ["\x1b[0;31mZeroDivisionError\x1b[0m: division by zero"],
        }
    )
    assert 'class="cg-out cg-error"' in out
    assert '<span class="ansi-fg-red">ZeroDivisionError</span>: division by zero' in out


def test_long_outputs_are_capped_and_say_so() -> None:
    text = "x" * (render.MAX_TEXT_CHARS + 10)
    body, note = capped(text)
    assert len(body) == render.MAX_TEXT_CHARS
    assert f"{len(text):,}" in note
    out = render_output(stream(text))
    assert "output capped" in out
    assert capped("short") == ("short", "")


def test_unknown_mime_bundles_say_what_was_not_shown() -> None:
    out = render_output(
        {"output_type": "display_data", "metadata": {}, "data": {"application/x-thing": "?"}}
    )
    assert "application/x-thing" in out and "not shown" in out


def test_consecutive_prints_to_one_stream_show_as_one_block() -> None:
    out = render_outputs([stream("a\n"), stream("b\n"), stream("oops\n", "stderr"), stream("c")])
    assert out.count("<pre") == 3
    assert "a\nb\n</pre>" in out


def test_css_covers_code_and_ansi_classes() -> None:
    assert ".ansi-fg-red" in style.CSS
    assert ".cg-code .k" in style.code_css()
