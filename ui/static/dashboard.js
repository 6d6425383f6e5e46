// loop-station dashboard: live sections, steering buttons, chart hover, ticking clocks.
// Plain browser JavaScript, served as a file (no build step, no inline script under the CSP).
// It never builds HTML from loop data: sections arrive rendered and escaped by the server.
(() => {
  'use strict';

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  // Clocks ---------------------------------------------------------------------------------

  const span = (ms) => {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
    return `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ''}`;
  };

  function tick() {
    const now = Date.now();
    for (const el of $$('time[data-ago]')) {
      const t = Date.parse(el.getAttribute('datetime'));
      if (Number.isFinite(t)) el.textContent = `${span(now - t)} ago`;
    }
    for (const el of $$('time[data-since]')) {
      const t = Date.parse(el.getAttribute('datetime'));
      if (Number.isFinite(t)) el.textContent = `for ${span(now - t)}`;
    }
  }

  // Chart ----------------------------------------------------------------------------------

  function enhanceChart() {
    const tip = $('#chart-tip');
    if (!tip) return;
    for (const svg of $$('svg.trend-chart')) enhanceSvg(svg, tip);
  }

  function enhanceSvg(svg, tip) {
    const metric = svg.getAttribute('data-metric') || 'value';
    for (const point of $$('circle.point', svg)) {
      if (point.hasAttribute('tabindex')) continue;
      point.setAttribute('tabindex', '0');
      const session = String(point.getAttribute('data-session')).padStart(3, '0');
      const value = point.getAttribute('data-value');
      const text = `session ${session} · ${point.getAttribute('data-decision')} · ${metric} ${value === '' ? 'not recorded' : value}`;
      point.setAttribute('aria-label', text);
      const show = () => {
        for (const p of $$('circle.point.hover', svg)) p.classList.remove('hover');
        point.classList.add('hover');
        tip.textContent = text;
      };
      point.addEventListener('pointerenter', show);
      point.addEventListener('focus', show);
      point.addEventListener('click', show);
    }
  }

  // Controls -------------------------------------------------------------------------------

  function reflectEnded() {
    const ended = Boolean($('[data-loop-ended]'));
    const set = $('#control-set');
    if (set) set.disabled = ended;
    for (const b of $$('#live-pending button')) b.disabled = ended;
    if (ended && $('#confirm')) $('#confirm').hidden = true;
  }

  function answer(text, ok) {
    const el = $('#answer');
    if (!el) return;
    el.textContent = text;
    el.className = `answer ${ok ? 'ok' : 'refused'}`;
  }

  async function send(action, label, fields) {
    answer(`${label}: sending…`, true);
    const url = `${location.pathname.replace(/\/$/, '')}/control/${encodeURIComponent(action)}`;
    let res;
    let body;
    try {
      res = await fetch(url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(fields),
      });
      body = await res.json();
    } catch (error) {
      answer(`${label}: not sent (${error && error.message ? error.message : error})`, false);
      return false;
    }
    if (body && body.accepted) answer(`${label}: accepted — ${body.message}`, true);
    else answer(`${label}: rejected — ${(body && (body.reason || body.error)) || `HTTP ${res.status}`}`, false);
    return Boolean(body && body.accepted);
  }

  let pending = null;

  function askConfirm(action, label, fields) {
    const box = $('#confirm');
    if (!box) return send(action, label, fields);
    pending = { action, label, fields };
    $('#confirm-text').textContent =
      `${label}? ${action === 'stop-now' ? 'The running agent is cancelled and the session closes now.' : action === 'deny' ? `Session ${fields.session} gets the deny answer.` : 'The loop stops after the current session.'}`;
    box.hidden = false;
    $('#confirm-yes').focus();
    return undefined;
  }

  const noteField = () => ($('#control-note') ? $('#control-note').value : '');

  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.id === 'confirm-yes' && pending) {
      const p = pending;
      pending = null;
      $('#confirm').hidden = true;
      void send(p.action, p.label, p.fields);
      return;
    }
    if (target.id === 'confirm-no') {
      pending = null;
      $('#confirm').hidden = true;
      answer('cancelled', true);
      return;
    }
    const button = target.closest('button[data-control]');
    if (!button || button.disabled) return;
    const action = button.getAttribute('data-control');
    const label = button.textContent.trim();
    const note = noteField();
    const fields = action === 'stop' || action === 'stop-now' ? { reason: note } : { note };
    if (button.hasAttribute('data-session')) fields.session = Number(button.getAttribute('data-session'));
    if (button.hasAttribute('data-confirm')) askConfirm(action, label, fields);
    else void send(action, label, fields);
  });

  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-control-form')) return;
    event.preventDefault();
    const action = form.getAttribute('data-control-form');
    const label = form.querySelector('button[type=submit]').textContent.trim();
    const fields = Object.fromEntries(new FormData(form).entries());
    if (action === 'extend' && noteField()) fields.note = noteField();
    if (await send(action, label, fields)) form.reset();
  });

  document.addEventListener('change', (event) => {
    const el = event.target;
    if (el instanceof HTMLSelectElement && el.hasAttribute('data-autosubmit') && el.form) el.form.requestSubmit();
  });

  // Live sections --------------------------------------------------------------------------

  function connect() {
    if (!document.body.hasAttribute('data-events') || !window.EventSource) return;
    const conn = $('#conn');
    const say = (text, bad) => {
      if (!conn) return;
      conn.textContent = text;
      conn.className = `conn${bad ? ' bad' : ''}`;
    };
    const events = new EventSource(`/events?page=${encodeURIComponent(location.pathname + location.search)}`);
    events.addEventListener('sections', (event) => {
      const sections = JSON.parse(event.data);
      for (const [id, html] of Object.entries(sections)) {
        const el = document.getElementById(`live-${id}`);
        if (el) el.innerHTML = html;
      }
      tick();
      enhanceChart();
      reflectEnded();
    });
    events.addEventListener('ok', () => say('live', false));
    events.addEventListener('problem', (event) => say(`problem: ${JSON.parse(event.data)}`, true));
    events.addEventListener('error', () => say('reconnecting…', true));
  }

  tick();
  enhanceChart();
  reflectEnded();
  setInterval(tick, 1000);
  connect();
})();
