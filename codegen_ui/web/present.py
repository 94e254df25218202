"""Presentation mode: the notebook large enough to read from the back of a room.

A toggle in the page's header (`PRESENT_HTML`, its script `PRESENT_JS`) puts the class
`cg-present` on the page's body and remembers it for the tab (`sessionStorage`: it survives a
reload, and a second tab of the same browser stays as it was). `PRESENT_CSS` is what the class
changes: the side panels collapse, the notebook takes the full width at 150 % of its text size,
the instruction box grows, and colours turn to high contrast (black on white, heavy borders).
A follower's view (`web.followhtml`) uses it alike. Only markup, script and CSS text: nothing on
the server knows whether a tab presents.
"""

from __future__ import annotations

STORAGE_KEY = "codegen-ui.present"

PRESENT_HTML = (
    '<button type="button" class="cg-present-toggle" aria-pressed="false" '
    'title="Large text and high contrast for a projector (remembered in this tab)">'
    "Presentation mode</button>"
)

PRESENT_JS = (
    f"const KEY = {STORAGE_KEY!r};\n"
    + r"""
const button = () => element.querySelector('.cg-present-toggle');
const set = (on) => {
  document.body.classList.toggle('cg-present', on);
  const b = button();
  if (b) {
    b.setAttribute('aria-pressed', on ? 'true' : 'false');
    b.textContent = on ? 'Leave presentation mode' : 'Presentation mode';
  }
  try { on ? sessionStorage.setItem(KEY, '1') : sessionStorage.removeItem(KEY); } catch (e) {}
};
let remembered = false;
try { remembered = sessionStorage.getItem(KEY) === '1'; } catch (e) {}
set(remembered);
element.addEventListener('click', (e) => {
  if (e.target.closest('.cg-present-toggle')) {
    set(!document.body.classList.contains('cg-present'));
  }
});
"""
)

_P = "body.cg-present"
_SHEET = f"""
.cg-present-toggle{{font-size:13px;padding:4px 10px;border:1px solid #d0d7de;border-radius:6px;
  background:#f6f8fa;color:#1f2328;cursor:pointer}}
#present{{display:flex;justify-content:flex-end}}
{_P} .cg-present-toggle{{background:#000;color:#fff;border-color:#000;font-size:16px}}
{_P} #side-panels{{display:none !important}}
{_P} .gradio-container{{max-width:100% !important;background:#fff !important;color:#000}}
{_P} .cg-heading{{display:none}}
{_P} .cg-nb{{font-size:21px;gap:16px;
  --cg-black:#000;--cg-red:#a00000;--cg-green:#005a1e;--cg-yellow:#6b4f00;--cg-blue:#00307a;
  --cg-magenta:#5c0080;--cg-cyan:#004d57;--cg-white:#444}}
{_P} .cg-cell{{border:2px solid #000;border-left-width:10px;color:#000;background:#fff;
  padding:10px 14px}}
{_P} .cg-is-ok{{border-left-color:#006b2e}}{_P} .cg-is-error{{border-left-color:#b00020}}
{_P} .cg-is-running,{_P} .cg-is-waiting{{border-left-color:#003f9e;background:#fff}}
{_P} .cg-count,{_P} .cg-badge,{_P} .cg-msg,{_P} .cg-pending{{color:#000;font-size:17px}}
{_P} .cg-instr{{font-size:23px}}
{_P} .cg-act{{font-size:16px;padding:4px 12px;border:2px solid #000;background:#fff;color:#000}}
{_P} .cg-nb pre,{_P} .cg-editor,{_P} .cg-instr-edit{{font-size:19px;line-height:1.4;color:#000}}
{_P} .cg-nb pre.cg-code{{background:#f0f0f0;border:1px solid #000}}
{_P} .cg-code .c1,{_P} .cg-code .c,{_P} .cg-code .cm{{color:#2e4d2e;font-style:normal}}
{_P} .cg-code .o,{_P} .cg-code .m,{_P} .cg-code .mi,{_P} .cg-code .mf{{color:#000}}
{_P} .cg-toast{{font-size:20px}}
{_P} #instruction textarea{{font-size:24px !important;line-height:1.35 !important;
  min-height:3.2em;border:2px solid #000 !important;color:#000 !important}}
{_P} #work-buttons button{{font-size:18px !important}}
{_P} .cg-follow-head{{font-size:20px;border:2px solid #000;background:#fff;color:#000}}
@media (max-width:700px){{
  {_P} .cg-nb{{font-size:17px}}
  {_P} .cg-nb pre,{_P} .cg-editor{{font-size:15px}}
  {_P} .cg-instr{{font-size:18px}}
  {_P} #instruction textarea{{font-size:19px !important}}
}}
"""


def _important(sheet: str) -> str:
    """Every declaration `!important`: Gradio's own rules are scoped under its container, so
    they outweigh a selector from <body> that is not."""
    out = []
    for part in sheet.split("}"):
        head, brace, body = part.rpartition("{")
        if not brace:
            out.append(part)
            continue
        decls = [d.strip() for d in body.split(";") if d.strip()]
        decls = [d if d.endswith("!important") else d + " !important" for d in decls]
        out.append(f"{head}{{{';'.join(decls)}")
    return "}".join(out)


PRESENT_CSS = _important(_SHEET)
