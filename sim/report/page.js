/* page.js -- the interactive charts of an index.html (inlined, with uPlot).
 * The data is the page's own <script id="ratelab-data">: per-tick series
 * the report wrote from timeseries.csv. Every chart is a
 * <div class="chart" data-chart="NAME">; what it draws is charts[NAME]
 * below. The body records data-charts (how many there are),
 * data-charts-drawn, data-errors and, as before, data-images and
 * data-images-loaded: the browser test reads them. */
(function () {
  'use strict';
  var body = document.body, errors = 0;
  function broken(msg) {
    errors++;
    body.setAttribute('data-errors', errors);
    var b = document.getElementById('broken');
    if (b) { b.style.display = 'block'; b.textContent += msg + ' '; }
  }
  window.addEventListener('error', function (e) { broken('script error: ' + e.message); });
  // a console error is a fault of the page too: counted where the test reads it
  var consoleError = console.error;
  console.error = function () {
    broken('console: ' + Array.prototype.join.call(arguments, ' '));
    consoleError.apply(console, arguments);
  };
  body.setAttribute('data-errors', 0);

  // ---- units a person reads ------------------------------------------------
  function si(v) {
    var a = Math.abs(v);
    if (a >= 1e9) return +(v / 1e9).toFixed(a >= 1e10 ? 0 : 1) + 'G';
    if (a >= 1e6) return +(v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M';
    if (a >= 1e3) return +(v / 1e3).toFixed(a >= 1e4 ? 0 : 1) + 'k';
    return +v.toFixed(a >= 10 || a === 0 ? 0 : a >= 1 ? 1 : 2) + '';
  }
  function rate(v) { return v == null ? '' : si(v) + '/s'; }
  function ms(v) {
    if (v == null) return '';
    var a = Math.abs(v);
    if (a >= 1000) return +(v / 1000).toFixed(a >= 10000 ? 0 : 1) + ' s';
    if (a >= 1 || a === 0) return +v.toFixed(a >= 10 || a === 0 ? 0 : 1) + ' ms';
    return +(v * 1000).toFixed(0) + ' \u00b5s';
  }
  function ns(v) {
    if (v == null) return '';
    if (v >= 1e6) return +(v / 1e6).toFixed(1) + ' ms';
    if (v >= 1e3) return +(v / 1e3).toFixed(1) + ' \u00b5s';
    return +v.toFixed(0) + ' ns';
  }
  function secs(v) {
    if (v == null) return '';
    if (v >= 3600) return Math.floor(v / 3600) + 'h' + ('0' + Math.floor(v % 3600 / 60)).slice(-2);
    if (v >= 120) return Math.floor(v / 60) + ':' + ('0' + Math.floor(v % 60)).slice(-2);
    return +v.toFixed(v === Math.round(v) ? 0 : 1) + ' s';
  }

  var el = document.getElementById('ratelab-data');
  var nodes = document.querySelectorAll('.chart[data-chart]');
  body.setAttribute('data-charts', nodes.length);
  body.setAttribute('data-charts-drawn', 0);
  if (!el || !nodes.length) return;
  var D = JSON.parse(el.textContent);
  if (typeof uPlot !== 'function') { broken('the charting library did not load.'); return; }

  // A limiter's series of one metric, with its colour; a second backend dashed.
  function limiterSeries(metric, fmt) {
    var out = [];
    D.series.forEach(function (s) {
      if (!s[metric]) return;
      out.push({ data: s[metric], opts: { label: s.label, stroke: s.colour, width: s.best ? 2.6 : 1.6,
                                           dash: s.dash ? [6, 4] : undefined, value: function (u, v) { return fmt(v); },
                                           spanGaps: false } });
    });
    return out;
  }
  function constant(value, label, colour) {
    return { data: D.t.map(function () { return value; }),
             opts: { label: label, stroke: colour, width: 1.4, dash: [3, 5], value: function () { return rate(value); } } };
  }
  // More than four limiters tangle in one overlay: the main chart starts
  // with the verdict's best (or closest, or first) and the lines; the others
  // are a click on their name away, and each has its own small chart below.
  var crowded = D.series.length > 4, lead = -1;
  D.series.forEach(function (s, i) { if (lead < 0 && (s.best || s.label === D.closest)) lead = i; });
  if (lead < 0) lead = 0;
  var charts = {
    main: function () {
      var s = [{ data: D.offered, opts: { label: 'offered', stroke: '#8a8f99', fill: 'rgba(138,143,153,0.12)', width: 1.2,
                                          value: function (u, v) { return rate(v); } } }];
      var mine = limiterSeries('released', rate);
      if (crowded) mine.forEach(function (m, i) { m.opts.show = i === lead; });
      s = s.concat(mine);
      (D.lines || []).forEach(function (l) { s.push(constant(l.value, l.label, l.colour)); });
      return { series: s, fmt: rate, label: 'requests per second' };
    },
    dropped: function () { return { series: limiterSeries('dropped', rate), fmt: rate, label: 'refused per second' }; },
    delay: function () { return { series: limiterSeries('delay_p99_ms', ms), fmt: ms, label: 'p99 delay added' }; },
    latency: function () {
      return { series: limiterSeries('latency_p99_ns', ns), fmt: ns, label: 'decision time, p99', log: true };
    },
    e2e: function () { return { series: limiterSeries('e2e_p99_ms', ms), fmt: ms, label: 'end-to-end p99' }; }
  };
  // "one:K": limiter K alone, against what it was offered
  function one(k) {
    var s = D.series[k];
    return { series: [{ data: D.offered, opts: { label: 'offered', stroke: '#8a8f99', fill: 'rgba(138,143,153,0.12)',
                                                  width: 1, value: function (u, v) { return rate(v); } } },
                      { data: s.released, opts: { label: s.label + ' passed on', stroke: s.colour, width: 1.6,
                                                   value: function (u, v) { return rate(v); } } },
                      { data: s.dropped, opts: { label: 'refused', stroke: s.colour, width: 1, dash: [2, 3],
                                                  value: function (u, v) { return rate(v); } } }],
             fmt: rate, label: 'per second' };
  }

  var made = [];
  function draw(node) {
    var name = node.getAttribute('data-chart');
    var spec = name.indexOf('one:') === 0 ? (D.series[+name.slice(4)] ? function () { return one(+name.slice(4)); } : null)
                                          : charts[name];
    if (!spec) { broken('no chart named ' + node.getAttribute('data-chart') + '.'); return; }
    var c = spec();
    if (!c.series.length) { broken('chart ' + node.getAttribute('data-chart') + ' has no series.'); return; }
    var data = [D.t], series = [{ label: 'time', value: function (u, v) { return secs(v); } }];
    c.series.forEach(function (s) {
      data.push(c.log ? s.data.map(function (v) { return v > 0 ? v : null; }) : s.data);
      series.push(s.opts);
    });
    var opts = {
      width: Math.max(320, node.clientWidth), height: node.getAttribute('data-height') ? +node.getAttribute('data-height') : 300,
      scales: { x: { time: false }, y: c.log ? { distr: 3 } : { range: function (u, lo, hi) { return [0, hi > 0 ? hi * 1.05 : 1]; } } },
      axes: [{ values: function (u, v) { return v.map(secs); }, label: 'scenario time' },
             { values: function (u, v) { return v.map(c.fmt); }, size: 64, label: c.label }],
      series: series,
      cursor: { drag: { x: true, y: false } },
      legend: { live: true }
    };
    made.push({ node: node, plot: new uPlot(opts, data, node) });
  }
  for (var i = 0; i < nodes.length; i++) {
    try { draw(nodes[i]); } catch (e) { broken('chart ' + nodes[i].getAttribute('data-chart') + ': ' + e.message); }
  }
  body.setAttribute('data-charts-drawn', made.length);
  var pending = 0;
  window.addEventListener('resize', function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      made.forEach(function (m) { m.plot.setSize({ width: Math.max(320, m.node.clientWidth), height: m.plot.height }); });
    }, 100);
  });
})();

/* Replaces gnuplot figures that fail to load and counts them. */
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images), ok = 0;
  imgs.forEach(function (img) {
    if (img.complete && img.naturalWidth > 0) { ok++; return; }
    var note = document.createElement('div');
    note.className = 'missing';
    note.textContent = 'figure missing: ' + img.getAttribute('src');
    img.replaceWith(note);
  });
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-images-loaded', ok);
  if (ok < imgs.length) {
    var b = document.getElementById('broken');
    b.textContent += (imgs.length - ok) + ' of ' + imgs.length + ' figures failed to load: run make bench or make sweep again.';
    b.style.display = 'block';
  }
});
