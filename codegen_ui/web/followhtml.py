"""The follow view and the Share panel as HTML, with their scripts and styles.

`render_follow` draws what a follower's tab shows: a head (the session's title, "live ·
read-only", Copy to my own) over the notebook as the owner has it, or the one line that says why
there is nothing to show. `FOLLOW_JS` keeps it live: it opens the link's server-sent events
(`web.followfeed`), puts each frame in place and stops once the link is no longer live; Copy to
my own is its one `copy` event. `render_share` draws the owner's Share panel: the follow link
(made absolute in the page by `SHARE_JS`) and how many follow it. `FOLLOW_CSS` styles both.
Only markup and script text: who may follow, and what a frame holds, is `web.follow`'s.
"""

from __future__ import annotations

import html

from codegen_ui.web.sharing import FollowState, Frame

FOLLOW_PARAM = "follow"  # the page address's query parameter that holds a follow token


def render_follow(frame: Frame, token: str) -> str:
    """A follower's view of one frame; the script takes it from there."""
    live = frame.state == FollowState.LIVE
    attrs = (
        f'data-token="{html.escape(token) if live else ""}" data-state="{frame.state.value}" '
        f'data-version="{frame.version}"'
    )
    head = ""
    if live:
        head = (
            '<div class="cg-follow-head"><span class="cg-live">live · read-only</span>'
            f'<span class="cg-follow-title">{html.escape(frame.title)}</span>'
            '<button type="button" class="cg-act cg-copy-own" data-follow="copy">'
            "Copy to my own</button></div>"
        )
    line = "" if live else html.escape(frame.line)
    start = "" if live else ' <a href="./">Start a session of your own</a>'
    body = frame.html if live else ""
    return (
        f'<div class="cg-follow" {attrs}>{head}'
        f'<div class="cg-follow-line" role="status">{line}{start}</div>'
        f'<div class="cg-follow-body">{body}</div></div>'
    )


def render_share(token: str | None, followers: int = 0, note: str = "") -> str:
    """The owner's Share panel: the follow link while there is one."""
    tip = html.escape(note)
    if token is None:
        text = "Share gives a link anyone can follow live, read-only."
        return f'<div class="cg-share" data-token=""><span class="cg-share-tip">{text}</span>' + (
            f'<div class="cg-files-note">{tip}</div></div>' if note else "</div>"
        )
    who = f"{followers} following" if followers else "nobody follows yet"
    link = f"?{FOLLOW_PARAM}={html.escape(token)}"
    return (
        f'<div class="cg-share" data-token="{html.escape(token)}">'
        f'<input class="cg-share-link" readonly aria-label="follow link" value="{link}">'
        f'<span class="cg-share-count">{who} · read-only; Stop sharing ends it</span>'
        + (f'<div class="cg-files-note">{tip}</div>' if note else "")
        + "</div>"
    )


SHARE_JS = r"""
const settle = () => {
  const box = element.querySelector('.cg-share-link');
  const token = element.querySelector('.cg-share')?.dataset.token;
  if (box && token) {  // the token is URL-safe as it is: written out, not escaped
    const url = new URL(window.location.href);
    box.value = `${url.origin}${url.pathname}?follow=${token}`;
  }
};
element.addEventListener('focusin', (e) => { if (e.target.select) e.target.select(); });
watch('value', settle);
settle();
"""

FOLLOW_JS = r"""
let source = null;
let token = '';
const root = () => element.querySelector('.cg-follow');
const apply = (f) => {
  const r = root();
  if (!r) return;
  if (Number(r.dataset.version) > f.version && f.state === 'live') return;
  r.dataset.version = String(f.version);
  r.dataset.state = f.state;
  const body = r.querySelector('.cg-follow-body');
  const line = r.querySelector('.cg-follow-line');
  if (f.state === 'live') {
    body.innerHTML = f.html;
    const t = r.querySelector('.cg-follow-title');
    if (t) t.textContent = f.title;
    return;
  }
  body.innerHTML = '';
  r.querySelector('.cg-follow-head')?.remove();
  line.textContent = f.line + ' ';
  const a = document.createElement('a');
  a.href = './';
  a.textContent = 'Start a session of your own';
  line.appendChild(a);
  stop();
};
const stop = () => { if (source) { source.close(); source = null; } };
const start = () => {
  const r = root();
  const want = r && r.dataset.state === 'live' ? r.dataset.token : '';
  if (want === token) return;
  stop();
  token = want;
  if (!token) return;
  const url = new URL(`follow/${encodeURIComponent(token)}/events`, document.baseURI);
  source = new EventSource(url);
  source.addEventListener('frame', (e) => apply(JSON.parse(e.data)));
};
element.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-follow="copy"]');
  if (!b || b.disabled) return;
  b.disabled = true;
  b.textContent = 'Copying…';
  stop();
  // The tab becomes the copy's: the address stops naming the link (the notebook's script
  // then puts the copy's session in it).
  const url = new URL(window.location.href);
  url.searchParams.delete('follow');
  window.history.replaceState(null, '', url);
  trigger('copy', {});
});
watch('value', start);
start();
"""

FOLLOW_CSS = """
.cg-follow{display:flex;flex-direction:column;gap:10px}
.cg-follow-head{display:flex;gap:10px;align-items:center;flex-wrap:wrap;padding:8px 12px;
  border:1px solid #54aeff;background:#ddf4ff;color:#0a3069;border-radius:6px}
.cg-live{font-weight:700;color:#cf222e}.cg-live::before{content:"● "}
.cg-follow-title{font-weight:600;flex:1 1 12em}
.cg-follow-line{color:#1f2328}.cg-follow-line:empty{display:none}
.cg-follow[data-state="live"] .cg-follow-line{display:none}
.cg-follow:not([data-state="live"]) .cg-follow-line{padding:12px;border:1px solid #d4a72c;
  background:#fff8c5;border-radius:6px}
.cg-share{display:flex;flex-direction:column;gap:4px;font-size:13px}
.cg-share-link{width:100%;box-sizing:border-box;font-family:ui-monospace,monospace;font-size:12px;
  padding:4px 6px;border:1px solid #d0d7de;border-radius:4px}
.cg-share-tip,.cg-share-count{color:#57606a;font-size:12px}
"""
