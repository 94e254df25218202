"""The Files panel: the session's data files as safe HTML, and its script (`js_on_load`).

`render_files` draws one row per file (`[data-file="NAME"]` with its size, Download and Delete
buttons), the question an upload over an existing file asks (Replace or Keep the old one), and
a line about what could not be kept or downloaded, and one when the folder has more entries
than a listing looks at. `FILES_JS` sends a row's button as one `files` event (a
download as `filedownload`, so only it fetches a file) and lets files dropped onto the notebook
go to the panel's upload input, as if chosen there. Nothing here decides what an action does.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from codegen_ui.core import FileEntry
from codegen_ui.files import SCAN_CAP, size_text


@dataclass(frozen=True)
class FilesView:
    """What the Files panel shows of one tab's session."""

    files: tuple[FileEntry, ...] = ()
    asking: tuple[str, ...] = ()  # names an upload would replace: the panel asks first
    note: str = ""  # what the last copy into the store could not keep, or why it failed
    limits: str = ""  # "50.0 MB a file, 200.0 MB and 200 files in all"
    complete: bool = True  # False: the folder has more entries than a listing looks at


TOO_MANY = (
    "This folder has too many entries to list them all (more than {cap}): only some are shown."
)


def render_files(view: FilesView) -> str:
    rows = "".join(_row(entry) for entry in view.files)
    if not view.files:
        rows = (
            '<div class="cg-files-empty">No files yet: upload some, '
            "or drop them on the notebook.</div>"
        )
    ask = ""
    if view.asking:
        names = ", ".join(view.asking)
        ask = (
            f'<div class="cg-files-ask" role="alert">{html.escape(names)} exists already. '
            '<button class="cg-act" data-action="replace">Replace</button> '
            '<button class="cg-act" data-action="keep">Keep the old one</button></div>'
        )
    note = f'<div class="cg-files-note">{html.escape(view.note)}</div>' if view.note else ""
    if not view.complete:
        too_many = html.escape(TOO_MANY.format(cap=SCAN_CAP))
        note = f'<div class="cg-files-note" role="status">{too_many}</div>{note}'
    limits = f'<div class="cg-files-limits">Limits: {html.escape(view.limits)}</div>'
    return f'<div class="cg-files">{ask}{rows}{note}{limits}</div>'


def _row(entry: FileEntry) -> str:
    name = html.escape(entry.name, quote=True)
    return (
        f'<div class="cg-file" data-file="{name}"><span class="cg-file-name">{name}</span>'
        f'<span class="cg-file-size">{size_text(entry.size)}</span>'
        '<button class="cg-act" data-action="download">Download</button>'
        '<button class="cg-act" data-action="delete">Delete</button></div>'
    )


FILES_JS = r"""
element.addEventListener('click', (e) => {
  const button = e.target.closest('button[data-action]');
  if (!button || button.disabled) return;
  const row = button.closest('[data-file]');
  const name = row ? row.dataset.file : '';
  if (button.dataset.action === 'download') trigger('filedownload', {name});
  else trigger('files', {action: button.dataset.action, name});
});
// Files dropped onto the notebook go to the panel's upload input, as if chosen there. The
// listeners sit on the document (once), so they do not depend on which component mounts first.
const toInput = (files) => {
  const input = document.querySelector('#upload-files input[type=file]');
  if (!input || !files.length) return;
  const dt = new DataTransfer();
  for (const f of files) dt.items.add(f);
  input.files = dt.files;
  input.dispatchEvent(new Event('change', {bubbles: true}));
};
const onNotebook = (e) => e.target instanceof Element && e.target.closest('#notebook');
if (!window.cgDropReady) {
  window.cgDropReady = true;
  document.addEventListener('dragover', (e) => {
    const nb = onNotebook(e);
    if (nb && e.dataTransfer && [...e.dataTransfer.types].includes('Files')) {
      e.preventDefault();
      nb.classList.add('cg-dropping');
    }
  });
  document.addEventListener('dragleave', (e) => {
    const nb = onNotebook(e);
    if (nb) nb.classList.remove('cg-dropping');
  });
  document.addEventListener('drop', (e) => {
    const nb = onNotebook(e);
    if (!nb || !e.dataTransfer || !e.dataTransfer.files.length) return;
    e.preventDefault();
    nb.classList.remove('cg-dropping');
    toInput(e.dataTransfer.files);
  });
}
"""
