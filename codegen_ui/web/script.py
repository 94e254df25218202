"""The notebook's script in the page: the `js_on_load` of the notebook's `gr.HTML`.

Every cell button and the editor keys (Shift+Enter or Ctrl+Enter runs, Ctrl+Space completes the
code from its end, Escape leaves) become one `cell` event for the server, carrying the action,
the cell's number, the notebook revision it was drawn at and the editor's text. After every
re-render the script focuses an editor that just opened, scrolls the cell being worked on into
view, and puts `?session=<id>` in the address. It decides nothing: what an action does is the
controller's business. The actions it sends by key are `CellAction`'s, given to it as JSON
(`ACTION`); a button's action is its `data-action`, written from the same enum. Only JavaScript
text here.
"""

from __future__ import annotations

from codegen_ui.web.cellaction import CellAction

_BODY = r"""
const root = () => element.querySelector('.cg-nb');
const send = (action, cell) => {
  const nb = root();
  const field = (name) => {
    const ta = cell && cell.querySelector(`textarea[data-field="${name}"]`);
    return ta ? ta.value : null;
  };
  trigger('cell', {
    action,
    cell: cell ? Number(cell.dataset.cell) : 0,
    revision: nb ? Number(nb.dataset.revision) : -1,
    code: field('code'),
    instruction: field('instruction'),
  });
};
element.addEventListener('click', (e) => {
  const button = e.target.closest('button[data-action]');
  if (!button || button.disabled) return;
  send(button.dataset.action, button.closest('[data-cell]'));
});
element.addEventListener('keydown', (e) => {
  const ta = e.target.closest('textarea[data-field]');
  if (!ta) return;
  const cell = ta.closest('[data-cell]');
  if (e.key === 'Enter' && (e.shiftKey || e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    send(ta.dataset.field === 'instruction' ? ACTION.REGENERATE : ACTION.RUN, cell);
  } else if (e.code === 'Space' && e.ctrlKey && ta.dataset.field === 'code') {
    e.preventDefault();
    send(ACTION.COMPLETE, cell);
  } else if (e.key === 'Escape') {
    e.preventDefault();
    send(ACTION.LEAVE, cell);
  }
});
element.addEventListener('input', (e) => {
  const ta = e.target.closest('textarea.cg-editor');
  if (ta) { ta.style.height = 'auto'; ta.style.height = ta.scrollHeight + 2 + 'px'; }
});
let shown = '';
let opened = '';  // the cell whose editor got focus (attributes are the server's: keep it here)
const settle = () => {
  const nb = root();
  if (!nb) return;
  const editor = nb.querySelector('[data-editing="true"] textarea.cg-editor');
  const which = editor ? editor.closest('[data-cell]').dataset.cell : '';
  if (editor && which !== opened) {
    editor.focus();
    editor.setSelectionRange(editor.value.length, editor.value.length);
    editor.style.height = editor.scrollHeight + 2 + 'px';
  }
  opened = which;
  const active = nb.querySelector('[data-active="true"]');
  const mark = active ? `${active.dataset.cell}:${active.dataset.status}` : '';
  if (active && mark !== shown) active.scrollIntoView({block: 'nearest'});
  shown = mark;
  const id = nb.dataset.session;
  const url = new URL(window.location.href);
  if (id && url.searchParams.get('session') !== id) {
    url.searchParams.set('session', id);
    window.history.replaceState(null, '', url);
  }
};
watch('value', settle);
settle();
"""

NOTEBOOK_JS = f"const ACTION = {CellAction.as_json()};\n{_BODY}"
