// The gateway's web page: lists, uploads, downloads and deletes files through the HTTP API
// (README, "HTTP API"). Names are shown with textContent only, never parsed as HTML.
'use strict';

const $ = (id) => document.getElementById(id);
let next = null;

function token() {
  return sessionStorage.getItem('vgfs-token') || '';
}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (token()) {
    h['Authorization'] = 'Bearer ' + token();
  }
  return h;
}

function encodePath(path) {
  return path.split('/').map(encodeURIComponent).join('/');
}

function say(text, isError) {
  $('message').textContent = text;
  $('message').className = isError ? 'error' : '';
}

async function api(method, url, body) {
  const r = await fetch(url, { method, body, headers: headers() });
  if (!r.ok && r.status !== 304) {
    let detail = r.status + ' ' + r.statusText;
    try {
      const e = await r.json();
      detail = e.error + ': ' + e.message;
    } catch (ignored) {
      // not JSON: keep the status line
    }
    throw new Error(detail);
  }
  return r;
}

function size(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
}

function row(f) {
  const tr = document.createElement('tr');
  const name = document.createElement('td');
  const link = document.createElement('a');
  link.textContent = f.path;
  link.href = '/api/v1/files/' + encodePath(f.path);
  link.addEventListener('click', (ev) => {
    if (token()) { // a plain link cannot carry the token
      ev.preventDefault();
      download(f.path);
    }
  });
  name.appendChild(link);
  const bytes = document.createElement('td');
  bytes.className = 'num';
  bytes.textContent = size(f.size);
  const modified = document.createElement('td');
  modified.textContent = f.modified ? new Date(f.modified).toLocaleString() : '';
  const actions = document.createElement('td');
  const del = document.createElement('button');
  del.textContent = 'Delete';
  del.addEventListener('click', () => remove(f.path));
  actions.appendChild(del);
  tr.append(name, bytes, modified, actions);
  return tr;
}

async function list(more) {
  const prefix = $('prefix').value;
  let url = '/api/v1/files?limit=200&prefix=' + encodeURIComponent(prefix);
  if (more && next) {
    url += '&after=' + encodeURIComponent(next);
  } else {
    $('files').replaceChildren();
  }
  try {
    const page = await (await api('GET', url)).json();
    page.files.forEach((f) => $('files').appendChild(row(f)));
    next = page.truncated ? page.next : null;
    $('more').hidden = !next;
    if (!more) {
      say(page.files.length === 0 ? 'No files under "' + prefix + '".' : '');
    }
  } catch (e) {
    say('Listing failed: ' + e.message, true);
  }
}

async function download(path) {
  try {
    // With a token the bytes go through memory: fine for what a browser tab downloads by hand.
    const blob = await (await api('GET', '/api/v1/files/' + encodePath(path))).blob();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = path.split('/').pop();
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
  } catch (e) {
    say('Download failed: ' + e.message, true);
  }
}

async function remove(path) {
  if (!confirm('Delete ' + path + '? It stays restorable in the trash for the retention period.')) {
    return;
  }
  try {
    await api('DELETE', '/api/v1/files/' + encodePath(path));
    say('Deleted ' + path + '.');
    list(false);
  } catch (e) {
    say('Delete failed: ' + e.message, true);
  }
}

async function upload(ev) {
  ev.preventDefault();
  const file = $('file').files[0];
  if (!file) {
    return;
  }
  const path = $('target').value || ($('prefix').value + file.name);
  say('Uploading ' + path + ' (' + size(file.size) + ')…');
  try {
    const info = await (await api('PUT', '/api/v1/files/' + encodePath(path), file)).json();
    say('Stored ' + info.path + ', ' + size(info.size) + '.');
    list(false);
  } catch (e) {
    say('Upload failed: ' + e.message, true);
  }
}

async function status() {
  try {
    const c = await (await api('GET', '/api/v1/cluster')).json();
    const servers = c.chunkservers || [];
    const alive = servers.filter((s) => s.state === 'alive').length;
    $('status').textContent = 'cluster: ' + (c.files ?? '?') + ' files, ' + alive + ' of '
      + servers.length + ' chunkservers alive';
  } catch (e) {
    $('status').textContent = 'cluster: ' + e.message;
  }
}

$('token').value = token();
$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  sessionStorage.setItem('vgfs-token', $('token').value.trim());
  status();
  list(false);
});
$('list-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  list(false);
});
$('upload-form').addEventListener('submit', upload);
$('more').addEventListener('click', () => list(true));
status();
list(false);
