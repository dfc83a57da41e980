// stodepth serve: fills the pages from the JSON API and redraws them as the database grows.
// Loaded as a file (the Content-Security-Policy allows no inline script); charts by dygraphs.
// Smoothing and thinning are done by the server (the `smoothing`, `window` and `max_points`
// parameters of the series API), so every client draws the same values the report would.
'use strict';

(function () {
  const POLL_MS = 1000;
  const page = document.body.dataset.page;
  const byId = (id) => document.getElementById(id);

  async function getJson(url) {
    const response = await fetch(url, { cache: 'no-store' });
    if (!response.ok) throw new Error((await response.text()).trim());
    return response.json();
  }

  function showError(error) {
    let bar = byId('error-bar');
    if (!bar) {
      bar = document.createElement('p');
      bar.id = 'error-bar';
      bar.className = 'error';
      document.body.insertBefore(bar, document.body.firstChild);
    }
    bar.textContent = error ? String(error.message || error) : '';
    bar.hidden = !error;
  }

  function number(x, digits) {
    if (x === null || x === undefined) return '';
    return Number(x).toPrecision(digits === undefined ? 4 : digits).replace(/\.?0+$/, '');
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return '';
    const s = Math.round(seconds);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }

  function setCells(row, values) {
    values.forEach((value, i) => {
      const cell = row.cells[i];
      if (typeof value === 'string' || typeof value === 'number') {
        if (cell.textContent !== String(value)) cell.textContent = value;
      } else if (value && !cell.firstChild) {
        cell.appendChild(value);
      }
    });
  }

  function link(href, text) {
    const a = document.createElement('a');
    a.href = href;
    a.textContent = text;
    return a;
  }

  // --- Controls --------------------------------------------------------------------------

  function controls() {
    const value = (id, fallback) => (byId(id) ? byId(id).value : fallback);
    return {
      smoothing: value('smoothing', 'none'),
      window: value('smoothing-window', '20'),
      xaxis: value('xaxis', 'iteration'),
      logscale: byId('logscale') ? byId('logscale').checked : false,
      filter: value('filter', ''),
      groupBy: value('group-by', 'run'),
    };
  }

  function seriesQuery(metric, c) {
    const q = new URLSearchParams({ metric: metric, max_points: '2000', smoothing: c.smoothing });
    if (c.smoothing !== 'none') q.set('window', c.window || '20');
    return q;
  }

  // "p_L=0.5 mode=sample": every term must match a setting (the last parts of its dotted
  // path, or the whole path) with that value; a term without "=" matches the label.
  function matchesFilter(job, filter) {
    const terms = filter.trim().split(/\s+/).filter((t) => t);
    return terms.every((term) => {
      const eq = term.indexOf('=');
      if (eq < 0) return (job.label + ' ' + job.key).includes(term);
      const key = term.slice(0, eq);
      const want = term.slice(eq + 1);
      return Object.entries(job.settings || {}).some(([path, v]) => {
        if (path !== key && !path.endsWith('.' + key)) return false;
        const have = String(v);
        return have === want || (want !== '' && !isNaN(want) && Number(have) === Number(want));
      });
    });
  }

  // --- Charts ----------------------------------------------------------------------------

  const charts = {};
  const hidden = new Set();

  function xOf(point, xaxis, perEpoch) {
    if (xaxis === 'epoch') return point[0] / perEpoch;
    if (xaxis === 'wall') return point[2];
    return point[0];
  }

  // Iterations per epoch, from the points of epoch 1 once epoch 2 has begun.
  function iterationsPerEpoch(points) {
    let first = 0;
    let later = false;
    for (const p of points) {
      if (p[1] === 1) first = Math.max(first, p[0]);
      else if (p[1] > 1) later = true;
    }
    if (later && first > 0) return first;
    const last = points[points.length - 1];
    return last ? Math.max(last[0] / Math.max(last[1], 1), 1) : 1;
  }

  function digest(values) {
    let h = 2166136261;
    for (const v of values) {
      const text = v === null ? 'n' : v.toPrecision(12);
      for (let i = 0; i < text.length; ++i) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    }
    return (h >>> 0).toString(16);
  }

  // What each chart last drew from: a poll that brings nothing new redraws nothing.
  const lastDrawn = {};

  // series: [{name, points: [[iteration, epoch, train_s, y(, sd)]...], thinning}]
  function draw(metric, series, c) {
    const div = byId('chart-' + metric);
    if (!div) return;
    const signature = JSON.stringify([series, c, Array.from(hidden)]);
    if (lastDrawn[metric] === signature && charts[metric]) return;
    lastDrawn[metric] = signature;
    const bars = series.some((s) => s.points.length && s.points[0].length > 4);
    const rows = new Map();
    const drawn = [];
    let count = 0;
    series.forEach((s, i) => {
      const perEpoch = iterationsPerEpoch(s.points);
      for (const p of s.points) {
        const x = xOf(p, c.xaxis, perEpoch);
        if (!rows.has(x)) rows.set(x, new Array(series.length).fill(null));
        rows.get(x)[i] = bars ? [p[3], p.length > 4 ? p[4] : 0] : p[3];
        drawn.push(p[3]);
        if (p[3] !== null) ++count;
      }
    });
    const data = Array.from(rows.entries())
      .sort((a, b) => a[0] - b[0])
      .map(([x, ys]) => [x].concat(bars ? ys.map((y) => y || [null, null]) : ys));
    div.dataset.points = String(count);
    div.dataset.drawn = digest(drawn);
    div.dataset.logscale = String(c.logscale);
    const thinning = series.map((s) => s.thinning).filter((t) => t && t !== 'none');
    const note = byId('thinning-' + metric);
    if (note) note.textContent = thinning.length ? '(thinned: ' + thinning[0] + (thinning.length > 1 ? ', …' : '') + ')' : '';
    if (!data.length) {
      if (charts[metric]) {
        charts[metric].destroy();
        delete charts[metric];
      }
      div.textContent = 'no points yet';
      return;
    }
    if (!charts[metric]) div.textContent = '';
    const labels = [c.xaxis === 'wall' ? 'training time (s)' : c.xaxis].concat(series.map((s) => s.name));
    const options = {
      file: data,
      labels: labels,
      logscale: c.logscale,
      errorBars: bars,
      sigma: 1,
      connectSeparatedPoints: true,
      legend: 'always',
      labelsDiv: byId('legend-' + metric),
      labelsSeparateLines: true,
      visibility: series.map((s) => !hidden.has(s.name)),
      digitsAfterDecimal: 6,
      // A constant series (the learning rate between steps) would otherwise be drawn on an
      // axis spanning its rounding noise.
      includeZero: !c.logscale && ['lr', 'step_ms', 'active_blocks'].includes(metric),
      xlabel: labels[0],
    };
    if (charts[metric] && charts[metric].getLabels().join('\u0000') === labels.join('\u0000') &&
        charts[metric].getOption('errorBars') === bars) {
      charts[metric].updateOptions(options);
    } else {
      if (charts[metric]) charts[metric].destroy();
      charts[metric] = new Dygraph(div, data, options);
    }
  }

  function drawToggles(names) {
    const box = byId('series-toggles');
    if (!box) return;
    const key = names.join('\u0000');
    if (box.dataset.names === key) return;
    box.dataset.names = key;
    box.textContent = '';
    for (const name of names) {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.checked = !hidden.has(name);
      input.addEventListener('change', () => {
        if (input.checked) hidden.delete(name);
        else hidden.add(name);
        refresh();
      });
      label.appendChild(input);
      label.appendChild(document.createTextNode(' ' + name));
      box.appendChild(label);
    }
  }

  function metrics() {
    return Array.from(document.querySelectorAll('.plot')).map((d) => d.dataset.metric);
  }

  // --- Pages -----------------------------------------------------------------------------

  async function refreshSweeps() {
    const sweeps = await getJson('/api/sweeps');
    for (const row of document.querySelectorAll('#sweeps tbody tr')) {
      const s = sweeps.find((x) => x.name === row.dataset.sweep);
      if (!s) continue;
      const states = Object.entries(s.counts).map(([k, n]) => n + ' ' + k).join(', ');
      const ended = s.total - s.left;
      setCells(row, [null, null, states, ended + ' / ' + s.total, duration(s.eta_seconds),
        s.machines.join('; ')]);
    }
  }

  let jobs = [];

  function updateGroupChoices() {
    const select = byId('group-by');
    if (!select || select.dataset.filled) return;
    const values = {};
    for (const job of jobs)
      for (const [path, v] of Object.entries(job.settings)) {
        if (path === 'train.seed') continue;
        (values[path] = values[path] || new Set()).add(JSON.stringify(v));
      }
    for (const [path, set] of Object.entries(values)) {
      if (set.size < 2) continue;
      const option = document.createElement('option');
      option.value = path;
      option.textContent = path;
      select.appendChild(option);
    }
    select.dataset.filled = '1';
  }

  function updateJobs(c) {
    const body = byId('jobs').tBodies[0];
    for (const job of jobs) {
      let row = body.querySelector('tr[data-key="' + job.key + '"]');
      if (!row) {
        row = body.insertRow();
        row.dataset.key = job.key;
        for (let i = 0; i < 10; ++i) row.insertCell();
      }
      const progress = job.ended ? String(job.iteration) : job.iteration + ' / ' + (job.total || '?');
      setCells(row, [link('/run/' + job.key, job.key), job.label, job.state, progress,
        number(job.loss), number(job.test_batch_acc), number(job.test_acc),
        number(job.images_per_second), duration(job.eta_seconds), job.note]);
      row.hidden = !matchesFilter(job, c.filter);
    }
  }

  async function refreshSweep() {
    const c = controls();
    const sweep = document.body.dataset.sweep;
    const base = '/api/sweep/' + encodeURIComponent(sweep);
    const status = await getJson(base + '/jobs');
    jobs = status.jobs;
    updateGroupChoices();
    updateJobs(c);
    const eta = byId('sweep-eta');
    const allEnded = jobs.length > 0 && jobs.every((j) => j.ended);
    if (eta) eta.textContent = allEnded ? 'every job ended'
      : status.eta_seconds === null ? '' : 'ETA ' + duration(status.eta_seconds);
    const shown = new Set(jobs.filter((j) => matchesFilter(j, c.filter)).map((j) => j.key));
    const labelOf = new Map(jobs.map((j) => [j.key, j.label + ' ' + j.key.slice(0, 6)]));
    const names = new Set();
    await Promise.all(metrics().map(async (metric) => {
      const q = seriesQuery(metric, c);
      q.set('group_by', c.groupBy);
      const answer = await getJson(base + '/series?' + q.toString());
      const series = answer.series
        .filter((s) => s.keys.some((k) => shown.has(k)))
        .map((s) => ({ name: c.groupBy === 'run' ? labelOf.get(s.keys[0]) || s.name : s.name,
          points: s.points, thinning: s.thinning }));
      series.forEach((s) => names.add(s.name));
      draw(metric, series, c);
    }));
    drawToggles(Array.from(names).sort());
    const updated = byId('updated');
    if (updated) updated.textContent = 'updated ' + new Date().toLocaleTimeString();
  }

  async function refreshRuns() {
    const c = controls();
    const keys = (document.body.dataset.keys || '').split(',').filter((k) => k);
    if (!keys.length) return;
    await Promise.all(metrics().map(async (metric) => {
      const series = await Promise.all(keys.map(async (key) => {
        const answer = await getJson('/api/run/' + key + '/series?' + seriesQuery(metric, c));
        return { name: key, points: answer.points, thinning: answer.thinning };
      }));
      draw(metric, series, c);
    }));
    drawToggles(keys);
  }

  function wirePicker() {
    const input = byId('runs');
    for (const box of document.querySelectorAll('input.pick')) {
      box.addEventListener('change', () => {
        const keys = input.value.split(',').filter((k) => k && k !== box.value);
        if (box.checked) keys.push(box.value);
        input.value = keys.join(',');
      });
    }
  }

  const refreshers = { sweeps: refreshSweeps, sweep: refreshSweep, run: refreshRuns, compare: refreshRuns };
  const refreshPage = refreshers[page];
  let pending = false;
  let again = false;

  async function refresh() {
    if (!refreshPage) return;
    if (pending) {
      again = true;
      return;
    }
    pending = true;
    try {
      await refreshPage();
      showError(null);
    } catch (error) {
      showError(error);
    }
    pending = false;
    if (again) {
      again = false;
      refresh();
    }
  }

  function poll() {
    refresh().finally(() => setTimeout(poll, POLL_MS));
  }

  if (page === 'compare') wirePicker();
  if (byId('controls')) {
    const toggles = document.createElement('div');
    toggles.id = 'series-toggles';
    toggles.className = 'toggles';
    byId('controls').after(toggles);
    byId('controls').addEventListener('submit', (e) => e.preventDefault());
    for (const id of ['smoothing', 'smoothing-window', 'xaxis', 'logscale', 'filter', 'group-by'])
      if (byId(id)) byId(id).addEventListener(id === 'filter' ? 'input' : 'change', refresh);
  }
  if (refreshPage) poll();
})();
