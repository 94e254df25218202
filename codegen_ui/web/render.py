"""Cell outputs and code as safe HTML for the notebook view (`web.notebook_html` lays out cells).

Everything the kernel or the model produced is treated as untrusted text: plain text is escaped,
ANSI colours become `<span>`s with fixed classes, images become `data:` URIs in `<img>` (an SVG
loaded that way cannot run script), and kernel HTML (a DataFrame, say) goes through nh3 with a
small allowlist, so kernel HTML never runs script in the app's page. Code is highlighted with
pygments. This module knows nothing of Gradio, kernels, turns or sessions.
"""

from __future__ import annotations

import base64
import functools
import html
import re
from collections.abc import Sequence
from typing import Any

from codegen_ui.core import ANSI
from codegen_ui.settings import DEFAULTS
from codegen_ui.web.style import ANSI_COLOURS

MAX_TEXT_CHARS = 20_000  # longer text outputs are cut here, and say so
MAX_IMAGE_BYTES = DEFAULTS.output_image_kb << 10  # a bigger image is replaced by a note
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
# What kernel HTML may keep: text formatting and tables, nothing active.
_TAG_NAMES = (
    "a abbr b br caption code col colgroup dd del details div dl dt em h1 h2 h3 h4 h5 h6 hr i "
    "img ins kbd li mark ol p pre q s samp small span strong sub summary sup table tbody td "
    "tfoot th thead tr tt u ul var"
)
_SAFE_TAGS = set(_TAG_NAMES.split())
_SAFE_ATTRS = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "table": {"border"},
    "*": {"title"},
}
_COLOURS = ANSI_COLOURS


def _text(value: Any) -> str:
    # nbformat allows multiline strings as lists of lines.
    return "".join(value) if isinstance(value, list) else str(value)


def capped(text: str, limit: int = MAX_TEXT_CHARS) -> tuple[str, str]:
    """The text cut to `limit` characters, and a note saying so (empty when nothing was cut)."""
    if len(text) <= limit:
        return text, ""
    return text[:limit], f"output capped: showing the first {limit:,} of {len(text):,} characters"


@functools.lru_cache(maxsize=2048)
def highlight(code: str) -> str:
    """Python source as highlighted HTML (pygments classes under `.cg-code`).

    Cached: every streamed view redraws every cell, and most cells' code has not changed."""
    from pygments import highlight as pyg_highlight

    lexer, formatter = _pygments()
    return str(pyg_highlight(code, lexer, formatter))


@functools.cache
def _pygments() -> tuple[Any, Any]:
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return PythonLexer(), HtmlFormatter(nowrap=True)


def _sgr_classes(params: list[int], state: list[str]) -> list[str]:
    """Apply one SGR sequence to the current list of classes."""
    i = 0
    while i < len(params):
        p = params[i]
        if p == 0:
            state = []
        elif p == 1:
            state = [*state, "ansi-bold"]
        elif 30 <= p <= 37 or 90 <= p <= 97:
            bright = "bright-" if p >= 90 else ""
            state = [c for c in state if not c.startswith("ansi-fg")]
            state.append(f"ansi-fg-{bright}{_COLOURS[p % 10]}")
        elif 40 <= p <= 47 or 100 <= p <= 107:
            bright = "bright-" if p >= 100 else ""
            state = [c for c in state if not c.startswith("ansi-bg")]
            state.append(f"ansi-bg-{bright}{_COLOURS[p % 10]}")
        elif p == 39:
            state = [c for c in state if not c.startswith("ansi-fg")]
        elif p == 49:
            state = [c for c in state if not c.startswith("ansi-bg")]
        elif p in (38, 48) and i + 1 < len(params):
            # 256-colour (5;n) and true-colour (2;r;g;b): approximate by the base colour class.
            skip = 2 if params[i + 1] == 5 else 4
            if params[i + 1] == 5 and i + 2 < len(params) and params[i + 2] < 16:
                n = params[i + 2]
                kind = "fg" if p == 38 else "bg"
                bright = "bright-" if n >= 8 else ""
                state = [c for c in state if not c.startswith(f"ansi-{kind}")]
                state.append(f"ansi-{kind}-{bright}{_COLOURS[n % 8]}")
            i += skip
        i += 1
    return state


def ansi_to_html(text: str) -> str:
    """Escape text and turn ANSI SGR colour codes into spans; other escapes are dropped."""
    out: list[str] = []
    state: list[str] = []
    pos = 0
    for match in ANSI.finditer(text):
        out.append(_span(text[pos : match.start()], state))
        pos = match.end()
        if match.group(2) == "m":
            nums = [int(n) for n in match.group(1).split(";") if n.isdigit()] or [0]
            state = _sgr_classes(nums, state)
    out.append(_span(text[pos:], state))
    return "".join(out)


def _span(chunk: str, classes: list[str]) -> str:
    if not chunk:
        return ""
    escaped = html.escape(chunk)
    return f'<span class="{" ".join(classes)}">{escaped}</span>' if classes else escaped


def _keep_attribute(tag: str, attr: str, value: str) -> str | None:
    # Images only from data: URIs, so kernel HTML cannot make the browser fetch anything.
    if tag == "img" and attr == "src" and not value.startswith("data:image/"):
        return None
    return value


def sanitize_html(markup: str) -> str:
    """Kernel HTML with everything that could run script or load resources removed."""
    import nh3

    return str(
        nh3.clean(
            markup,
            tags=_SAFE_TAGS,
            attributes=_SAFE_ATTRS,
            clean_content_tags={"script", "style"},
            url_schemes={"http", "https", "mailto", "data"},
            attribute_filter=_keep_attribute,
            link_rel="noopener noreferrer nofollow",
        )
    )


def _pre(text: str, css: str) -> str:
    body, note = capped(text)
    note_html = f'<div class="cg-capped">{html.escape(note)}</div>' if note else ""
    return f'<pre class="cg-out {css}">{ansi_to_html(body)}</pre>{note_html}'


def _image(mime: str, data: Any) -> str:
    raw = _text(data).strip()
    if mime == "image/svg+xml":
        raw = base64.b64encode(raw.encode("utf-8")).decode("ascii")
    else:
        raw = "".join(raw.split())
    if len(raw) * 3 // 4 > MAX_IMAGE_BYTES:
        return '<div class="cg-capped">image too large to show</div>'
    if not re.fullmatch(r"[A-Za-z0-9+/=]*", raw):
        return '<div class="cg-capped">image data is not base64</div>'
    return f'<img class="cg-img" alt="output image" src="data:{mime};base64,{raw}">'


def render_data(data: dict[str, Any]) -> str:
    """The richest safe view of a display_data / execute_result bundle."""
    for mime in IMAGE_TYPES:
        if mime in data:
            return _image(mime, data[mime])
    if "text/html" in data:
        body, note = capped(_text(data["text/html"]))
        note_html = f'<div class="cg-capped">{html.escape(note)}</div>' if note else ""
        return f'<div class="cg-out cg-html">{sanitize_html(body)}</div>{note_html}'
    if "text/plain" in data:
        return _pre(_text(data["text/plain"]), "cg-result")
    kinds = ", ".join(sorted(data)) or "nothing"
    return f'<pre class="cg-out cg-result">[{html.escape(kinds)}: not shown]</pre>'


def render_output(output: dict[str, Any]) -> str:
    """One nbformat output as HTML."""
    kind = output.get("output_type")
    if kind == "stream":
        name = "cg-stderr" if output.get("name") == "stderr" else "cg-stdout"
        return _pre(_text(output.get("text", "")), name)
    if kind == "error":
        lines = output.get("traceback") or [f"{output.get('ename')}: {output.get('evalue')}"]
        return _pre("\n".join(_text(line) for line in lines), "cg-error")
    if kind in ("display_data", "execute_result"):
        return render_data(dict(output.get("data", {})))
    return f'<pre class="cg-out">[{html.escape(str(kind))} output]</pre>'


def render_outputs(outputs: Sequence[dict[str, Any]]) -> str:
    """A cell's outputs; consecutive prints to one stream show as one block, as in Jupyter
    (a streamed print arrives in pieces, and a block per piece would show gaps between them)."""
    merged: list[dict[str, Any]] = []
    for output in outputs:
        last = merged[-1] if merged else None
        if (
            last is not None
            and output.get("output_type") == "stream"
            and last.get("output_type") == "stream"
            and output.get("name") == last.get("name")
        ):
            text = _text(last.get("text", "")) + _text(output.get("text", ""))
            merged[-1] = {**last, "text": text}
        else:
            merged.append(dict(output))
    return "".join(render_output(o) for o in merged)
