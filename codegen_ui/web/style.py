"""The page's stylesheet: notebook cells, outputs, ANSI colour classes and code highlighting.

Only CSS text: `render` emits the class names styled here (`cg-*`, `ansi-*`), and the app passes
`CSS + code_css()` to Gradio. Nothing here renders or escapes anything.
"""

from __future__ import annotations

ANSI_COLOURS = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")
_COLOURS = ANSI_COLOURS


def code_css() -> str:
    from pygments.formatters import HtmlFormatter

    return str(HtmlFormatter(style="default").get_style_defs(".cg-code"))


_COLOUR_CSS = "".join(
    f".ansi-fg-{c}{{color:var(--cg-{c})}}.ansi-fg-bright-{c}{{color:var(--cg-{c});"
    f"font-weight:600}}.ansi-bg-{c},.ansi-bg-bright-{c}{{background:var(--cg-{c}-bg)}}"
    for c in _COLOURS
)

CSS = (
    """
.cg-nb{--cg-black:#333;--cg-red:#c0392b;--cg-green:#1e8449;--cg-yellow:#9a7d0a;
  --cg-blue:#1f5fa6;--cg-magenta:#8e44ad;--cg-cyan:#117a8b;--cg-white:#777;
  --cg-black-bg:#ddd;--cg-red-bg:#fadbd8;--cg-green-bg:#d5f5e3;--cg-yellow-bg:#fcf3cf;
  --cg-blue-bg:#d6eaf8;--cg-magenta-bg:#ebdef0;--cg-cyan-bg:#d1f2eb;--cg-white-bg:#f4f4f4;
  display:flex;flex-direction:column;gap:10px;font-size:14px}
.cg-cell{border:1px solid #d0d7de;border-left:4px solid #8c959f;border-radius:6px;
  padding:6px 10px;background:#fff;color:#1f2328}
.cg-cell.cg-ok{border-left-color:#2da44e}.cg-cell.cg-error,.cg-cell.cg-died,
.cg-cell.cg-timeout{border-left-color:#cf222e}.cg-cell.cg-generating,
.cg-cell.cg-running{border-left-color:#0969da}
.cg-cell.cg-empty,.cg-cell.cg-cancelled{border-left-color:#bf8700}
.cg-head{display:flex;gap:8px;align-items:baseline;flex-wrap:wrap}
.cg-n{font-weight:700;color:#57606a}.cg-count{font-family:monospace;color:#57606a}
.cg-instr{font-weight:600;flex:1}.cg-badge{font-size:12px;color:#57606a}
.cg-nb pre{margin:4px 0;padding:6px 8px;white-space:pre-wrap;word-break:break-word;
  font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;
  max-height:24em;overflow:auto;border-radius:4px}
.cg-code{background:#f6f8fa}.cg-stderr{background:#fff8f0}.cg-error{background:#fff0f0}
.cg-msg{font-size:13px;color:#9a6700;margin:2px 0}
.cg-capped{font-size:12px;color:#9a6700;font-style:italic}
.cg-html{max-height:30em;overflow:auto}.cg-html table{border-collapse:collapse;font-size:13px}
.cg-html th,.cg-html td{border:1px solid #d0d7de;padding:2px 6px;text-align:right}
.cg-img{max-width:100%;height:auto;display:block;margin:4px 0}
.cg-empty,.cg-note{color:#57606a;padding:12px;border:1px dashed #d0d7de;border-radius:6px}
.cg-note{border-style:solid;background:#fff8c5;color:#4d2d00}
.cg-pending{color:#57606a;font-size:13px}.cg-caret{animation:cg-blink 1s step-end infinite}
.ansi-bold{font-weight:700}
.cg-hidden{display:none !important}
@keyframes cg-blink{50%{opacity:0}}
"""
    + _COLOUR_CSS
)
