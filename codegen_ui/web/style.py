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
  padding:6px 10px;background:#fff;color:#1f2328;scroll-margin:12px}
.cg-is-ok{border-left-color:#2da44e}.cg-is-error{border-left-color:#cf222e}
.cg-is-running,.cg-is-waiting{border-left-color:#0969da;background:#f6fbff}
.cg-is-empty,.cg-is-stopped,.cg-is-not-run{border-left-color:#bf8700}
.cg-head{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.cg-count{font-family:ui-monospace,monospace;color:#57606a;min-width:2.5em}
.cg-instr{font-weight:600;flex:1 1 12em}.cg-badge{font-size:12px;color:#57606a}
.cg-is-running .cg-badge,.cg-is-waiting .cg-badge{color:#0969da;font-weight:600}
.cg-actions{display:flex;gap:4px;flex-wrap:wrap}
.cg-act{font-size:12px;padding:2px 8px;border:1px solid #d0d7de;border-radius:4px;
  background:#f6f8fa;color:#1f2328;cursor:pointer}
.cg-act:hover:not(:disabled){background:#eaeef2}.cg-act:disabled{opacity:.45;cursor:default}
.cg-editor,.cg-instr-edit{width:100%;box-sizing:border-box;font-family:ui-monospace,
  SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;border:1px solid #0969da;
  border-radius:4px;padding:6px 8px;margin:4px 0;background:#fff;color:#1f2328;resize:vertical}
.cg-instr-edit{font-family:inherit;font-weight:600}
.cg-field{display:block;font-size:12px;color:#57606a}
.cg-banner{padding:8px 12px;border-radius:6px;display:flex;gap:8px;align-items:center;
  flex-wrap:wrap}
.cg-conflict{background:#fff8c5;color:#4d2d00;border:1px solid #d4a72c}
.cg-replay{background:#ddf4ff;color:#0a3069;border:1px solid #54aeff}
.cg-model-error{background:#ffebe9;color:#82071e;border:1px solid #ff8182;font-weight:600}
.cg-toast{position:fixed;left:50%;bottom:20px;transform:translateX(-50%);z-index:1000;
  max-width:min(90vw,640px);background:#1f2328;color:#fff;padding:10px 16px;
  border-radius:8px;box-shadow:0 4px 16px rgba(0,0,0,.25);font-size:14px}
.cg-nb pre{margin:4px 0;padding:6px 8px;white-space:pre-wrap;word-break:break-word;
  font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;
  max-height:24em;overflow:auto;border-radius:4px}
.cg-nb pre.cg-code{background:#f6f8fa;max-height:none}
.cg-stderr{background:#fff8f0}.cg-error{background:#fff0f0}
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
.cg-files{display:flex;flex-direction:column;gap:4px;font-size:13px}
.cg-file{display:flex;flex-wrap:wrap;gap:2px 6px;align-items:center;padding:4px 0;
  border-bottom:1px solid #eaeef2}
.cg-file-name{flex:1 1 100%;min-width:0;overflow-wrap:anywhere;font-family:ui-monospace,monospace}
.cg-file-size{flex:1 1 auto;color:#57606a;white-space:nowrap}
.cg-files button.cg-act{font-size:12px;font-weight:400;padding:1px 8px;line-height:1.5}
.cg-files-empty,.cg-files-limits{color:#57606a;font-size:12px}
.cg-files-note{color:#9a6700;font-size:12px}
.cg-files-ask{background:#fff8c5;color:#4d2d00;border:1px solid #d4a72c;border-radius:6px;
  padding:6px 8px}
#notebook.cg-dropping{outline:3px dashed #0969da;outline-offset:4px}
@keyframes cg-blink{50%{opacity:0}}
"""
    + _COLOUR_CSS
)
