// camfw console: the one embedded script (the Content-Security-Policy allows no other and no inline code).
// Progressive: every page is complete HTML from the server; this adds sorting, refresh, the live tail and the
// policy actions, which call the management API with the session cookie and the anti-forgery header.
(function () {
  'use strict';

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute('content') : '';
  var loginPath = '/console/login';

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  // ---- Numbers and times for people -------------------------------------------------------------------------
  function duration(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) { return s + ' s'; }
    var m = Math.floor(s / 60);
    if (m < 60) { return m + ' min'; }
    var h = Math.floor(m / 60);
    if (h < 48) { return (m % 60) ? h + ' h ' + (m % 60) + ' min' : h + ' h'; }
    return Math.floor(h / 24) + ' d';
  }

  function ago(date) {
    var d = Date.now() - date.getTime();
    if (d < -1000) { return 'in ' + duration(-d); }
    return d < 1000 ? 'just now' : duration(d) + ' ago';
  }

  function timeEl(iso) {
    var t = el('time');
    var date = new Date(iso);
    t.setAttribute('datetime', date.toISOString());
    t.title = date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    t.textContent = ago(date);
    return t;
  }

  function refreshTimes() {
    document.querySelectorAll('time[datetime]').forEach(function (t) {
      t.textContent = ago(new Date(t.getAttribute('datetime')));
    });
  }

  // ---- Sortable tables: each header becomes a button (keyboard: Tab to it, Enter or Space sorts) -------------
  var sortState = {};

  function cellValue(row, index) {
    var cell = row.children[index];
    if (!cell) { return ''; }
    var v = cell.getAttribute('data-sort');
    if (v === null) { v = cell.textContent.trim(); }
    var n = Number(v.replace(/[,*+%]/g, '').replace(/\s/g, ''));
    return v !== '' && !isNaN(n) ? n : v.toLowerCase();
  }

  function sortTable(table, index, dir) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index);
      var c = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y));
      return dir === 'ascending' ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (i === index) { th.setAttribute('aria-sort', dir); } else { th.removeAttribute('aria-sort'); }
    });
  }

  function initSortable(root) {
    root.querySelectorAll('table.sortable').forEach(function (table) {
      if (!table.tHead) { return; }
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
        if (th.querySelector('button.sort')) { return; }
        var b = el('button', 'sort');
        b.type = 'button';
        while (th.firstChild) { b.appendChild(th.firstChild); }
        th.appendChild(b);
        b.addEventListener('click', function () {
          var dir = th.getAttribute('aria-sort') === 'descending' ? 'ascending' : 'descending';
          sortState[table.id] = { index: index, dir: dir };
          sortTable(table, index, dir);
        });
      });
      var s = sortState[table.id];
      if (s) { sortTable(table, s.index, s.dir); }
    });
  }

  // ---- Periodic refresh of server-rendered pages (not while the user is working inside the page) ---------------
  function initRefresh() {
    var seconds = Number(document.body.getAttribute('data-refresh') || '0');
    if (!seconds) { return; }
    setInterval(function () {
      var main = document.getElementById('main');
      var active = document.activeElement;
      if (document.hidden || (active && active !== main && main.contains(active)) || main.querySelector('details[open]')) { return; }
      fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } }).then(function (r) {
        if (r.redirected && r.url.indexOf(loginPath) >= 0) { location.assign(loginPath); return null; }
        return r.ok ? r.text() : null;
      }).then(function (text) {
        if (!text) { return; }
        var doc = new DOMParser().parseFromString(text, 'text/html');
        var fresh = doc.getElementById('main');
        if (!fresh) { return; }
        main.replaceChildren.apply(main, Array.prototype.map.call(fresh.childNodes, function (n) { return document.importNode(n, true); }));
        initSortable(main);
      }).catch(function () { /* the next tick tries again */ });
    }, seconds * 1000);
  }

  // ---- Live event tail --------------------------------------------------------------------------------------------
  function initTail() {
    var table = document.querySelector('table[data-stream]');
    if (!table) { return; }
    var body = table.tBodies[0];
    var pauseButton = document.getElementById('pause');
    var state = document.getElementById('tail-state');
    var filterBox = document.getElementById('filters');
    var filters = [];
    var paused = false;
    var queued = [];
    var maxRows = 500;

    function matches(row) {
      return filters.every(function (f) { return row.getAttribute('data-' + f.field) === f.value; });
    }

    function applyFilters() {
      Array.prototype.forEach.call(body.rows, function (r) { r.classList.toggle('hidden', !matches(r)); });
      filterBox.replaceChildren();
      filters.forEach(function (f, i) {
        var b = el('button', 'chip', f.field + ' = ' + f.value);
        b.type = 'button';
        b.setAttribute('aria-label', 'Remove filter ' + f.field + ' ' + f.value);
        b.addEventListener('click', function () { filters.splice(i, 1); applyFilters(); });
        filterBox.appendChild(b);
      });
    }

    table.addEventListener('click', function (e) {
      var chip = e.target.closest('button[data-filter]');
      if (!chip) { return; }
      var f = { field: chip.getAttribute('data-filter'), value: chip.getAttribute('data-value') };
      if (!filters.some(function (x) { return x.field === f.field && x.value === f.value; })) { filters.push(f); }
      applyFilters();
    });

    function row(ev) {
      var fields = ev.fields || {};
      var tr = el('tr', (ev.level === 'Warning' || ev.level === 'Error' || ev.level === 'Critical') ? 'critical fresh' : 'fresh');
      tr.setAttribute('data-seq', ev.sequence);
      ['camera', 'reason', 'rule'].forEach(function (k) { tr.setAttribute('data-' + k, fields[k] || ''); });
      var when = el('td'); when.appendChild(timeEl(ev.at)); tr.appendChild(when);
      tr.appendChild(el('td', null, ev.kind));
      ['camera', 'reason', 'rule'].forEach(function (k) {
        var td = el('td');
        var v = fields[k];
        if (v && v !== '-') {
          var b = el('button', 'chip', v);
          b.type = 'button';
          b.setAttribute('data-filter', k);
          b.setAttribute('data-value', v);
          td.appendChild(b);
        } else if (v) { td.textContent = v; }
        tr.appendChild(td);
      });
      var dns = fields.dns;
      tr.appendChild(el('td', dns && dns !== '-' ? 'addr' : 'muted', dns && dns !== '-' ? dns : '–'));
      tr.appendChild(el('td', 'msg', ev.message));
      if (!matches(tr)) { tr.classList.add('hidden'); }
      return tr;
    }

    function show(ev) {
      body.insertBefore(row(ev), body.firstChild);
      while (body.rows.length > maxRows) { body.deleteRow(body.rows.length - 1); }
    }

    function label() {
      pauseButton.textContent = paused ? 'Resume' + (queued.length ? ' (' + queued.length + ' new)' : '') : 'Pause';
    }

    pauseButton.addEventListener('click', function () {
      paused = !paused;
      pauseButton.setAttribute('aria-pressed', paused ? 'true' : 'false');
      if (!paused) { queued.forEach(show); queued = []; }
      label();
    });

    var after = table.getAttribute('data-after') || '0';
    var source = new EventSource(table.getAttribute('data-stream') + '?after=' + encodeURIComponent(after));
    source.onopen = function () { state.textContent = 'live'; };
    source.onerror = function () { state.textContent = 'reconnecting…'; };
    source.onmessage = function (m) {
      var ev;
      try { ev = JSON.parse(m.data); } catch (e) { return; }
      if (paused) { queued.push(ev); label(); } else { show(ev); }
    };
    source.addEventListener('session-ended', function () { source.close(); location.assign(loginPath); });
  }

  // ---- Policy: validate, apply, safe apply with countdown, confirm, rollback ---------------------------------------
  function api(method, url, body) {
    var headers = { 'X-CSRF-Token': csrf, Accept: 'application/json' };
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
    return fetch(url, { method: method, credentials: 'same-origin', headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        return r.text().then(function (t) {
          var json = null;
          try { json = t ? JSON.parse(t) : null; } catch (e) { json = null; }
          return { status: r.status, ok: r.ok, body: json, text: t };
        });
      });
  }

  function ignoredName(part) {
    return part.length === 0 || part[0] === '.' || part[part.length - 1] === '~' || (part.length > 1 && part[0] === '#' && part[part.length - 1] === '#') || part === '4913';
  }

  // The same choice as the appliance's directory reader: *.yaml and *.yml files, hidden and backup files ignored;
  // x.YAML is sent so the appliance reports it.
  function collectFiles() {
    var chosen = [];
    var dir = document.getElementById('policy-dir');
    var single = document.getElementById('policy-files');
    Array.prototype.forEach.call(dir.files || [], function (f) {
      var rel = (f.webkitRelativePath || f.name).split('/');
      if (rel.length > 1) { rel.shift(); }
      chosen.push({ file: f, name: rel.join('/') });
    });
    Array.prototype.forEach.call(single.files || [], function (f) { chosen.push({ file: f, name: f.name }); });
    var sent = [], skipped = [];
    chosen.forEach(function (c) {
      var parts = c.name.split('/');
      var policy = /\.ya?ml$/i.test(c.name) && !parts.some(ignoredName);
      (policy ? sent : skipped).push(c);
    });
    return { sent: sent, skipped: skipped };
  }

  function readFiles(list) {
    return Promise.all(list.map(function (c) { return c.file.text().then(function (t) { return [c.name, t]; }); }))
      .then(function (pairs) { var files = {}; pairs.forEach(function (p) { files[p[0]] = p[1]; }); return files; });
  }

  function showDiagnostics(target, diagnostics, files) {
    var ul = el('ul', 'diagnostics');
    ul.id = 'diagnostics';
    (diagnostics || []).forEach(function (d) {
      var li = el('li', d.severity);
      li.appendChild(el('code', null, d.file + ':' + d.line + ':' + d.column));
      li.appendChild(document.createTextNode(' ' + d.severity + ': ' + d.message));
      var text = files && files[d.file];
      if (text && d.line > 0) {
        var line = text.split(/\r?\n/)[d.line - 1];
        if (line !== undefined) {
          var pre = el('pre', 'excerpt', line + '\n' + ' '.repeat(Math.max(0, d.column - 1)) + '^');
          li.appendChild(pre);
        }
      }
      ul.appendChild(li);
    });
    target.appendChild(ul);
  }

  function initPolicy() {
    var form = document.getElementById('policy-form');
    var result = document.getElementById('result');
    if (form) {
      var chosenText = document.getElementById('chosen');
      var update = function () {
        var c = collectFiles();
        chosenText.textContent = c.sent.length ? 'Will send ' + c.sent.map(function (x) { return x.name; }).join(', ') + (c.skipped.length ? '; not policy files: ' + c.skipped.map(function (x) { return x.name; }).join(', ') : '') : '';
      };
      // A directory or single files, not both: choosing one clears the other, so no stale file rides along.
      var dirInput = document.getElementById('policy-dir');
      var filesInput = document.getElementById('policy-files');
      dirInput.addEventListener('change', function () { filesInput.value = ''; update(); });
      filesInput.addEventListener('change', function () { dirInput.value = ''; update(); });

      var run = function (kind) {
        var c = collectFiles();
        result.replaceChildren();
        if (!c.sent.length) { result.appendChild(el('p', 'error', 'Choose a policy directory or files first.')); return; }
        result.appendChild(el('p', 'muted', kind === 'validate' ? 'Validating…' : 'Applying…'));
        readFiles(c.sent).then(function (files) {
          var url, method;
          if (kind === 'validate') { method = 'POST'; url = '/api/v1/policy/validate'; } else {
            method = 'PUT'; url = '/api/v1/policy';
            if (kind === 'safe') { url += '?confirm-within=' + encodeURIComponent(document.getElementById('confirm-within').value); }
          }
          return api(method, url, { files: files }).then(function (r) {
            result.replaceChildren();
            var b = r.body || {};
            if (r.ok && kind === 'validate') {
              var p = el('p', 'callout ok', 'Valid: ' + b.cameras + ' cameras, sha256 ' + b.sha256 + (b.warnings ? ', ' + b.warnings + ' warning(s)' : '') + '.');
              p.id = 'validate-ok';
              result.appendChild(p);
              if (b.warnings) { showDiagnostics(result, b.diagnostics, files); }
            } else if (r.ok) {
              var msg = b.outcome === 'unchanged' ? 'Nothing changed: version ' + b.version + ' is already in force.'
                : 'Version ' + b.version + ' applied' + (b.confirmDeadline ? '; confirm it before the countdown ends or it is reverted.' : '.');
              var ok = el('p', 'callout ok', msg);
              ok.id = 'apply-ok';
              result.appendChild(ok);
              setTimeout(function () { location.reload(); }, 800);
            } else {
              var bad = el('p', 'callout bad', (b.title || 'Refused') + ': ' + (b.detail || r.text || r.status));
              bad.id = 'apply-error';
              result.appendChild(bad);
              showDiagnostics(result, b.diagnostics, files);
            }
          });
        }).catch(function (e) { result.replaceChildren(el('p', 'error', 'The request failed: ' + e)); });
      };
      document.getElementById('validate').addEventListener('click', function () { run('validate'); });
      document.getElementById('apply').addEventListener('click', function () { run('apply'); });
      document.getElementById('safe-apply').addEventListener('click', function () { run('safe'); });
    }

    var pending = document.getElementById('pending');
    if (pending) {
      var deadline = Number(pending.getAttribute('data-deadline'));
      var countdown = document.getElementById('countdown');
      var tick = function () {
        var left = deadline - Date.now();
        countdown.textContent = duration(Math.max(0, left));
        if (left <= -1500) { location.reload(); }
      };
      tick();
      setInterval(tick, 1000);
      document.getElementById('confirm').addEventListener('click', function () {
        api('POST', '/api/v1/policy/confirm').then(function (r) {
          if (r.ok) { location.reload(); } else { pending.appendChild(el('p', 'error', (r.body && r.body.detail) || ('confirm failed: ' + r.status))); }
        });
      });
    }

    // Two presses, no modal dialog: the first asks, the second rolls back.
    document.querySelectorAll('button.rollback').forEach(function (b) {
      b.addEventListener('click', function () {
        var v = b.getAttribute('data-version');
        if (b.getAttribute('data-armed') !== 'true') {
          b.setAttribute('data-armed', 'true');
          b.textContent = 'Really roll back to ' + v + '?';
          return;
        }
        b.disabled = true;
        api('POST', '/api/v1/policy/rollback/' + encodeURIComponent(v)).then(function (r) {
          if (r.ok) { location.reload(); return; }
          b.disabled = false;
          result.replaceChildren(el('p', 'callout bad', (r.body && r.body.detail) || ('rollback failed: ' + r.status)));
        });
      });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    initSortable(document);
    initRefresh();
    initTail();
    initPolicy();
    setInterval(refreshTimes, 10000);
  });
}());
