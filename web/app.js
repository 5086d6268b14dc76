// refmatch advocate console: one page, three views (find help, referrals,
// coverage map), talking only to this server's /v1 API. No framework; Leaflet draws the map
// from refmatch's own outlines (no tiles). Data from the API is put into the
// page with textContent only, never as HTML.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const KEY_STORAGE = 'refmatch.apiKey';

  const state = {
    key: sessionStorage.getItem(KEY_STORAGE) || '',
    staff: false,
    view: 'match',
    vocabulary: null,
    lastHash: { match: '#match', coverage: '', referrals: '' },
    match: { body: null, selected: -1, markers: [], seq: 0 },
    coverage: { text: null, body: null, params: null, layer: null, seq: 0, pinned: null },
    referrals: { seq: 0, next: null, hash: null },
  };

  // ---------------------------------------------------------------- helpers

  /** Builds an element: el('li', {class: 'x', dataset: {id: 1}}, 'text', child). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name === 'dataset') Object.assign(node.dataset, value);
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else if (value === true) node.setAttribute(name, '');
      else node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const capitalise = (text) => (text ? text[0].toUpperCase() + text.slice(1) : text);
  const number = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US'));
  const kindLabel = (kind) => (kind ? kind.replace(/_/g, ' ') : '');

  function distanceText(km, approximate) {
    if (km === null || km === undefined) return null;
    const miles = km / 1.609344;
    const fmt = (x) => (x < 10 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US'));
    const text = `${fmt(km)} km (${fmt(miles)} mi)`;
    return approximate ? `about ${text}` : text;
  }

  let toastTimer = 0;
  function toast(text) {
    const node = $('toast');
    node.textContent = text;
    node.classList.add('show');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => node.classList.remove('show'), 1800);
  }

  /** Copies text, with a fallback where the Clipboard API is unavailable (plain http). */
  async function copy(text, what) {
    let done = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        done = true;
      } catch (_) {
        done = false;
      }
    }
    if (!done) {
      const area = el('textarea', { readonly: true, 'aria-hidden': 'true' });
      area.value = text;
      area.className = 'visually-hidden';
      document.body.append(area);
      area.select();
      try {
        done = document.execCommand('copy');
      } catch (_) {
        done = false;
      }
      area.remove();
    }
    toast(done ? `Copied ${what}` : `Could not copy; select the text and copy it by hand`);
    return done;
  }

  /** Runs `submit` on Enter in a checkbox or select (text fields and buttons submit natively). */
  function onEnter(event, submit) {
    if (event.key !== 'Enter' || event.isComposing) return;
    const target = event.target;
    if (target.tagName === 'SELECT' || (target.tagName === 'INPUT' && target.type === 'checkbox')) {
      event.preventDefault();
      submit();
    }
  }

  function debounce(fn, ms) {
    let timer = 0;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  // -------------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, message, problem) {
      super(message);
      this.status = status;
      this.problem = problem;
    }
  }

  /**
   * Plain words for an API failure (problem+json `detail` when there is one).
   * Close spellings of an unknown place (`suggestions`) are not part of the
   * words: showError offers them as buttons.
   */
  function plainWords(status, problem) {
    if (status === 401) return 'The key is not valid. Check it and sign in again; until then the console shows the public view.';
    if (status === 403) return 'Your key is not allowed to do this.';
    if (status === 408) return 'The server took too long to answer. Try again, or ask for fewer regions.';
    if (status === 429) return 'Too many requests from here just now. Wait a minute and try again.';
    if (problem && problem.detail) {
      let text = capitalise(problem.detail.trim());
      if (!/[.?!]$/.test(text)) text += '.';
      return text;
    }
    if (status >= 500) return 'Something went wrong on the server. Try again; if it keeps happening, tell the directory team.';
    return `The server refused the request (status ${status}).`;
  }

  /** A request to the API (GET unless `init.method`; `init.body` is sent as JSON); a failure throws an ApiError. */
  async function api(path, init = {}) {
    const headers = { Accept: 'application/json, application/geo+json, text/csv, text/plain, text/html' };
    if (state.key) headers.Authorization = `Bearer ${state.key}`;
    const options = { method: init.method || 'GET', headers, credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (init.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(init.body);
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (_) {
      throw new ApiError(0, 'The refmatch server cannot be reached. Check the connection and try again.', null);
    }
    if (!response.ok) {
      let problem = null;
      try {
        problem = await response.json();
      } catch (_) {
        problem = null;
      }
      if (response.status === 401) markKeyInvalid();
      throw new ApiError(response.status, plainWords(response.status, problem), problem);
    }
    return response;
  }

  const apiJson = async (path) => (await api(path)).json();
  /** Sends `body` as JSON with `method` and answers the JSON reply. */
  const apiSend = async (method, path, body) => (await api(path, { method, body })).json();

  /**
   * Shows an error above the form (none: hides it). An unknown place's close
   * spellings become "Did you mean" buttons when `onSuggestion` is given:
   * a click hands the name to it.
   */
  function showError(error, onSuggestion) {
    const box = $('error');
    box.textContent = '';
    if (!error) {
      box.hidden = true;
      return;
    }
    box.append(error instanceof ApiError ? error.message : `Something went wrong in the console: ${error.message || error}`);
    const suggestions = (error.problem && Array.isArray(error.problem.suggestions) ? error.problem.suggestions : [])
      .filter((name) => typeof name === 'string' && name)
      .slice(0, 5);
    if (suggestions.length && onSuggestion) {
      box.append(el('span', { class: 'did-you-mean' }, ' Did you mean: ',
        suggestions.map((name) => el('button', {
          type: 'button',
          class: 'suggestion',
          'aria-label': `Search for ${name}`,
          onclick: () => onSuggestion(name),
        }, name)), '?'));
    } else if (suggestions.length) {
      box.append(` Did you mean ${suggestions.join('; ')}?`);
    }
    box.hidden = false;
  }

  // ---------------------------------------------------------------- sign-in

  function setSignedIn(staff, text, cls) {
    state.staff = staff;
    // Staff only: the referrals tab and the warm-transfer switch.
    $('tab-referrals').hidden = !staff;
    $('warm-transfer-label').hidden = !staff;
    if (!staff) $('warm_transfer').checked = false;
    const status = $('signin-status');
    status.textContent = text;
    status.className = `signin-status ${cls || ''}`;
    $('signout-button').hidden = !state.key;
  }

  /** A 401: the key is forgotten (the console falls back to the public view) and the user is told. */
  function markKeyInvalid() {
    state.key = '';
    sessionStorage.removeItem(KEY_STORAGE);
    $('api-key').value = '';
    setSignedIn(false, 'The key is not valid: public view', 'bad');
  }

  async function checkKey() {
    if (!state.key) {
      setSignedIn(false, 'Public view', '');
      return true;
    }
    try {
      // A staff key may read referrals; a provider key (or a public-role
      // key) gets a 403 and the public view; an unknown key is a 401.
      await apiJson('/v1/referrals?view=mine&limit=1');
      setSignedIn(true, 'Signed in: staff view', 'staff');
      return true;
    } catch (error) {
      if (error.status === 403) {
        setSignedIn(false, 'Key accepted: public answers (not a staff key)', '');
        return true;
      }
      if (error.status !== 401) setSignedIn(false, 'Cannot check the key now', 'bad');
      showError(error);
      return false;
    }
  }

  function initSignIn() {
    $('api-key').value = state.key ? '••••••••' : '';
    $('signin').addEventListener('submit', async (event) => {
      event.preventDefault();
      const typed = $('api-key').value.trim();
      if (typed === '••••••••') return;
      state.key = typed;
      if (typed) sessionStorage.setItem(KEY_STORAGE, typed);
      else sessionStorage.removeItem(KEY_STORAGE);
      showError(null);
      if (await checkKey()) {
        $('api-key').value = typed ? '••••••••' : '';
        rerun();
      }
    });
    $('signout-button').addEventListener('click', () => {
      state.key = '';
      sessionStorage.removeItem(KEY_STORAGE);
      $('api-key').value = '';
      setSignedIn(false, 'Public view', '');
      showError(null);
      rerun();
    });
  }

  // -------------------------------------------------------------------- map

  let map = null;
  const layers = {};

  function initMap() {
    map = L.map('map', {
      center: [38.5, -97],
      zoom: 4,
      minZoom: 2,
      maxZoom: 13,
      zoomSnap: 0.25,
      worldCopyJump: false,
      preferCanvas: false,
      keyboard: true,
    });
    map.attributionControl.addAttribution('Boundaries: US Census Bureau, Natural Earth · Places: GeoNames (CC BY 4.0)');
    L.control.scale({ imperial: true, metric: true, position: 'topright' }).addTo(map);
    for (const [name, z] of [['basemap', 200], ['counties', 210], ['area', 380], ['choropleth', 390]]) {
      map.createPane(name).style.zIndex = String(z);
    }
    layers.countries = L.geoJSON(null, {
      pane: 'basemap', interactive: false,
      style: { color: '#ffffff', weight: 0.8, fillColor: '#eeebe3', fillOpacity: 1 },
    }).addTo(map);
    layers.states = L.geoJSON(null, {
      pane: 'basemap', interactive: false,
      style: { color: '#7d8791', weight: 0.9, fill: false },
    }).addTo(map);
    layers.counties = L.geoJSON(null, {
      pane: 'counties', interactive: false,
      style: { color: '#a9b1b9', weight: 0.5, fill: false },
    }).addTo(map);
    layers.match = L.layerGroup().addTo(map);
    layers.area = L.layerGroup().addTo(map);
    layers.coverage = L.layerGroup();
    layers.sites = L.layerGroup();

    map.on('click', (event) => {
      if (state.view !== 'match') return;
      const at = event.latlng.wrap();
      $('near').value = `${at.lat.toFixed(5)}, ${at.lng.toFixed(5)}`;
      submitMatch(false);
    });
    map.on('moveend', debounce(updateCounties, 300));
  }

  async function loadBasemap() {
    const [countries, states] = await Promise.all([
      apiJson('/v1/outlines?by=country&tolerance=0.05'),
      apiJson('/v1/outlines?by=state&tolerance=0.02'),
    ]);
    layers.countries.addData(countries);
    layers.states.addData(states);
  }

  // County lines in the match view once zoomed in, for the area in view.
  let countyBox = null;
  let countySeq = 0;
  async function updateCounties() {
    if (!map) return;
    if (map.getZoom() < 6 || state.view !== 'match') {
      layers.counties.clearLayers();
      countyBox = null;
      return;
    }
    const view = map.getBounds();
    if (countyBox && countyBox.contains(view)) return;
    const box = view.pad(0.5);
    const west = Math.max(-180, box.getWest());
    const east = Math.min(180, box.getEast());
    const south = Math.max(-90, box.getSouth());
    const north = Math.min(90, box.getNorth());
    const seq = ++countySeq;
    try {
      const body = await apiJson(`/v1/outlines?by=county&tolerance=0.005&bbox=${[west, south, east, north].map((x) => x.toFixed(3)).join(',')}`);
      if (seq !== countySeq) return;
      layers.counties.clearLayers();
      layers.counties.addData(body);
      countyBox = L.latLngBounds([south, west], [north, east]);
    } catch (error) {
      showError(error);
    }
  }

  // ------------------------------------------------------------ vocabulary

  async function loadVocabulary() {
    const vocabulary = await apiJson('/v1/vocabulary');
    state.vocabulary = vocabulary;
    const issues = $('issues');
    issues.textContent = '';
    const covIssue = $('cov-issue');
    for (const issue of vocabulary.issues) {
      const id = `issue-${issue.code}`;
      issues.append(el('label', { class: issue.parent ? 'check child' : 'check', for: id },
        el('input', { type: 'checkbox', id, name: 'issue', value: issue.code }), issue.label));
      covIssue.append(el('option', { value: issue.code }, issue.parent ? `  ${issue.label}` : issue.label));
    }
    const languages = [...vocabulary.languages].sort((a, b) => a.name.localeCompare(b.name));
    // The languages callers most often need first, then every other.
    const common = ['en', 'es', 'zh', 'vi', 'tl', 'ko', 'ar', 'ru', 'uk', 'ht', 'pt', 'fr', 'hi', 'fa'];
    for (const select of [$('language'), $('cov-language')]) {
      const top = el('optgroup', { label: 'Common' });
      const rest = el('optgroup', { label: 'All languages' });
      for (const code of common) {
        const language = languages.find((l) => l.code === code);
        if (language) top.append(el('option', { value: code }, language.name));
      }
      for (const language of languages) rest.append(el('option', { value: language.code }, `${language.name} (${language.code})`));
      select.append(top, rest);
    }
    for (const population of vocabulary.populations) {
      $('population').append(el('option', { value: population.code }, population.label));
    }
  }

  function issueLabel(code) {
    const issue = state.vocabulary && state.vocabulary.issues.find((i) => i.code === code);
    return issue ? issue.label.toLowerCase() : kindLabel(code);
  }

  function languageName(code) {
    const language = state.vocabulary && state.vocabulary.languages.find((l) => l.code === code);
    return language ? language.name : code;
  }

  // ------------------------------------------------------------------ hours

  const DAYS = ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'];
  const WEEKDAYS = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

  /** Whether `hours` (opening_hours subset, as the API writes it) are open now in `timezone`; null when unknown. */
  function openNow(hours, timezone, now = new Date()) {
    if (!hours) return null;
    if (hours.trim() === '24/7') return true;
    if (!timezone) return null;
    let day;
    let minute;
    try {
      const parts = new Intl.DateTimeFormat('en-US', {
        timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
      }).formatToParts(now);
      const part = (type) => parts.find((p) => p.type === type).value;
      day = WEEKDAYS[part('weekday')];
      minute = (Number(part('hour')) % 24) * 60 + Number(part('minute'));
    } catch (_) {
      return null;
    }
    const clock = (text) => {
      const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
      return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
    };
    const yesterday = (day + 6) % 7;
    for (const rule of hours.split(';').map((r) => r.trim()).filter(Boolean)) {
      const space = rule.indexOf(' ');
      if (space < 0) return null;
      const daysText = rule.slice(0, space);
      const times = rule.slice(space + 1).trim();
      if (times === 'off') continue;
      const days = [];
      for (const part of daysText.split(',')) {
        const [first, last] = part.split('-').map((d) => DAYS.indexOf(d));
        if (first < 0 || (last !== undefined && last < 0)) return null;
        let d = first;
        for (;;) {
          days.push(d);
          if (last === undefined || d === last) break;
          d = (d + 1) % 7;
        }
      }
      for (const span of times.split(',')) {
        const [opensText, closesText] = span.split('-');
        const opens = clock(opensText || '');
        let closes = clock(closesText || '');
        if (Number.isNaN(opens) || Number.isNaN(closes)) return null;
        if (closes <= opens) closes += 1440;
        for (const d of days) {
          if (d === day && opens <= minute && minute < closes) return true;
          if (d === yesterday && minute + 1440 < closes) return true;
        }
      }
    }
    return false;
  }

  function hoursText(p) {
    if (!p.hours) return p.hours_note || 'Hours not known';
    const zone = p.timezone ? ` (${p.timezone.replace(/_/g, ' ')} time)` : '';
    const text = p.hours === '24/7' ? '24/7' : `${p.hours}${zone}`;
    return p.hours_note ? `${text}; ${p.hours_note}` : text;
  }

  // ------------------------------------------------------------ match view

  const PHONE_KIND = { voice: '', toll_free: 'toll-free', text: 'text line', tty: 'TTY' };

  function matchParamsFromForm() {
    const params = new URLSearchParams();
    const near = $('near').value.trim();
    if (near) params.set('near', near);
    for (const box of document.querySelectorAll('#issues input:checked')) params.append('issue', box.value);
    if ($('language').value) params.set('language', $('language').value);
    if ($('population').value) params.set('population', $('population').value);
    if ($('open_24h').checked) params.set('open_24h', 'true');
    if ($('open_now').checked) params.set('open_now', 'true');
    if ($('exclude_le').checked) params.set('exclude', 'law_enforcement');
    if (state.staff && $('warm_transfer').checked) params.set('warm_transfer', 'true');
    if ($('limit').value !== '10') params.set('limit', $('limit').value);
    return params;
  }

  function matchFormFromParams(params) {
    $('near').value = params.get('near') || (params.get('lat') && params.get('lon') ? `${params.get('lat')}, ${params.get('lon')}` : '');
    const issues = new Set(params.getAll('issue').flatMap((v) => v.split(',')).map((v) => v.trim()));
    for (const box of document.querySelectorAll('#issues input')) box.checked = issues.has(box.value);
    setSelect($('language'), params.get('language') || '');
    setSelect($('population'), params.get('population') || '');
    $('open_24h').checked = params.get('open_24h') === 'true';
    $('open_now').checked = params.get('open_now') === 'true';
    $('exclude_le').checked = (params.getAll('exclude').join(',') || '').includes('law_enforcement');
    $('warm_transfer').checked = params.get('warm_transfer') === 'true';
    setSelect($('limit'), params.get('limit') || '10');
  }

  function setSelect(select, value) {
    if (value && ![...select.options].some((o) => o.value === value)) {
      select.append(el('option', { value }, value));
    }
    select.value = value;
  }

  /** Submits the match form: puts the query in the URL and runs it. */
  function submitMatch(focusResults) {
    const params = matchParamsFromForm();
    if (!params.get('near')) {
      showError(null);
      clearMatch();
      $('match-status').textContent = 'Type where the caller is, or click the map.';
      $('near').focus();
      return;
    }
    const hash = `#match?${params}`;
    if (location.hash !== hash) history.pushState(null, '', hash);
    state.lastHash.match = hash;
    state.match.hash = hash;
    runMatch(params, focusResults);
  }

  /**
   * Forgets the last caller: no results listed, no markers, no service
   * area, nothing to copy. Runs before every search and after a failed one,
   * so a new caller never sees (or is read) the previous caller's answer.
   */
  function clearMatch() {
    state.match.body = null;
    state.match.selected = -1;
    state.match.markers = [];
    state.match.bounds = null;
    $('results').textContent = '';
    if (layers.match) layers.match.clearLayers();
    if (layers.area) layers.area.clearLayers();
    $('copy-top').disabled = true;
  }

  /** Fills the place with a suggested spelling and searches again. */
  function searchSuggestion(name) {
    $('near').value = name;
    submitMatch(true);
  }

  async function runMatch(params, focusResults) {
    const seq = ++state.match.seq;
    state.match.params = params;
    showError(null);
    clearMatch();
    $('match-status').textContent = 'Searching…';
    $('search-button').disabled = true;
    try {
      const body = await apiJson(`/v1/match?${params}`);
      if (seq !== state.match.seq) return;
      state.match.body = body;
      renderMatch(body);
      if (focusResults && body.features.length) selectResult(0, true);
    } catch (error) {
      if (seq !== state.match.seq) return;
      clearMatch();
      $('match-status').textContent = 'No results.';
      showError(error, searchSuggestion);
    } finally {
      if (seq === state.match.seq) $('search-button').disabled = false;
    }
  }

  function summary(body) {
    const q = body.query;
    const f = q.filters;
    const needs = [];
    // The issues asked for (the answer lists them with their sub-issues).
    const asked = state.match.params ? state.match.params.getAll('issue').flatMap((v) => v.split(',')).filter(Boolean) : f.issues;
    if (asked.length) needs.push(asked.map(issueLabel).join(' or '));
    if (f.languages.length) needs.push(`speaks ${f.languages.map(languageName).join(' or ')}`);
    if (f.open_24h) needs.push('24-hour');
    if (f.open_now) needs.push('open now');
    if (f.exclude.length) needs.push(`no ${f.exclude.map(kindLabel).join(', ')}`);
    if (f.populations.length) needs.push(`serves ${f.populations.map(kindLabel).join(', ')}`);
    if (state.match.params && state.match.params.get('warm_transfer') === 'true') needs.push('warm transfer now');
    const n = body.features.length;
    const relaxed = body.features.filter((x) => x.properties.relaxed.length).length;
    let text = `${n} result${n === 1 ? '' : 's'} near ${q.name}`;
    if (needs.length) text += ` (${needs.join('; ')})`;
    if (relaxed) text += `; the last ${relaxed} relax a filter`;
    return `${text}.`;
  }

  function renderMatch(body) {
    const list = $('results');
    list.textContent = '';
    layers.match.clearLayers();
    layers.area.clearLayers();
    state.match.markers = [];
    state.match.selected = -1;
    $('match-status').textContent = summary(body);
    $('copy-top').disabled = body.features.length === 0;

    const q = body.query;
    const caller = L.circleMarker([q.lat, q.lon], {
      radius: 8, color: '#ffffff', weight: 3, fillColor: '#c2410c', fillOpacity: 1, className: 'caller-marker',
    }).bindTooltip(`Caller: ${q.name}`, { permanent: false, direction: 'top' });
    layers.match.addLayer(caller);

    const bounds = L.latLngBounds([[q.lat, q.lon]]);
    body.features.forEach((feature, i) => {
      const item = resultItem(feature, i, q.country);
      list.append(item);
      const g = feature.geometry;
      if (!g) {
        state.match.markers.push(null);
        return;
      }
      const p = feature.properties;
      const [lon, lat] = g.coordinates;
      const marker = L.marker([lat, lon], {
        icon: markerIcon(p, false),
        title: `${p.rank}. ${p.name}`,
        alt: `${p.rank}. ${p.name}`,
        riseOnHover: true,
        keyboard: true,
      });
      marker.on('click', () => selectResult(i, false));
      layers.match.addLayer(marker);
      state.match.markers.push(marker);
      // Frame the caller and the providers near them; far-off national
      // services keep their markers but do not zoom the map out.
      if (p.distance_km !== null && p.distance_km <= 600) bounds.extend([lat, lon]);
    });
    state.match.bounds = bounds;
    fitMatch();
  }

  /** Frames the caller and the providers near them. */
  function fitMatch() {
    const bounds = state.match.bounds;
    if (!bounds) return;
    if (bounds.getNorthEast().equals(bounds.getSouthWest())) map.setView(bounds.getCenter(), 8);
    else map.fitBounds(bounds.pad(0.15), { maxZoom: 10 });
  }

  function markerIcon(p, selected) {
    const cls = `map-marker ${p.tier}${selected ? ' selected' : ''}`;
    const size = selected ? 36 : 30;
    const inner = document.createElement('span');
    inner.append(el('b', {}, String(p.rank)));
    return L.divIcon({
      className: cls,
      html: inner,
      iconSize: [size, size],
      iconAnchor: [size / 2 - 2, size],
      tooltipAnchor: [0, -size],
    });
  }

  /**
   * The link that calls (or, for a text line, texts) a number from a device
   * that can: `tel:` or `sms:` and the number's dial string ("+48226289999",
   * "18883737888", "233733"); null when there is nothing to dial.
   */
  function dialHref(phone) {
    const dial = String(phone.dial || '').replace(/[^0-9+]/g, '');
    if (!/^\+?[0-9]{2,15}$/.test(dial)) return null;
    return `${phone.kind === 'text' ? 'sms' : 'tel'}:${dial}`;
  }

  function phoneItem(phone, callerCountry) {
    const kind = PHONE_KIND[phone.kind] ?? kindLabel(phone.kind);
    const note = phone.note && phone.note !== 'direct line' ? phone.note : '';
    const country = phone.country && phone.country !== callerCountry && !note ? `for ${phone.country}` : '';
    const detail = [kind, note, country].filter(Boolean).join(', ');
    const direct = phone.confidential ? ', a direct line' : '';
    const href = dialHref(phone);
    return el('li', {},
      href
        ? el('a', {
          class: 'phone-link',
          href,
          'aria-label': `${phone.kind === 'text' ? 'Text' : 'Call'} ${phone.number}${direct}`,
          onclick: (event) => event.stopPropagation(),
        }, phone.number)
        : el('span', { class: 'phone-number' }, phone.number),
      el('button', {
        type: 'button', class: 'phone-copy', 'aria-label': `Copy ${phone.number}${direct}`,
        onclick: (event) => {
          event.stopPropagation();
          copy(phone.number, phone.number);
        },
      }, 'Copy'),
      detail ? el('span', { class: 'phone-kind' }, detail) : null,
      phone.confidential ? el('span', { class: 'direct', title: 'For staff only: never give it to the public' }, 'direct line') : null);
  }

  // How each tier reads to an advocate (see the ranking model in the README).
  const TIER_LABEL = {
    local: 'in person',
    nearby: 'in person · nearby',
    helpline: 'by phone',
    remote: 'remote office',
    farther: 'farther away',
  };
  const TIER_HELP = {
    local: 'Within reach and serves the caller\'s area',
    nearby: 'Within reach, but does not list the caller\'s area',
    helpline: 'A line or online service covering the caller\'s area',
    remote: 'Serves the caller\'s area from an office beyond in-person reach',
    farther: 'Beyond in-person reach and does not list the caller\'s area',
  };

  function resultItem(feature, index, callerCountry) {
    const p = feature.properties;
    const open = openNow(p.hours, p.timezone);
    const distance = distanceText(p.distance_km, p.location_approximate);
    const where = p.address ? [p.address.city, p.address.region, p.address.country].filter(Boolean).join(', ') : '';
    const badges = [];
    badges.push(el('li', { class: 'badge', title: TIER_HELP[p.tier] || '' }, TIER_LABEL[p.tier] || `${p.tier}`));
    if (p.national_line) badges.push(el('li', { class: 'badge' }, 'national line'));
    if (open === true) badges.push(el('li', { class: 'badge open' }, p.hours === '24/7' ? 'open 24/7' : 'open now'));
    else if (open === false) badges.push(el('li', { class: 'badge closed' }, 'closed now'));
    if (p.relaxed.length) badges.push(el('li', { class: 'badge relaxed' }, `relaxed: ${p.relaxed.map(kindLabel).join(', ')}`));
    if (p.location_approximate) badges.push(el('li', { class: 'badge approx', title: 'A confidential location is shown as the centre of its area' }, 'approximate location'));
    if (p.visibility === 'confidential') badges.push(el('li', { class: 'badge conf' }, 'confidential record'));
    if (p.law_enforcement) badges.push(el('li', { class: 'badge' }, 'law enforcement'));
    if (p.stale) badges.push(el('li', { class: 'badge stale', title: 'Not verified recently: check the details before referring' }, p.verified_at ? `not verified since ${p.verified_at}` : 'never verified'));

    const staff = [];
    if (p.visibility !== undefined) {
      if (p.contact_name) staff.push(el('div', {}, el('strong', {}, 'Contact: '), p.contact_name));
      if (p.email) staff.push(el('div', {}, el('strong', {}, 'E-mail: '), el('a', { href: `mailto:${p.email}` }, p.email)));
      if (p.address && p.address.street) staff.push(el('div', {}, el('strong', {}, 'Street: '), `${p.address.street}${p.address.postal_code ? `, ${p.address.postal_code}` : ''}`));
      if (p.location_confidential) staff.push(el('div', {}, 'Location is confidential (a shelter): do not give the address out.'));
      staff.push(el('div', {}, el('strong', {}, 'Visibility: '), p.visibility));
    }

    const item = el('li', {
      class: `result${p.relaxed.length ? ' is-relaxed' : ''}`,
      tabindex: '-1',
      dataset: { id: feature.id, index: String(index) },
      'aria-current': 'false',
      onclick: () => selectResult(index, false),
    },
    el('div', { class: 'result-head' },
      el('span', { class: `rank ${p.tier}`, 'aria-hidden': 'true' }, String(p.rank)),
      el('div', {},
        el('h3', {}, p.name),
        el('p', { class: 'meta' }, [kindLabel(p.kind), p.organization, where, distance].filter(Boolean).join(' · '))),
      el('button', {
        type: 'button',
        class: 'copy-referral',
        'aria-label': `Copy referral: ${p.name}`,
        onclick: (event) => {
          event.stopPropagation();
          copy(referralText([feature]), 'the referral');
        },
      }, 'Copy referral')),
    el('ul', { class: 'badges', 'aria-label': 'Status' }, badges),
    p.phones.length ? el('ul', { class: 'phones', 'aria-label': 'Phones (call, text or copy)' }, p.phones.map((phone) => phoneItem(phone, callerCountry))) : el('p', { class: 'meta' }, 'No phone the caller can dial from here.'),
    el('dl', { class: 'details' },
      el('dt', {}, 'Hours'), el('dd', {}, hoursText(p)),
      p.languages.length ? [el('dt', {}, 'Speaks'), el('dd', {}, p.languages.map(languageName).join(', '))] : null,
      p.website ? [el('dt', {}, 'Web'), el('dd', {}, el('a', { href: p.website, target: '_blank', rel: 'noopener noreferrer' }, p.website.replace(/^https?:\/\//, '')))] : null),
    p.reasons.length ? el('ul', { class: 'reasons', 'aria-label': 'Why this result' }, p.reasons.map((r) => el('li', {}, r))) : null,
    staff.length ? el('div', { class: 'staff' }, el('div', { class: 'staff-title' }, 'Staff only'), staff) : null,
    state.staff ? staffTools(feature) : null,
    el('p', { class: 'area-note', id: `area-${index}` }));
    return item;
  }

  /** Plain text an advocate can read out or text to a caller. Direct lines, streets, e-mails and contact names stay out. */
  function referralText(features) {
    const body = state.match.body;
    const lines = [];
    if (body && features.length > 1) lines.push(`Help near ${body.query.name}:`);
    features.forEach((feature, i) => {
      const p = feature.properties;
      if (lines.length) lines.push('');
      lines.push(features.length > 1 ? `${i + 1}. ${p.name}` : p.name);
      const phones = p.phones.filter((ph) => !ph.confidential);
      for (const phone of phones) {
        const kind = phone.kind === 'text' ? 'Text' : phone.kind === 'tty' ? 'TTY' : 'Call';
        lines.push(`${kind}: ${phone.number}${phone.note ? ` (${phone.note})` : ''}`);
      }
      if (p.hours) lines.push(`Hours: ${p.hours === '24/7' ? '24 hours, every day' : hoursText(p)}`);
      const where = p.address ? [p.address.city, p.address.region].filter(Boolean).join(', ') : '';
      const distance = distanceText(p.distance_km, p.location_approximate);
      if (where || distance) lines.push([where, distance ? `${distance} away` : ''].filter(Boolean).join(', '));
      if (p.languages.length > 1 || (p.languages.length === 1 && p.languages[0] !== 'en')) {
        lines.push(`Languages: ${p.languages.map(languageName).join(', ')}`);
      }
      if (p.website) lines.push(p.website);
    });
    return lines.join('\n');
  }

  function selectResult(index, focus) {
    const body = state.match.body;
    if (!body || index < 0 || index >= body.features.length) return;
    const items = $('results').querySelectorAll('.result');
    const previous = state.match.selected;
    if (previous >= 0 && items[previous]) {
      items[previous].setAttribute('aria-current', 'false');
      const old = state.match.markers[previous];
      if (old) old.setIcon(markerIcon(body.features[previous].properties, false));
    }
    state.match.selected = index;
    const item = items[index];
    item.setAttribute('aria-current', 'true');
    if (focus) item.focus({ preventScroll: true });
    item.scrollIntoView({ block: 'nearest' });
    const marker = state.match.markers[index];
    if (marker) {
      marker.setIcon(markerIcon(body.features[index].properties, true));
      marker.setZIndexOffset(1000);
      if (!map.getBounds().pad(-0.1).contains(marker.getLatLng())) map.panTo(marker.getLatLng());
    }
    drawArea(body.features[index], index);
  }

  // The selected provider's service area: staff see it from the stored
  // record; the public answer carries no area, so the public sees the
  // radius its reasons state, if any.
  let areaSeq = 0;
  async function drawArea(feature, index) {
    const seq = ++areaSeq;
    layers.area.clearLayers();
    const note = $(`area-${index}`);
    const style = { pane: 'area', color: '#d4a017', weight: 2, fillColor: '#ffd166', fillOpacity: 0.18, interactive: false };
    const p = feature.properties;
    const at = feature.geometry ? L.latLng(feature.geometry.coordinates[1], feature.geometry.coordinates[0]) : null;
    if (!state.staff) {
      const radius = p.reasons.map((r) => /serves within ([\d.]+) km of its office/.exec(r)).find(Boolean);
      if (radius && at) {
        layers.area.addLayer(L.circle(at, { ...style, radius: Number(radius[1]) * 1000 }));
        if (note) note.textContent = `Service area drawn: within ${radius[1]} km${p.location_approximate ? ' of its approximate location' : ''}.`;
      } else if (note) {
        note.textContent = 'Service area: see the reasons above (staff see it drawn on the map).';
      }
      return;
    }
    let record;
    try {
      record = await apiJson(`/v1/providers/${encodeURIComponent(feature.id)}?format=record`);
    } catch (error) {
      if (seq === areaSeq && note) note.textContent = `Service area not available: ${error.message}`;
      return;
    }
    if (seq !== areaSeq) return;
    const parts = [];
    const outlines = { state: [], county: [], country: [] };
    const center = record.location ? L.latLng(record.location.lat, record.location.lon) : at;
    for (const area of record.service_area || []) {
      switch (area.type) {
        case 'radius':
          if (center) layers.area.addLayer(L.circle(center, { ...style, radius: area.radius_km * 1000 }));
          parts.push(`within ${area.radius_km} km`);
          break;
        case 'states': outlines.state.push(...area.codes); parts.push(area.codes.join(', ')); break;
        case 'counties': outlines.county.push(...area.fips); parts.push(`${area.fips.length} count${area.fips.length === 1 ? 'y' : 'ies'}`); break;
        case 'countries': outlines.country.push(...area.codes); parts.push(area.codes.join(', ')); break;
        case 'nationwide': outlines.country.push(area.country); parts.push(`all of ${area.country}`); break;
        case 'zips': parts.push(`ZIP codes ${area.zips.join(', ')}`); break;
        case 'worldwide': parts.push('worldwide'); break;
        case 'polygon':
          layers.area.addLayer(L.geoJSON({ type: 'MultiPolygon', coordinates: area.coordinates }, { style, pane: 'area', interactive: false }));
          parts.push('its own area (drawn)');
          break;
        default: parts.push(area.type);
      }
    }
    if (note) note.textContent = parts.length ? `Service area: ${parts.join('; ')}.` : 'No service area recorded.';
    for (const [by, ids] of Object.entries(outlines)) {
      if (!ids.length) continue;
      try {
        const body = await apiJson(`/v1/outlines?by=${by}&tolerance=0.01&id=${ids.map(encodeURIComponent).join(',')}`);
        if (seq !== areaSeq) return;
        layers.area.addLayer(L.geoJSON(body, { style, pane: 'area', interactive: false }));
      } catch (error) {
        showError(error);
      }
    }
  }

  function moveSelection(step) {
    const body = state.match.body;
    if (!body || !body.features.length) return;
    const next = state.match.selected < 0 ? 0 : Math.min(body.features.length - 1, Math.max(0, state.match.selected + step));
    selectResult(next, true);
  }

  function initMatch() {
    $('match-form').addEventListener('submit', (event) => {
      event.preventDefault();
      submitMatch(true);
    });
    // Enter searches from any field of the form: text fields submit by
    // themselves (after a suggestion is picked); checkboxes and selects here.
    $('match-form').addEventListener('keydown', (event) => onEnter(event, () => submitMatch(true)));
    $('copy-top').addEventListener('click', () => {
      const body = state.match.body;
      if (body) copy(referralText(body.features.slice(0, 3)), 'the top 3 as a referral');
    });
    $('results').addEventListener('keydown', (event) => {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        moveSelection(event.key === 'ArrowDown' ? 1 : -1);
      } else if (event.key === 'Home' || event.key === 'End') {
        event.preventDefault();
        const body = state.match.body;
        if (body && body.features.length) selectResult(event.key === 'Home' ? 0 : body.features.length - 1, true);
      } else if ((event.key === 'c' || event.key === 'C') && !event.ctrlKey && !event.metaKey && !event.altKey) {
        const body = state.match.body;
        if (body && state.match.selected >= 0) copy(referralText([body.features[state.match.selected]]), 'the referral');
      } else if (event.key === 'Escape') {
        $('near').focus();
      }
    });
    // Arrow keys outside a text field or list also walk the results.
    document.addEventListener('keydown', (event) => {
      if (state.view !== 'match') return;
      const target = event.target;
      const typing = target.closest && target.closest('input, select, textarea, .leaflet-container, #results');
      if (event.key === '/' && !typing) {
        event.preventDefault();
        $('near').focus();
        $('near').select();
      } else if ((event.key === 'ArrowDown' || event.key === 'ArrowUp') && !typing) {
        event.preventDefault();
        moveSelection(event.key === 'ArrowDown' ? 1 : -1);
      }
    });
    // Place suggestions from the geocoder while typing.
    let suggestSeq = 0;
    $('near').addEventListener('input', debounce(async () => {
      const q = $('near').value.trim();
      if (q.length < 3 || /^-?\d+(\.\d+)?\s*,/.test(q)) return;
      const seq = ++suggestSeq;
      const names = [];
      try {
        const found = await apiJson(`/v1/geocode?q=${encodeURIComponent(q)}`);
        names.push(found.name, ...found.alternatives.map((a) => a.name));
      } catch (error) {
        if (error.problem && error.problem.suggestions) names.push(...error.problem.suggestions);
      }
      if (seq !== suggestSeq) return;
      const list = $('near-suggestions');
      list.textContent = '';
      for (const name of [...new Set(names)].slice(0, 8)) {
        if (name.toLowerCase() !== q.toLowerCase()) list.append(el('option', { value: name }));
      }
    }, 250));
  }

  // ------------------------------------------------- staff: refer, slip, capacity

  const METHOD_LABEL = {
    warm_transfer: 'warm transfer',
    information_given: 'information given',
    provider_callback: 'provider will call back',
  };
  const STATUS_LABEL = {
    sent: 'sent',
    accepted: 'accepted',
    declined: 'declined',
    completed: 'completed',
    no_contact: 'no contact',
    cancelled: 'cancelled',
  };
  // The lifecycle (the API answers 409 to anything else).
  const NEXT_STATUS = {
    sent: ['accepted', 'declined', 'cancelled'],
    accepted: ['completed', 'no_contact', 'cancelled'],
  };
  const DECLINE_REASONS = {
    no_capacity: 'no capacity',
    not_eligible: 'not eligible',
    unreachable: 'unreachable',
    caller_declined: 'caller declined',
    out_of_area: 'out of area',
    other: 'other',
  };
  const LANGUAGE_FIT = {
    speaks: 'speaks the caller\'s language',
    interpreter: 'via an interpreter',
    not_asked: 'no language asked',
    unknown: 'languages not known',
    does_not: 'does not speak the caller\'s language',
  };

  /** The local date `days` from today, YYYY-MM-DD. */
  function localDate(days = 0) {
    const d = new Date();
    d.setDate(d.getDate() + days);
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  }

  function capacityText(capacity) {
    if (!capacity) return 'Capacity not known';
    const of = capacity.maximum === null || capacity.maximum === undefined ? '' : ` of ${number(capacity.maximum)}`;
    const when = capacity.updated_at ? `, updated ${capacity.updated_at.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC')}` : '';
    return `${number(capacity.available)}${of} ${capacity.unit || ''} free${when}${capacity.stale ? ' (stale: counts as unknown)' : ''}`;
  }

  /** The warm-transfer checklist of a staff result: what it meets. */
  function warmTransferList(w) {
    const mark = (ok) => (ok ? '✓' : '✗');
    const items = [
      el('li', { class: w.open ? 'met' : 'unmet' }, `${mark(w.open)} open now`),
      el('li', { class: w.accepting === 'yes' ? 'met' : w.accepting === 'unknown' ? 'unknown' : 'unmet' },
        `${w.accepting === 'yes' ? '✓' : w.accepting === 'unknown' ? '?' : '✗'} accepting: ${w.accepting}`),
      el('li', { class: w.direct_line ? 'met' : 'unmet' }, `${mark(Boolean(w.direct_line))} direct line: ${w.direct_line || 'none'}`),
      el('li', { class: ['speaks', 'interpreter', 'not_asked'].includes(w.language) ? 'met' : 'unmet' },
        `${mark(['speaks', 'interpreter', 'not_asked'].includes(w.language))} ${LANGUAGE_FIT[w.language] || w.language}`),
    ];
    return el('div', { class: `warm-transfer${w.ready ? ' ready' : ''}` },
      el('strong', {}, w.ready ? 'Ready for a warm transfer now' : 'Not ready for a warm transfer'),
      el('ul', { 'aria-label': 'Warm transfer checklist' }, items));
  }

  /** Staff tools of a result: capacity, acceptance, warm transfer, and the Refer, Slip and Capacity actions. */
  function staffTools(feature) {
    const p = feature.properties;
    const stop = (fn) => (event) => {
      event.stopPropagation();
      fn();
    };
    const parts = [];
    if (p.warm_transfer) parts.push(warmTransferList(p.warm_transfer));
    if (p.capacity !== undefined) parts.push(el('p', { class: 'capacity' }, el('strong', {}, 'Capacity: '), capacityText(p.capacity)));
    const stats = p.referral_stats;
    if (stats) {
      const rate = stats.acceptance_rate === null || stats.acceptance_rate === undefined ? 'no decided referrals' : `${Math.round(stats.acceptance_rate * 100)}% accepted`;
      parts.push(el('p', { class: 'referral-stats' }, el('strong', {}, 'Referrals: '),
        `${stats.sent} sent in ${stats.window_days} days, ${stats.accepted} accepted, ${stats.declined} declined (${rate})`));
    }
    parts.push(el('div', { class: 'result-actions' },
      el('button', { type: 'button', class: 'refer-button primary', 'aria-label': `Refer the caller to ${p.name}`, onclick: stop(() => openRefer(feature)) }, 'Refer'),
      el('button', { type: 'button', class: 'slip-button', 'aria-label': `Slip for the caller: ${p.name}`, onclick: stop(() => openSlip(`/v1/providers/${encodeURIComponent(feature.id)}/slip`, p.name)) }, 'Slip'),
      el('button', { type: 'button', class: 'capacity-button', 'aria-label': `Edit the capacity of ${p.name}`, onclick: stop(() => openCapacity(feature)) }, 'Capacity')));
    return el('div', { class: 'staff-tools' }, parts);
  }

  function dialogError(id, error) {
    const box = $(id);
    box.textContent = error ? (error instanceof ApiError ? error.message : `Something went wrong in the console: ${error.message || error}`) : '';
    box.hidden = !error;
  }

  // Refer: POST /v1/referrals with the caller's place and the current need.
  let referring = null;
  function openRefer(feature) {
    referring = feature;
    const p = feature.properties;
    $('refer-provider').textContent = `${p.name}${p.organization ? ` · ${p.organization}` : ''}`;
    $('refer-method').value = state.match.params && state.match.params.get('warm_transfer') === 'true' ? 'warm_transfer' : 'information_given';
    $('refer-consent').checked = false;
    $('refer-due').value = localDate(2);
    $('refer-note').value = '';
    dialogError('refer-error', null);
    $('refer-dialog').showModal();
    $('refer-method').focus();
  }

  async function submitRefer() {
    const feature = referring;
    const body = state.match.body;
    const params = state.match.params;
    if (!feature || !body || !params) return;
    const list = (name) => params.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
    const referral = {
      provider_id: feature.id,
      method: $('refer-method').value,
      consent: $('refer-consent').checked,
      // The caller's place as searched; the server keeps only its county (or H3 cell).
      place: { lat: body.query.lat, lon: body.query.lon },
      issue: list('issue'),
      language: list('language'),
      population: list('population'),
    };
    if ($('refer-due').value) referral.follow_up_due = $('refer-due').value;
    const note = $('refer-note').value.trim();
    if (note) referral.note = note;
    $('refer-submit').disabled = true;
    try {
      const made = await apiSend('POST', '/v1/referrals', referral);
      $('refer-dialog').close();
      toast(`Referral ${made.id} recorded`);
      const item = document.querySelector(`#results .result[data-id="${CSS.escape(feature.id)}"] .result-actions`);
      if (item && !item.querySelector('.referred')) item.append(el('span', { class: 'badge referred' }, `referral ${made.id}`));
    } catch (error) {
      dialogError('refer-error', error);
    } finally {
      $('refer-submit').disabled = false;
    }
  }

  // Slip: the text to copy and the printable page, safe by default.
  let slipPath = null;
  let slipSeq = 0;
  function openSlip(path, name) {
    slipPath = path;
    $('slip-for').textContent = name;
    $('slip-safe').checked = true;
    const asked = state.match.params && state.match.params.get('language');
    $('slip-lang').value = ['en', 'es', 'fr', 'pt'].includes(asked) ? asked : 'en';
    $('slip-text').textContent = '';
    $('slip-count').textContent = '';
    dialogError('slip-error', null);
    $('slip-dialog').showModal();
    loadSlip();
  }

  function slipQuery(format) {
    return `${slipPath}?lang=${encodeURIComponent($('slip-lang').value)}&safe=${$('slip-safe').checked}&format=${format}`;
  }

  async function loadSlip() {
    const seq = ++slipSeq;
    $('slip-copy').disabled = true;
    try {
      const text = await (await api(slipQuery('text'))).text();
      if (seq !== slipSeq) return;
      $('slip-text').textContent = text;
      const n = [...text].length;
      $('slip-count').textContent = `${n} characters${n <= 160 ? ': fits one text message' : ': more than one text message'}`;
      dialogError('slip-error', null);
      $('slip-copy').disabled = false;
    } catch (error) {
      if (seq === slipSeq) dialogError('slip-error', error);
    }
  }

  async function printSlip() {
    try {
      const html = await (await api(slipQuery('html'))).text();
      // The page came with the key; it opens as a blob: page (no script; its
      // one stylesheet is allowed by hash in the console's policy).
      const url = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
      window.open(url, '_blank');
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (error) {
      dialogError('slip-error', error);
    }
  }

  // Capacity: PUT /v1/providers/{id}/capacity (staff).
  let capacityOf = null;
  function openCapacity(feature) {
    capacityOf = feature;
    const p = feature.properties;
    const c = p.capacity || {};
    $('capacity-for').textContent = `${p.name}: ${capacityText(p.capacity)}`;
    $('capacity-available').value = c.available ?? '';
    $('capacity-maximum').value = c.maximum ?? '';
    $('capacity-unit').value = c.unit || 'beds';
    dialogError('capacity-error', null);
    $('capacity-dialog').showModal();
    $('capacity-available').focus();
  }

  async function submitCapacity() {
    const feature = capacityOf;
    if (!feature) return;
    const available = Number($('capacity-available').value);
    if ($('capacity-available').value === '' || !Number.isInteger(available) || available < 0) {
      dialogError('capacity-error', new Error('give the number available now, a whole number 0 or more'));
      return;
    }
    const entry = { available, unit: $('capacity-unit').value.trim() || 'beds' };
    if ($('capacity-maximum').value !== '') entry.maximum = Number($('capacity-maximum').value);
    $('capacity-submit').disabled = true;
    try {
      await apiSend('PUT', `/v1/providers/${encodeURIComponent(feature.id)}/capacity`, { capacity: [entry] });
      $('capacity-dialog').close();
      toast('Capacity saved');
      // Show the new figures: run the search again.
      state.match.hash = null;
      route();
    } catch (error) {
      dialogError('capacity-error', error);
    } finally {
      $('capacity-submit').disabled = false;
    }
  }

  function initStaffDialogs() {
    $('refer-form').addEventListener('submit', (event) => {
      event.preventDefault();
      submitRefer();
    });
    $('refer-cancel').addEventListener('click', () => $('refer-dialog').close());
    $('slip-lang').addEventListener('change', loadSlip);
    $('slip-safe').addEventListener('change', loadSlip);
    $('slip-copy').addEventListener('click', () => copy($('slip-text').textContent, 'the slip'));
    $('slip-print').addEventListener('click', printSlip);
    $('slip-close').addEventListener('click', () => $('slip-dialog').close());
    $('slip-form').addEventListener('submit', (event) => event.preventDefault());
    $('capacity-form').addEventListener('submit', (event) => {
      event.preventDefault();
      submitCapacity();
    });
    $('capacity-cancel').addEventListener('click', () => $('capacity-dialog').close());
  }

  // -------------------------------------------------------- referrals view

  function referralsParamsFromForm() {
    const params = new URLSearchParams();
    params.set('view', $('ref-view').value);
    const provider = $('ref-provider').value.trim();
    if (provider) params.set('provider', provider);
    return params;
  }

  function referralsFormFromParams(params) {
    setSelect($('ref-view'), params.get('view') || 'mine');
    $('ref-provider').value = params.get('provider') || '';
  }

  function submitReferrals() {
    const hash = `#referrals?${referralsParamsFromForm()}`;
    if (location.hash !== hash) history.pushState(null, '', hash);
    state.lastHash.referrals = hash;
    state.referrals.hash = hash;
    runReferrals(referralsParamsFromForm(), false);
  }

  async function runReferrals(params, more) {
    const seq = ++state.referrals.seq;
    showError(null);
    const list = $('referral-list');
    if (!more) {
      list.textContent = '';
      state.referrals.next = null;
    }
    $('referrals-more').hidden = true;
    $('referrals-status').textContent = 'Loading referrals…';
    const ask = new URLSearchParams(params);
    ask.set('limit', '20');
    if (more && state.referrals.next) ask.set('cursor', state.referrals.next);
    try {
      const body = await apiJson(`/v1/referrals?${ask}`);
      if (seq !== state.referrals.seq) return;
      for (const referral of body.referrals) list.append(referralItem(referral));
      state.referrals.next = body.next || null;
      $('referrals-more').hidden = !body.next;
      const n = list.querySelectorAll('.referral').length;
      const what = { mine: 'open referrals of yours', due: 'follow-ups due', open: 'open referrals', all: 'referrals' }[params.get('view')] || 'referrals';
      $('referrals-status').textContent = `${n} ${what}${params.get('provider') ? ` for ${params.get('provider')}` : ''}${body.next ? ' (more below)' : ''}.`;
    } catch (error) {
      if (seq !== state.referrals.seq) return;
      $('referrals-status').textContent = 'No referrals shown.';
      showError(error);
    }
  }

  /** One referral with its status, follow-up, notes, history and actions. */
  function referralItem(r) {
    const today = localDate(0);
    const open = r.status === 'sent' || r.status === 'accepted';
    const due = r.follow_up_due && open && r.follow_up_due <= today;
    const next = NEXT_STATUS[r.status] || [];
    const statusSelect = el('select', { class: 'status-select', 'aria-label': `New status of referral ${r.id}` },
      next.map((s) => el('option', { value: s }, STATUS_LABEL[s])));
    const reasonSelect = el('select', { class: 'reason-select', 'aria-label': 'Why it was declined', hidden: true },
      Object.entries(DECLINE_REASONS).map(([code, label]) => el('option', { value: code }, label)));
    const statusNote = el('input', { class: 'status-note', type: 'text', maxlength: '1000', placeholder: 'note (optional)', 'aria-label': 'Note on the status change' });
    const statusDue = el('input', { class: 'status-due', type: 'date', 'aria-label': 'Next follow-up (optional)' });
    const showReason = () => {
      reasonSelect.hidden = statusSelect.value !== 'declined';
    };
    statusSelect.addEventListener('change', showReason);
    showReason();
    const replace = (node, updated) => {
      const fresh = referralItem(updated);
      node.replaceWith(fresh);
      return fresh;
    };
    let item = null;
    const statusForm = next.length ? el('form', {
      class: 'status-form',
      onsubmit: async (event) => {
        event.preventDefault();
        const change = { status: statusSelect.value };
        if (change.status === 'declined') change.reason = reasonSelect.value;
        if (statusNote.value.trim()) change.note = statusNote.value.trim();
        if (statusDue.value) change.follow_up_due = statusDue.value;
        try {
          const updated = await apiSend('POST', `/v1/referrals/${r.id}/status`, change);
          item = replace(item, updated);
          toast(`Referral ${r.id}: ${STATUS_LABEL[updated.status] || updated.status}`);
        } catch (error) {
          showError(error);
        }
      },
    }, statusSelect, reasonSelect, statusNote, statusDue, el('button', { type: 'submit', class: 'status-button' }, 'Change status')) : null;
    const noteText = el('input', { class: 'note-text', type: 'text', maxlength: '1000', placeholder: 'add a note (no caller details)', 'aria-label': `Note on referral ${r.id}` });
    const noteForm = el('form', {
      class: 'note-form',
      onsubmit: async (event) => {
        event.preventDefault();
        const text = noteText.value.trim();
        if (!text) return;
        try {
          const updated = await apiSend('POST', `/v1/referrals/${r.id}/notes`, { text });
          item = replace(item, updated);
          toast(`Note added to referral ${r.id}`);
        } catch (error) {
          showError(error);
        }
      },
    }, noteText, el('button', { type: 'submit', class: 'note-button' }, 'Add note'));
    const when = (t) => (t ? t.replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1 UTC') : '');
    item = el('li', { class: `referral status-${r.status}${due ? ' is-due' : ''}`, dataset: { id: String(r.id), status: r.status } },
      el('h3', {}, `#${r.id} `,
        el('button', {
          type: 'button', class: 'linkish provider-filter', title: 'Show this provider\'s referrals',
          onclick: () => {
            $('ref-provider').value = r.provider_id;
            $('ref-view').value = 'all';
            submitReferrals();
          },
        }, r.provider_name || r.provider_id)),
      el('ul', { class: 'badges', 'aria-label': 'Status' },
        el('li', { class: `badge referral-status ${r.status}`, title: `FHIR Task status: ${r.fhir_status}` }, STATUS_LABEL[r.status] || r.status),
        el('li', { class: 'badge' }, METHOD_LABEL[r.method] || r.method),
        r.consent ? null : el('li', { class: 'badge' }, 'no consent'),
        r.decline_reason ? el('li', { class: 'badge relaxed' }, `declined: ${DECLINE_REASONS[r.decline_reason] || r.decline_reason}`) : null,
        r.follow_up_due ? el('li', { class: `badge follow-up${due ? ' due' : ''}` }, `${due ? 'follow-up due' : 'follow up'} ${r.follow_up_due}`) : null),
      el('p', { class: 'meta' }, [
        `made ${when(r.created_at)} by ${r.created_by}`,
        r.region,
        r.issue && r.issue.length ? r.issue.map(issueLabel).join(', ') : '',
        r.language && r.language.length ? r.language.map(languageName).join(', ') : '',
      ].filter(Boolean).join(' · ')),
      r.notes && r.notes.length ? el('ul', { class: 'notes', 'aria-label': 'Notes' },
        r.notes.map((n) => el('li', {}, el('span', { class: 'meta' }, `${when(n.at)}, ${n.by}: `), n.text))) : null,
      r.history && r.history.length ? el('details', { class: 'history' }, el('summary', {}, `History (${r.history.length})`),
        el('ul', {}, r.history.map((h) => el('li', {}, `${when(h.at)}, ${h.by}: ${h.from ? `${STATUS_LABEL[h.from] || h.from} → ` : ''}${STATUS_LABEL[h.to] || h.to}${h.reason ? ` (${DECLINE_REASONS[h.reason] || h.reason})` : ''}${h.note ? `: ${h.note}` : ''}`)))) : null,
      el('div', { class: 'referral-actions' },
        statusForm,
        noteForm,
        el('button', { type: 'button', class: 'slip-button', onclick: () => openSlip(`/v1/referrals/${r.id}/slip`, `Referral ${r.id}: ${r.provider_name || r.provider_id}`) }, 'Slip')));
    return item;
  }

  function initReferrals() {
    $('referrals-form').addEventListener('submit', (event) => {
      event.preventDefault();
      submitReferrals();
    });
    $('referrals-form').addEventListener('keydown', (event) => onEnter(event, submitReferrals));
    $('ref-view').addEventListener('change', submitReferrals);
    $('referrals-more').addEventListener('click', () => runReferrals(referralsParamsFromForm(), true));
  }

  // --------------------------------------------------------- coverage view

  const GAP_COLOURS = { served: '#2c7bb6', far: '#fdae61', none: '#d7191c' };
  const GAP_LABELS = {
    served: 'Served: a provider serves it or is within the threshold',
    far: 'Far: nearest provider beyond the threshold',
    none: 'None: no provider within 2,000 km',
  };
  const SEQUENTIAL = {
    // Higher is worse: light to dark red.
    nearest_km: ['#fee5d9', '#fcae91', '#fb6a4a', '#de2d26', '#a50f15'],
    // Higher is better: light to dark blue.
    providers_serving: ['#eff3ff', '#bdd7e7', '#6baed6', '#3182bd', '#08519c'],
    access_per_100k: ['#eff3ff', '#bdd7e7', '#6baed6', '#3182bd', '#08519c'],
  };
  const COLOUR_LABELS = {
    nearest_km: 'Nearest matching provider, km (population-weighted)',
    providers_serving: 'Matching providers serving the region',
    access_per_100k: 'Access: providers per 100,000 people (2SFCA)',
  };
  const NO_DATA = '#b9bec4';

  function coverageParamsFromForm() {
    const params = new URLSearchParams();
    const by = $('cov-by').value;
    params.set('by', by);
    if (by === 'h3') params.set('resolution', '4');
    if ($('cov-issue').value) params.set('issue', $('cov-issue').value);
    if ($('cov-language').value) params.set('language', $('cov-language').value);
    if ($('cov-open_24h').checked) params.set('open_24h', 'true');
    const threshold = Number($('cov-threshold').value);
    if (threshold && threshold !== 60) params.set('threshold_km', String(threshold));
    return params;
  }

  function coverageFormFromParams(params) {
    const by = params.get('by') || 'county';
    setSelect($('cov-by'), by);
    setSelect($('cov-issue'), params.get('issue') || '');
    setSelect($('cov-language'), params.get('language') || '');
    $('cov-open_24h').checked = params.get('open_24h') === 'true';
    $('cov-threshold').value = params.get('threshold_km') || '60';
    setSelect($('cov-color'), params.get('color') || 'gap');
  }

  function submitCoverage() {
    const params = coverageParamsFromForm();
    const shown = new URLSearchParams(params);
    if ($('cov-color').value !== 'gap') shown.set('color', $('cov-color').value);
    const hash = `#coverage?${shown}`;
    if (location.hash !== hash) history.pushState(null, '', hash);
    state.lastHash.coverage = hash;
    state.coverage.hash = hash;
    runCoverage(params);
  }

  async function runCoverage(params) {
    const seq = ++state.coverage.seq;
    showError(null);
    $('coverage-status').textContent = 'Computing coverage…';
    $('coverage-button').disabled = true;
    $('download-geojson').disabled = true;
    $('download-csv').disabled = true;
    const report = new URLSearchParams(params);
    // Lighter outlines for the screen; the download is what is shown.
    report.set('tolerance', params.get('by') === 'h3' ? '0' : '0.02');
    try {
      const response = await api(`/v1/coverage?${report}`);
      const text = await response.text();
      if (seq !== state.coverage.seq) return;
      const body = JSON.parse(text);
      state.coverage.text = text;
      state.coverage.body = body;
      state.coverage.params = report;
      drawCoverage(body);
      $('download-geojson').disabled = false;
      $('download-csv').disabled = false;
      loadSites(params, seq);
    } catch (error) {
      if (seq !== state.coverage.seq) return;
      $('coverage-status').textContent = 'No coverage shown.';
      showError(error);
    } finally {
      if (seq === state.coverage.seq) $('coverage-button').disabled = false;
    }
  }

  /** Five class breaks (quantiles of the non-null values). */
  function breaks(values) {
    const sorted = values.filter((v) => v !== null && v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
    if (!sorted.length) return [];
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    const cuts = [at(0.2), at(0.4), at(0.6), at(0.8)];
    return [...new Set(cuts)];
  }

  function colourFor(mode, props, cuts) {
    if (mode === 'gap') return GAP_COLOURS[props.gap] || NO_DATA;
    const value = props[mode];
    if (value === null || value === undefined) return NO_DATA;
    const palette = SEQUENTIAL[mode];
    let i = cuts.findIndex((c) => value <= c);
    if (i < 0) i = cuts.length;
    const scale = palette.length > cuts.length + 1 ? palette.slice(palette.length - cuts.length - 1) : palette;
    return scale[Math.min(i, scale.length - 1)];
  }

  function drawCoverage(body) {
    const mode = $('cov-color').value;
    if (state.coverage.layer) layers.coverage.removeLayer(state.coverage.layer);
    const cuts = mode === 'gap' ? [] : breaks(body.features.map((f) => f.properties[mode]));
    const baseStyle = (feature) => ({
      pane: 'choropleth',
      color: '#ffffff',
      weight: body.features.length > 1000 ? 0.3 : 0.7,
      fillColor: colourFor(mode, feature.properties, cuts),
      fillOpacity: 0.85,
    });
    const layer = L.geoJSON(body, {
      pane: 'choropleth',
      style: baseStyle,
      onEachFeature: (feature, path) => {
        path.on('mouseover', () => {
          path.setStyle({ weight: 2.5, color: '#1b1f24' });
          path.bringToFront();
          if (!state.coverage.pinned) showRegion(feature.properties);
        });
        path.on('mouseout', () => {
          if (state.coverage.pinned !== feature.properties.id) layer.resetStyle(path);
          if (!state.coverage.pinned) showRegion(null);
        });
        path.on('click', () => {
          state.coverage.pinned = state.coverage.pinned === feature.properties.id ? null : feature.properties.id;
          showRegion(feature.properties, true);
        });
      },
    });
    state.coverage.layer = layer;
    layers.coverage.addLayer(layer);
    drawLegend(mode, cuts, body);
    const meta = body.metadata || {};
    const counts = meta.counts_by_gap || {};
    const regions = meta.regions || {};
    $('coverage-status').textContent = `${number(regions.count)} ${regionWord(regions.by)}: ${number(counts.served || 0)} served, ${number(counts.far || 0)} far, ${number(counts.none || 0)} with none within reach; ${number(meta.unserved_population)} people unserved. ${number(meta.matching_providers)} matching providers.`;
    renderWorst(body);
    if (state.view === 'coverage') fitCoverage();
  }

  function latLonText(lat, lon) {
    return `${Math.abs(lat).toFixed(1)}°${lat >= 0 ? 'N' : 'S'}, ${Math.abs(lon).toFixed(1)}°${lon >= 0 ? 'E' : 'W'}`;
  }

  function regionWord(by) {
    return { county: 'counties', state: 'states and territories', country: 'countries', h3: 'H3 cells' }[by] || 'regions';
  }

  function fitCoverage() {
    const by = state.coverage.params && state.coverage.params.get('by');
    // The contiguous US frames the national views; Alaska, Hawaii and the
    // territories are a pan away.
    if (by === 'county' || by === 'state' || by === 'h3') map.fitBounds([[24.3, -125], [49.5, -66.8]]);
  }

  function drawLegend(mode, cuts, body) {
    const legend = $('legend');
    legend.textContent = '';
    const items = el('ul', { class: 'legend-items' });
    const swatch = (colour) => {
      const s = el('span', { class: 'swatch', 'aria-hidden': 'true' });
      s.style.background = colour;
      return s;
    };
    if (mode === 'gap') {
      legend.append(el('div', { class: 'legend-title' }, `Gap class (threshold ${body.metadata ? body.metadata.threshold_km : 60} km)`));
      for (const gap of ['served', 'far', 'none']) items.append(el('li', {}, swatch(GAP_COLOURS[gap]), GAP_LABELS[gap]));
    } else {
      legend.append(el('div', { class: 'legend-title' }, COLOUR_LABELS[mode]));
      const palette = SEQUENTIAL[mode];
      const scale = palette.length > cuts.length + 1 ? palette.slice(palette.length - cuts.length - 1) : palette;
      const fmt = (x) => (x === 0 ? '0' : Math.abs(x) < 10 ? Number(x.toPrecision(2)).toString() : Math.round(x).toLocaleString('en-US'));
      scale.forEach((colour, i) => {
        const low = i === 0 ? null : cuts[i - 1];
        const high = i < cuts.length ? cuts[i] : null;
        const text = low === null ? `up to ${fmt(high ?? 0)}` : high === null ? `over ${fmt(low)}` : `${fmt(low)} to ${fmt(high)}`;
        items.append(el('li', {}, swatch(colour), text));
      });
      items.append(el('li', {}, swatch(NO_DATA), 'no matching provider'));
    }
    legend.append(items);
  }

  function showRegion(props, pinned) {
    const box = $('region-details');
    box.textContent = '';
    if (!props) {
      box.append(el('p', { class: 'hint' }, 'Hover over or tap a region for its figures.'));
      return;
    }
    const near = props.nearest_km === null || props.nearest_km === undefined ? 'none within 2,000 km' : distanceText(props.nearest_km, false);
    box.append(
      el('h4', {}, props.name, props.kind === 'h3' ? ` (near ${latLonText(props.label_lat, props.label_lon)})` : '', pinned && state.coverage.pinned ? ' (pinned; click again to release)' : ''),
      el('dl', {},
        el('dt', {}, 'Providers serving'), el('dd', {}, number(props.providers_serving)),
        el('dt', {}, 'Nearest provider'), el('dd', {}, near),
        el('dt', {}, 'Population'), el('dd', {}, number(props.population)),
        el('dt', {}, 'Unserved people'), el('dd', {}, number(props.unserved_population)),
        el('dt', {}, 'Gap'), el('dd', {}, props.gap),
        el('dt', {}, 'Access per 100k'), el('dd', {}, props.access_per_100k === null ? '—' : Number(props.access_per_100k).toFixed(2))));
  }

  function renderWorst(body) {
    const list = $('worst');
    list.textContent = '';
    const worst = body.features
      .filter((f) => f.properties.unserved_population > 0)
      .sort((a, b) => b.properties.unserved_population - a.properties.unserved_population)
      .slice(0, 10);
    if (!worst.length) {
      list.append(el('li', {}, 'Everyone is within reach of a matching provider.'));
      return;
    }
    for (const feature of worst) {
      const p = feature.properties;
      // An H3 cell's name is its index: say where it is.
      const where = p.kind === 'h3' ? ` (near ${latLonText(p.label_lat, p.label_lon)})` : '';
      list.append(el('li', {},
        el('button', {
          type: 'button', class: 'linkish',
          onclick: () => {
            state.coverage.pinned = p.id;
            showRegion(p, true);
            const layer = state.coverage.layer && state.coverage.layer.getLayers().find((l) => l.feature.properties.id === p.id);
            if (layer) map.fitBounds(layer.getBounds(), { maxZoom: 8 });
          },
        }, p.name),
        `${where}: ${number(p.unserved_population)} people, nearest ${p.nearest_km === null ? 'none' : `${Math.round(p.nearest_km)} km`}`));
    }
  }

  async function loadSites(params, seq) {
    const list = $('sites');
    list.textContent = '';
    layers.sites.clearLayers();
    $('suggest-status').textContent = 'Finding sites…';
    const ask = new URLSearchParams(params);
    ask.set('sites', '10');
    try {
      const body = await apiJson(`/v1/coverage/suggest?${ask}`);
      if (seq !== state.coverage.seq) return;
      const meta = body.metadata || {};
      if (!body.features.length) {
        $('suggest-status').textContent = 'No site would bring anyone new within reach.';
        return;
      }
      $('suggest-status').textContent = `${body.features.length} sites would bring ${number((meta.unserved_before || 0) - (meta.unserved_after || 0))} of ${number(meta.unserved_before)} unserved people within ${meta.threshold_km} km.`;
      for (const feature of body.features) {
        const s = feature.properties;
        const label = `${s.name}, ${s.admin1 || s.country}`;
        const marker = L.marker([s.lat, s.lon], {
          icon: L.divIcon({ className: 'site-marker', html: siteInner(s.rank), iconSize: [22, 22] }),
          title: `Site ${s.rank}: ${label}`,
          alt: `Site ${s.rank}: ${label}`,
        }).bindTooltip(`Site ${s.rank}: ${label}, +${number(s.population_added)} people`);
        layers.sites.addLayer(marker);
        list.append(el('li', {},
          el('button', { type: 'button', class: 'linkish', onclick: () => map.setView([s.lat, s.lon], 7) }, label),
          `: +${number(s.population_added)} people (total ${number(s.cumulative_population)})`));
      }
    } catch (error) {
      if (seq !== state.coverage.seq) return;
      $('suggest-status').textContent = `No sites: ${error.message}`;
    }
  }

  function siteInner(rank) {
    const span = document.createElement('span');
    span.textContent = String(rank);
    return span;
  }

  function download(text, type, name) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const link = el('a', { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function fileStem() {
    const p = state.coverage.params;
    return ['coverage', p.get('by'), p.get('issue'), p.get('language'), p.get('open_24h') ? '24h' : ''].filter(Boolean).join('-');
  }

  function initCoverage() {
    $('coverage-form').addEventListener('submit', (event) => {
      event.preventDefault();
      submitCoverage();
    });
    $('coverage-form').addEventListener('keydown', (event) => onEnter(event, submitCoverage));
    $('cov-color').addEventListener('change', () => {
      if (state.coverage.body) {
        drawCoverage(state.coverage.body);
        const shown = new URLSearchParams(location.hash.replace(/^#coverage\??/, ''));
        if ($('cov-color').value === 'gap') shown.delete('color');
        else shown.set('color', $('cov-color').value);
        const hash = `#coverage?${shown}`;
        history.replaceState(null, '', hash);
        state.lastHash.coverage = hash;
        state.coverage.hash = hash;
      }
    });
    $('download-geojson').addEventListener('click', () => {
      if (state.coverage.text) download(state.coverage.text, 'application/geo+json', `${fileStem()}.geojson`);
    });
    $('download-csv').addEventListener('click', async () => {
      if (!state.coverage.params) return;
      const params = new URLSearchParams(state.coverage.params);
      params.delete('tolerance');
      params.set('format', 'csv');
      try {
        const text = await (await api(`/v1/coverage?${params}`)).text();
        download(text, 'text/csv', `${fileStem()}.csv`);
      } catch (error) {
        showError(error);
      }
    });
  }

  // ---------------------------------------------------------------- routing

  function showView(view) {
    state.view = view;
    $('match-view').hidden = view !== 'match';
    $('coverage-view').hidden = view !== 'coverage';
    $('referrals-view').hidden = view !== 'referrals';
    $('tab-match').setAttribute('aria-current', view === 'match' ? 'page' : 'false');
    $('tab-coverage').setAttribute('aria-current', view === 'coverage' ? 'page' : 'false');
    $('tab-referrals').setAttribute('aria-current', view === 'referrals' ? 'page' : 'false');
    document.title = { match: 'refmatch · find help', coverage: 'refmatch · coverage map', referrals: 'refmatch · referrals' }[view];
    if (view === 'referrals') {
      // The map keeps the last caller's answer in view.
      map.removeLayer(layers.coverage);
      map.removeLayer(layers.sites);
      layers.match.addTo(map);
      layers.area.addTo(map);
    } else if (view === 'match') {
      map.removeLayer(layers.coverage);
      map.removeLayer(layers.sites);
      layers.match.addTo(map);
      layers.area.addTo(map);
    } else {
      map.removeLayer(layers.match);
      map.removeLayer(layers.area);
      layers.counties.clearLayers();
      countyBox = null;
      layers.coverage.addTo(map);
      layers.sites.addTo(map);
    }
    map.getContainer().setAttribute('aria-label', view === 'match'
      ? 'Map: the caller, the numbered providers and the selected service area; click to search at a point'
      : 'Map: coverage by region; hover or tap a region for its figures');
  }

  /** Applies the URL's fragment: the view and its query. */
  function route() {
    const hash = location.hash || '#match';
    const [view, query] = hash.slice(1).split('?');
    const params = new URLSearchParams(query || '');
    if (view === 'referrals') {
      showView('referrals');
      referralsFormFromParams(params);
      state.lastHash.referrals = hash;
      if (!state.staff) {
        $('referral-list').textContent = '';
        $('referrals-status').textContent = 'Sign in with a staff key to see referrals.';
      } else if (state.referrals.hash !== hash) {
        state.referrals.hash = hash;
        runReferrals(referralsParamsFromForm(), false);
      }
    } else if (view === 'coverage') {
      showView('coverage');
      coverageFormFromParams(params);
      state.lastHash.coverage = hash;
      const same = state.coverage.body && state.coverage.hash === hash;
      if (!same) {
        state.coverage.hash = hash;
        runCoverage(coverageParamsFromForm());
      } else {
        fitCoverage();
      }
    } else {
      showView('match');
      if (query) {
        matchFormFromParams(params);
        state.lastHash.match = hash;
        if (state.match.hash !== hash) {
          state.match.hash = hash;
          runMatch(matchParamsFromForm(), false);
        } else {
          fitMatch();
        }
      }
    }
  }

  /** Runs the current view's query again (after signing in or out). */
  function rerun() {
    state.match.hash = null;
    state.referrals.hash = null;
    state.coverage.hash = null;
    state.coverage.body = null;
    route();
  }

  function initTabs() {
    const first = { match: '#match', coverage: '#coverage?by=county&issue=trafficking', referrals: '#referrals?view=mine' };
    for (const [tab, view] of [['tab-match', 'match'], ['tab-coverage', 'coverage'], ['tab-referrals', 'referrals']]) {
      $(tab).addEventListener('click', (event) => {
        event.preventDefault();
        const hash = state.lastHash[view] || first[view];
        if (location.hash !== hash) history.pushState(null, '', hash);
        route();
      });
    }
    window.addEventListener('hashchange', route);
  }

  async function start() {
    // The skip link moves focus without touching the URL's fragment (which holds the query).
    document.querySelector('.skip-link').addEventListener('click', (event) => {
      event.preventDefault();
      $('panel').focus();
    });
    initMap();
    initSignIn();
    initMatch();
    initCoverage();
    initStaffDialogs();
    initReferrals();
    initTabs();
    try {
      await checkKey();
      await Promise.all([loadVocabulary(), loadBasemap()]);
    } catch (error) {
      showError(error);
    }
    // Remember which query the hash already ran, so tab switches do not rerun it.
    route();
    document.body.dataset.ready = 'true';
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
