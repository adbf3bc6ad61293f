// scope-auth console: progressive enhancement only. Every page works without this file
// except copying to the clipboard; with it, copy buttons work, confirmations open in a
// <dialog>, the scope picker ticks what a permission implies and lists what the app can do,
// and times read relative to now. Plain ES module, no dependencies, no build.

const live = () => document.getElementById('live');
function announce(text) {
  const region = live();
  if (!region) return;
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}

// --- Copy buttons ------------------------------------------------------------------------
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

function textOf(id) {
  const el = document.getElementById(id);
  return el ? el.textContent.trim() : '';
}

function setUpCopy(root) {
  for (const button of root.querySelectorAll('button[data-copy]')) {
    button.hidden = false;
    button.addEventListener('click', async () => {
      const ok = await copyText(textOf(button.dataset.copy));
      const label = button.dataset.label || button.textContent;
      button.dataset.label = label;
      button.textContent = ok ? 'Copied' : 'Copy failed';
      announce(ok ? `${button.getAttribute('aria-label') || label}: copied to the clipboard` : 'Copying failed: select the text and copy it by hand');
      setTimeout(() => { button.textContent = label; }, 2000);
    });
  }
}

// --- The copy-once dialog ------------------------------------------------------------------
// Shown modally; "Copy and close" copies the ready-to-paste block and replaces this page's
// history entry, so neither the page nor Back holds the secret afterwards.
function setUpCopyOnce() {
  const dialog = document.querySelector('dialog[data-copy-once]');
  if (!dialog) return;
  const leave = (href) => {
    for (const el of dialog.querySelectorAll('[data-secret]')) el.textContent = '';
    location.replace(href);
  };
  const close = dialog.querySelector('button[data-copy-close]');
  if (close) {
    close.hidden = false;
    for (const fallback of dialog.querySelectorAll('[data-without-js]')) fallback.hidden = true;
    close.addEventListener('click', async () => {
      await copyText(textOf(close.dataset.copyClose));
      leave(close.dataset.href);
    });
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      leave(close.dataset.href);
    });
  }
  if (dialog.open) dialog.close();
  dialog.showModal();
}

// --- Confirmations in a dialog -----------------------------------------------------------
// A `form[data-dialog]` is a GET form to a page holding a small form (revoke, roll, delete,
// create a key). Instead of navigating there, that page's form is shown in a <dialog>.
function setUpDialogs(root) {
  for (const opener of root.querySelectorAll('form[data-dialog]')) {
    opener.addEventListener('submit', async (event) => {
      event.preventDefault();
      const url = new URL(opener.action, location.href);
      for (const [name, value] of new FormData(opener)) url.searchParams.set(name, value);
      const trigger = opener.querySelector('button');
      let doc = null;
      try {
        const response = await fetch(url, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
        if (response.ok && !response.redirected) doc = new DOMParser().parseFromString(await response.text(), 'text/html');
      } catch {
        doc = null;
      }
      const form = doc && doc.querySelector('main form[method="post"]');
      if (!form) {
        location.assign(url);
        return;
      }
      const dialog = document.createElement('dialog');
      const heading = form.querySelector('h1, h2');
      if (heading) {
        heading.id = heading.id || `dialog-title-${Date.now()}`;
        dialog.setAttribute('aria-labelledby', heading.id);
      }
      dialog.append(document.importNode(form, true));
      document.body.append(dialog);
      for (const cancel of dialog.querySelectorAll('[data-close]')) {
        cancel.addEventListener('click', (e) => {
          e.preventDefault();
          dialog.close();
        });
      }
      dialog.addEventListener('close', () => {
        dialog.remove();
        if (trigger) trigger.focus();
      });
      setUpEnhancements(dialog);
      dialog.showModal();
      const first = dialog.querySelector('input:not([type=hidden]), select, textarea, button');
      if (first) first.focus();
    });
  }
}

// --- The scope picker ----------------------------------------------------------------------
function setUpPicker(picker) {
  const inputs = [...picker.querySelectorAll('input[data-scope]')];
  const byScope = new Map(inputs.map((input) => [input.dataset.scope, input]));
  const implies = (scope) => {
    const input = byScope.get(scope);
    return input && input.dataset.implies ? input.dataset.implies.split(' ').filter(Boolean) : [];
  };
  for (const box of picker.querySelectorAll('input[type=checkbox][data-scope]')) {
    box.dataset.explicit = box.checked && !box.disabled ? '1' : '0';
    box.addEventListener('change', () => { box.dataset.explicit = box.checked ? '1' : '0'; });
  }
  const list = document.querySelector('[data-effective]');

  function update() {
    const chosen = inputs.filter((input) => input.value !== '' && (input.type === 'radio' ? input.checked : input.dataset.explicit === '1'));
    const effective = new Map(); // scope → the chosen scope that brings it in
    const add = (scope, by) => {
      if (effective.has(scope)) return;
      effective.set(scope, by);
      for (const next of implies(scope)) add(next, by);
    };
    for (const input of chosen) add(input.dataset.scope, input.dataset.scope);
    for (const box of picker.querySelectorAll('input[type=checkbox][data-scope]')) {
      const scope = box.dataset.scope;
      const by = effective.get(scope);
      const implied = by !== undefined && by !== scope;
      box.disabled = implied;
      box.checked = implied || box.dataset.explicit === '1';
      const note = document.getElementById(`${box.id}-included`);
      if (note) {
        note.hidden = !implied;
        note.textContent = implied ? `Included by ${by}` : '';
      }
    }
    if (list) {
      list.replaceChildren();
      const scopes = [...effective.keys()].sort();
      if (scopes.length === 0) {
        const li = document.createElement('li');
        li.textContent = 'Nothing: tokens of this app carry no scope.';
        list.append(li);
      }
      for (const scope of scopes) {
        const li = document.createElement('li');
        const code = document.createElement('code');
        code.textContent = scope;
        li.append(code);
        const description = byScope.get(scope)?.dataset.description;
        if (description) li.append(` — ${description}`);
        list.append(li);
      }
    }
  }
  picker.addEventListener('change', update);
  update();
}

// --- Relative times ----------------------------------------------------------------------
const UNITS = [['year', 31536000], ['month', 2592000], ['day', 86400], ['hour', 3600], ['minute', 60]];
function refreshTimes(root) {
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const time of root.querySelectorAll('time[data-relative]')) {
    const seconds = (Date.parse(time.dateTime) - Date.now()) / 1000;
    const unit = UNITS.find(([, size]) => Math.abs(seconds) >= size);
    time.textContent = unit ? format.format(Math.trunc(seconds / unit[1]), unit[0]) : 'just now';
  }
}

function setUpEnhancements(root) {
  setUpCopy(root);
  setUpDialogs(root);
  for (const picker of root.querySelectorAll('[data-scope-picker]')) setUpPicker(picker);
}

setUpEnhancements(document);
setUpCopyOnce();
refreshTimes(document);
setInterval(() => refreshTimes(document), 30000);
