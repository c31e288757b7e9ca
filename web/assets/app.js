// errand dashboard: progressive enhancement over server-rendered pages.
// Live counters, charts (uPlot), selection and confirmations. No inline
// scripts anywhere (the pages are served with a strict CSP).
(function () {
  'use strict';

  var POLL_MS = 5000;
  var LIVE_WINDOW_S = 300;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function fmt(n) { return Number(n).toLocaleString('en-US'); }
  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  // ---- confirmations -------------------------------------------------------
  document.addEventListener('submit', function (ev) {
    var button = ev.submitter || $('button[data-confirm]', ev.target);
    var text = button && button.getAttribute('data-confirm');
    if (text && !window.confirm(text)) ev.preventDefault();
  });

  // ---- selection on set pages --------------------------------------------------
  function updateSelection(form) {
    var boxes = $all('input[name="key"]', form);
    var checked = boxes.filter(function (b) { return b.checked; });
    boxes.forEach(function (b) { b.closest('tr').classList.toggle('selected', b.checked); });
    $all('[data-needs-selection]', form).forEach(function (b) { b.disabled = checked.length === 0; });
    var count = $('[data-selected-count]', form);
    if (count) count.textContent = checked.length + ' selected';
    var all = $('[data-select-all]', form);
    if (all) {
      all.checked = checked.length > 0 && checked.length === boxes.length;
      all.indeterminate = checked.length > 0 && checked.length < boxes.length;
    }
  }
  $all('form.selection').forEach(function (form) {
    form.addEventListener('change', function (ev) {
      if (ev.target.hasAttribute('data-select-all')) {
        $all('input[name="key"]', form).forEach(function (b) { b.checked = ev.target.checked; });
      }
      updateSelection(form);
    });
    updateSelection(form);
  });

  // ---- charts --------------------------------------------------------------------
  function chartOptions(el, series, extra) {
    var muted = cssVar('--muted');
    var grid = cssVar('--border');
    var axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    var opts = {
      width: Math.max(200, el.clientWidth),
      height: el.clientHeight || 220,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max * 1.15)]; } } },
      axes: [Object.assign({}, axis), Object.assign({ size: 50 }, axis)],
      series: [{}].concat(series)
    };
    return Object.assign(opts, extra || {});
  }

  function message(el, text) {
    var m = $('.chart-msg', el);
    if (!m) { m = document.createElement('div'); m.className = 'chart-msg'; el.appendChild(m); }
    m.textContent = text;
    m.hidden = !text;
  }

  function makeSeries(bars) {
    var ok = cssVar('--ok'), bad = cssVar('--bad');
    var s = [
      { label: 'processed', stroke: ok, width: 2, fill: ok + '22', points: { show: false } },
      { label: 'failed', stroke: bad, width: 2, fill: bad + '22', points: { show: false } }
    ];
    if (bars && window.uPlot && uPlot.paths && uPlot.paths.bars) {
      s[0].paths = uPlot.paths.bars({ size: [0.7, 28], align: -1 });
      s[1].paths = uPlot.paths.bars({ size: [0.7, 28], align: 1 });
      s[0].fill = ok + 'cc'; s[1].fill = bad + 'cc';
      s[0].width = 0; s[1].width = 0;
    }
    return s;
  }

  var charts = [];
  window.addEventListener('resize', function () {
    charts.forEach(function (c) { c.plot.setSize({ width: Math.max(200, c.el.clientWidth), height: c.el.clientHeight || 220 }); });
  });

  var live = null;
  var liveEl = $('#live-chart');
  if (liveEl) {
    if (window.uPlot) {
      live = { el: liveEl, data: [[], [], []], last: null };
      // The x axis always spans the last five minutes, data or not.
      var liveScales = {
        x: { time: true, range: function (u, min, max) { var now = Date.now() / 1000; return [now - LIVE_WINDOW_S, now]; } },
        y: { range: function (u, min, max) { return [0, Math.max(1, max * 1.15)]; } }
      };
      live.plot = new uPlot(chartOptions(liveEl, makeSeries(false), { scales: liveScales }), live.data, liveEl);
      charts.push(live);
      message(liveEl, 'collecting\u2026');
    } else {
      message(liveEl, 'charts are not built into this binary');
    }
  }

  function feedLive(stats) {
    if (!live) return;
    var t = stats.time;
    if (live.last) {
      var dt = Math.max(0.001, t - live.last.time);
      var p = Math.max(0, (stats.processed - live.last.processed) / dt);
      var f = Math.max(0, (stats.failed - live.last.failed) / dt);
      live.data[0].push(t); live.data[1].push(+p.toFixed(2)); live.data[2].push(+f.toFixed(2));
      while (live.data[0].length && live.data[0][0] < t - LIVE_WINDOW_S) {
        live.data[0].shift(); live.data[1].shift(); live.data[2].shift();
      }
      live.plot.setData(live.data);
      message(live.el, '');
    }
    live.last = stats;
  }

  var histEl = $('#history-chart');
  if (histEl) {
    if (!window.uPlot) {
      message(histEl, 'charts are not built into this binary');
    } else {
      fetch(histEl.getAttribute('data-src'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (h) {
          var xs = h.days.map(function (d) { return Date.parse(d + 'T12:00:00Z') / 1000; });
          var plot = new uPlot(chartOptions(histEl, makeSeries(true)), [xs, h.processed, h.failed], histEl);
          charts.push({ el: histEl, plot: plot });
        })
        .catch(function () { message(histEl, 'history is not available'); });
    }
  }

  // ---- live counters -------------------------------------------------------------
  var indicator = $('#live-indicator');
  function poll() {
    fetch('/api/stats', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (s) {
        $all('[data-stat]').forEach(function (el) {
          var k = el.getAttribute('data-stat');
          if (k in s) el.textContent = fmt(s[k]);
          if (el.classList.contains('badge') && (k === 'retries' || k === 'dead'))
            el.classList.toggle('badge-warn', s[k] > 0);
        });
        feedLive(s);
        if (indicator) { indicator.classList.add('on'); indicator.classList.remove('off'); indicator.title = 'live: updated ' + new Date().toLocaleTimeString(); }
      })
      .catch(function () {
        if (indicator) { indicator.classList.add('off'); indicator.classList.remove('on'); indicator.title = 'live updates failed'; }
      });
  }
  // ---- job progress bars (busy page, status page) --------------------------------
  function pollProgress() {
    $all('[data-progress-jid]').slice(0, 25).forEach(function (el) {
      var jid = el.getAttribute('data-progress-jid');
      fetch('/api/status/' + encodeURIComponent(jid), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (st) {
          if (typeof st.progress !== 'number') return;
          var pct = Math.round(st.progress * 100);
          var bar = el.querySelector('progress');
          var text = el.querySelector('.progress-text');
          if (bar) bar.value = pct;
          if (text) text.textContent = pct + '%' + (st.progress_message ? ' \u00b7 ' + st.progress_message : '');
          el.hidden = false;
        })
        .catch(function () {});
    });
  }
  if ($('[data-progress-jid]')) setInterval(function () { if (!document.hidden) pollProgress(); }, 2000);

  if (document.body.getAttribute('data-page') !== 'login') {
    poll();
    var every = liveEl ? Number(liveEl.getAttribute('data-poll')) || POLL_MS : POLL_MS;
    setInterval(function () { if (!document.hidden) poll(); }, every);
  }
})();
