/**
 * The operator's calls page (`/operator/calls`): recent calls, and the ladder of the one chosen,
 * drawn in SVG as sngrep draws it in a terminal. Plain DOM, no framework; every text from the
 * wire is set as textContent, never as markup. Served with its script and style as files of
 * their own, under a Content-Security-Policy that allows nothing else (operator-calls.ts).
 */

export const OPERATOR_CALLS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ringway · recent calls</title>
<link rel="stylesheet" href="/operator/calls.css">
<script src="/operator/calls.js" defer></script>
</head>
<body>
<header><h1>Recent calls</h1><button type="button" data-testid="refresh">Refresh</button></header>
<main>
<section aria-label="calls">
<table data-testid="calls-table">
<thead><tr><th>started</th><th>from</th><th>to</th><th>outcome</th><th>setup</th><th>MOS</th><th>messages</th></tr></thead>
<tbody></tbody>
</table>
<p data-testid="calls-empty" hidden>No call yet: calls appear here from their first INVITE.</p>
</section>
<section aria-label="ladder" data-testid="call-view" hidden>
<h2 data-testid="call-title"></h2>
<p data-testid="call-facts"></p>
<p class="exports"><a data-testid="export-pcap" download>pcap (Wireshark)</a> <a data-testid="export-text" download>text</a></p>
<div class="ladder-box"><svg data-testid="ladder" role="img" aria-label="SIP ladder"></svg></div>
<pre data-testid="message-view" tabindex="0">Click an arrow to see its message.</pre>
</section>
</main>
</body>
</html>
`;

export const OPERATOR_CALLS_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1b1b1f; background: #fafafa; }
header { display: flex; gap: 1rem; align-items: center; padding: 0.5rem 1rem; background: #243447; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; }
main { padding: 1rem; display: grid; gap: 1rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid #ddd; }
tbody tr { cursor: pointer; }
tbody tr:hover, tbody tr[aria-selected="true"] { background: #e8f0fe; }
.ladder-box { overflow-x: auto; background: #fff; border: 1px solid #ddd; }
svg text { font: 12px ui-monospace, monospace; }
.column-line { stroke: #999; stroke-dasharray: 4 3; }
.arrow line { stroke: #243447; stroke-width: 1.5; }
.arrow.response line { stroke: #2e7d32; }
.arrow.failure line { stroke: #c62828; }
.arrow .hit { fill: transparent; cursor: pointer; }
.arrow:hover .hit, .arrow.selected .hit { fill: rgba(66, 133, 244, 0.15); }
pre { background: #fff; border: 1px solid #ddd; padding: 0.5rem; white-space: pre-wrap; word-break: break-all; max-height: 40vh; overflow: auto; }
@media (prefers-color-scheme: dark) {
  body { background: #16181d; color: #e6e6e6; }
  table, .ladder-box, pre { background: #1f2229; }
  th, td { border-color: #333; }
  tbody tr:hover, tbody tr[aria-selected="true"] { background: #2a3550; }
  svg text { fill: #e6e6e6; }
  .arrow line { stroke: #9ab; }
}
`;

export const OPERATOR_CALLS_SCRIPT = `'use strict';
(function () {
  var COLUMN_WIDTH = 210, LEFT = 90, TOP = 56, ROW = 30;
  var SVG = 'http://www.w3.org/2000/svg';
  var $ = function (id) { return document.querySelector('[data-testid="' + id + '"]'); };

  function get(path) {
    return fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } }).then(function (r) {
      if (!r.ok) throw new Error(path + ': ' + r.status);
      return r.json();
    });
  }
  function cell(row, text) {
    var td = document.createElement('td');
    td.textContent = text;
    row.appendChild(td);
  }
  function svg(name, attributes, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (k) { node.setAttribute(k, String(attributes[k])); });
    parent.appendChild(node);
    return node;
  }
  function apiPath(callId) { return '/api/operator/calls/' + encodeURIComponent(callId); }
  function outcomeOf(call) { return call.outcome + (call.status ? ' (' + call.status + ')' : ''); }

  function showList(calls) {
    var body = $('calls-table').querySelector('tbody');
    body.textContent = '';
    $('calls-empty').hidden = calls.length > 0;
    calls.forEach(function (call) {
      var row = document.createElement('tr');
      row.setAttribute('data-testid', 'call-row');
      row.setAttribute('data-call-id', call.callId);
      row.tabIndex = 0;
      cell(row, new Date(call.startedAt).toLocaleTimeString());
      cell(row, call.from || '');
      cell(row, call.to || '');
      cell(row, outcomeOf(call));
      cell(row, call.setupMs === undefined ? '' : call.setupMs + ' ms');
      cell(row, call.mos.map(function (m) { return m.toFixed(2); }).join(' / '));
      cell(row, String(call.messages) + (call.truncated ? '+' : ''));
      var open = function () { location.hash = encodeURIComponent(call.callId); };
      row.addEventListener('click', open);
      row.addEventListener('keydown', function (e) { if (e.key === 'Enter') open(); });
      body.appendChild(row);
    });
    markSelected();
  }

  function markSelected() {
    var current = decodeURIComponent(location.hash.slice(1));
    document.querySelectorAll('[data-testid="call-row"]').forEach(function (row) {
      row.setAttribute('aria-selected', String(row.getAttribute('data-call-id') === current));
    });
  }

  function showMessage(arrow, group) {
    document.querySelectorAll('.arrow.selected').forEach(function (g) { g.classList.remove('selected'); });
    group.classList.add('selected');
    var view = $('message-view');
    view.setAttribute('data-seq', String(arrow.seq));
    view.textContent = '+' + (arrow.offsetMs / 1000).toFixed(3) + ' s  ' + arrow.transport + '\\n\\n' + arrow.text;
  }

  function drawLadder(ladder) {
    var box = $('ladder');
    box.textContent = '';
    var width = LEFT + ladder.columns.length * COLUMN_WIDTH;
    var height = TOP + (ladder.arrows.length + 1) * ROW;
    box.setAttribute('width', width);
    box.setAttribute('height', height);
    box.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    var defs = svg('defs', {}, box);
    var marker = svg('marker', { id: 'head', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' }, defs);
    svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: 'currentColor' }, marker);
    var x = function (i) { return LEFT + i * COLUMN_WIDTH + COLUMN_WIDTH / 2; };
    ladder.columns.forEach(function (column, i) {
      var g = svg('g', { 'data-testid': 'ladder-column', 'data-role': column.role }, box);
      var title = svg('text', { x: x(i), y: 18, 'text-anchor': 'middle', 'font-weight': 'bold' }, g);
      title.textContent = column.role;
      var where = svg('text', { x: x(i), y: 34, 'text-anchor': 'middle' }, g);
      where.textContent = column.addresses.join(' ');
      svg('line', { x1: x(i), y1: TOP - 14, x2: x(i), y2: height, class: 'column-line' }, g);
    });
    ladder.arrows.forEach(function (arrow, k) {
      var y = TOP + k * ROW + 14;
      var response = /^[0-9]/.test(arrow.label);
      var failure = response && Number(arrow.label.slice(0, 3)) >= 300;
      var g = svg('g', {
        'data-testid': 'ladder-arrow', 'data-label': arrow.label, 'data-from': arrow.from, 'data-to': arrow.to,
        class: 'arrow' + (response ? ' response' : '') + (failure ? ' failure' : ''), tabindex: 0, role: 'button',
      }, box);
      svg('rect', { x: 0, y: y - ROW + 8, width: width, height: ROW, class: 'hit' }, g);
      var time = svg('text', { x: 4, y: y }, g);
      time.textContent = '+' + (arrow.offsetMs / 1000).toFixed(3);
      var x1 = x(arrow.from), x2 = x(arrow.to);
      if (x1 === x2) x2 = x1 + 40;
      svg('line', { x1: x1, y1: y, x2: x2, y2: y, 'marker-end': 'url(#head)', style: 'color: currentColor' }, g);
      var label = svg('text', { x: (x1 + x2) / 2, y: y - 5, 'text-anchor': 'middle' }, g);
      label.textContent = arrow.label;
      var title = svg('title', {}, g);
      title.textContent = arrow.label + ' (' + arrow.cseq + ') ' + arrow.transport;
      var pick = function () { showMessage(arrow, g); };
      g.addEventListener('click', pick);
      g.addEventListener('keydown', function (e) { if (e.key === 'Enter') pick(); });
    });
  }

  function showCall(callId) {
    markSelected();
    if (!callId) { $('call-view').hidden = true; return Promise.resolve(); }
    return get(apiPath(callId)).then(function (call) {
      $('call-view').hidden = false;
      $('call-title').textContent = (call.from || '?') + ' \\u2192 ' + (call.to || '?');
      var facts = [new Date(call.startedAt).toLocaleString(), outcomeOf(call)];
      if (call.ringingMs !== undefined) facts.push('ringing after ' + call.ringingMs + ' ms');
      if (call.setupMs !== undefined) facts.push('answered after ' + call.setupMs + ' ms');
      if (call.mos.length) facts.push('MOS ' + call.mos.map(function (m) { return m.toFixed(2); }).join(' / '));
      facts.push('Call-ID ' + call.callId);
      $('call-facts').textContent = facts.join(' \\u00b7 ');
      $('export-pcap').href = apiPath(call.callId) + '/pcap';
      $('export-text').href = apiPath(call.callId) + '/text';
      $('message-view').textContent = 'Click an arrow to see its message.';
      $('message-view').removeAttribute('data-seq');
      drawLadder(call.ladder);
    }).catch(function (error) {
      $('call-view').hidden = false;
      $('call-title').textContent = String(error.message || error);
    });
  }

  function refresh() {
    return get('/api/operator/calls').then(function (r) { showList(r.calls); });
  }

  window.addEventListener('hashchange', function () { showCall(decodeURIComponent(location.hash.slice(1))); });
  $('refresh').addEventListener('click', function () { refresh(); });
  refresh().then(function () { return showCall(decodeURIComponent(location.hash.slice(1))); });
})();
`;
