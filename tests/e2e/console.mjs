// End-to-end test of the advocate console in a real headless browser
// (Debian's chromium driven by playwright-core). tests/console.rs starts
// `refmatch serve` and runs:
//
//   node tests/e2e/console.mjs <base-url> <screenshot-dir>
//
// Environment: REFMATCH_E2E_ADVOCATE_KEY, an advocate API key for the
// served store (the staff checks are skipped without it; its key name must
// be "console e2e", as capacity edits are stamped with it);
// CHROMIUM (default /usr/bin/chromium).
//
// It fails (exit 1) on any failed check, any browser console error, page
// error, failed request or HTTP error answer, except the one 401 the
// invalid-key check provokes on purpose, in a page of its own.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error('usage: node console.mjs <base-url> <screenshot-dir>');
  process.exit(2);
}
fs.mkdirSync(shots, { recursive: true });
const advocateKey = process.env.REFMATCH_E2E_ADVOCATE_KEY || '';
const providerKey = process.env.REFMATCH_E2E_PROVIDER_KEY || '';
const TIMEOUT = 90_000;

const problems = [];
const log = (...args) => console.log('[e2e]', ...args);

const pending = new WeakMap();

/** Waits until `page` has had no request in flight for 800 ms (the map animates for 250 ms and debounces its county fetch by 300 ms). */
async function settle(page) {
  let quiet = 0;
  while (quiet < 800) {
    await page.waitForTimeout(100);
    quiet = (pending.get(page) || 0) === 0 ? quiet + 100 : 0;
  }
}

/** Records every console error, page error, failed request and HTTP error of `page`. */
function watch(page, label, allowed = () => false) {
  pending.set(page, 0);
  page.on('request', () => pending.set(page, pending.get(page) + 1));
  for (const event of ['requestfinished', 'requestfailed']) {
    page.on(event, () => pending.set(page, pending.get(page) - 1));
  }
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const text = `${label}: console ${message.type()}: ${message.text()} (${message.location().url || ''})`;
    if (message.type() === 'error' && !allowed(message.text())) problems.push(text);
    else log(text);
  });
  page.on('pageerror', (error) => problems.push(`${label}: page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    const failure = request.failure();
    // A navigation or reload aborts the page's requests still in flight.
    if (failure && failure.errorText === 'net::ERR_ABORTED') return;
    problems.push(`${label}: request failed: ${request.method()} ${request.url()}: ${failure && failure.errorText}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !allowed(`${response.status()} ${response.url()}`)) {
      problems.push(`${label}: HTTP ${response.status()} for ${response.request().method()} ${response.url()}`);
    }
  });
}

/** A GET of the API with `key`, straight over HTTP: the JSON (or, for text, the text). */
async function apiGet(pathAndQuery, key) {
  const headers = key ? { Authorization: `Bearer ${key}` } : {};
  const response = await fetch(`${base}${pathAndQuery}`, { headers });
  assert.equal(response.status, 200, `GET ${pathAndQuery}`);
  const type = response.headers.get('content-type') || '';
  return type.includes('json') ? response.json() : response.text();
}

/** Today in the browser's time zone, YYYY-MM-DD (as the console writes dates). */
async function today(page) {
  return page.evaluate(() => {
    const d = new Date();
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  });
}

/** Waits until the slip dialog shows a slip other than `previous`; answers it. */
async function slipShown(page, previous) {
  await page.waitForFunction((before) => {
    const text = document.getElementById('slip-text').textContent;
    return text && text !== before && !document.getElementById('slip-copy').disabled;
  }, previous, { timeout: TIMEOUT });
  return page.locator('#slip-text').textContent();
}

/** The API's own answer for a query, straight over HTTP. */
async function apiMatch(query, key) {
  const headers = key ? { Authorization: `Bearer ${key}` } : {};
  const response = await fetch(`${base}/v1/match?${query}`, { headers });
  assert.equal(response.status, 200, `GET /v1/match?${query}`);
  return response.json();
}

/** What the page shows: the list's ids and the numbered markers. */
async function shown(page) {
  return page.evaluate(() => ({
    ids: [...document.querySelectorAll('#results .result')].map((li) => li.dataset.id),
    markers: [...document.querySelectorAll('.leaflet-marker-pane .map-marker')].map((m) => m.getAttribute('title')),
    caller: document.querySelectorAll('.leaflet-overlay-pane path.caller-marker').length,
    status: document.getElementById('match-status').textContent,
    hash: location.hash,
  }));
}

async function waitForResults(page, previousStatus) {
  await page.waitForFunction(
    (previous) => {
      const status = document.getElementById('match-status').textContent;
      return status !== previous && / results? near /.test(status);
    },
    previousStatus,
    { timeout: TIMEOUT },
  );
}

/** Searches for `near` (with the form's other fields as set) and checks the page against /v1/match. */
async function matchAndCompare(page, near, key) {
  const before = await page.locator('#match-status').textContent();
  await page.fill('#near', near);
  await page.press('#near', 'Enter');
  await waitForResults(page, before);
  const seen = await shown(page);
  assert.match(seen.hash, /^#match\?/, 'the URL holds the query');
  const query = seen.hash.slice('#match?'.length);
  const body = await apiMatch(query, key);
  const ids = body.features.map((f) => f.id);
  assert.ok(ids.length > 0, `${near}: /v1/match answers results`);
  assert.deepEqual(seen.ids, ids, `${near}: the list shows /v1/match's results in its order`);
  const located = body.features.filter((f) => f.geometry);
  assert.equal(seen.markers.length, located.length, `${near}: one marker per located result`);
  assert.deepEqual(
    seen.markers,
    located.map((f) => `${f.properties.rank}. ${f.properties.name}`),
    `${near}: markers are numbered by rank, in order`,
  );
  assert.equal(seen.caller, 1, `${near}: the caller's point is drawn`);
  log(`${near}: ${ids.length} results, ${located.length} markers agree with /v1/match?${query}`);
  return { body, query };
}

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'refmatch-e2e-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
    timeout: TIMEOUT,
  });
  context.setDefaultTimeout(TIMEOUT);
  try {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });

    // ---------------------------------------------------------- match view
    const page = context.pages()[0] || (await context.newPage());
    watch(page, 'match');
    const response = await page.goto(`${base}/`, { waitUntil: 'load' });
    assert.equal(response.status(), 200);
    const csp = response.headers()['content-security-policy'] || '';
    assert.match(csp, /default-src 'self'/, 'the page has a strict CSP');
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, 'no inline script or style is allowed');
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForFunction(() => document.querySelectorAll('.leaflet-pane path').length > 50, null, { timeout: TIMEOUT });
    assert.ok((await page.locator('#issues input').count()) > 5, 'issues come from /v1/vocabulary');
    // Staff-only parts are not offered to the public.
    assert.equal(await page.isHidden('#tab-referrals'), true, 'no referrals tab for the public');
    assert.equal(await page.isHidden('#warm-transfer-label'), true, 'no warm-transfer switch for the public');
    // Every need is in view: the list has no scroll box of its own.
    const needs = await page.evaluate(() => {
      const box = document.getElementById('issues');
      const style = getComputedStyle(box);
      const outer = box.getBoundingClientRect();
      const hidden = [...box.querySelectorAll('label')].filter((label) => {
        const r = label.getBoundingClientRect();
        return r.height === 0 || r.top < outer.top - 1 || r.bottom > outer.bottom + 1;
      }).map((label) => label.textContent.trim());
      return { overflowY: style.overflowY, scroll: box.scrollHeight, client: box.clientHeight, hidden };
    });
    assert.ok(!['auto', 'scroll'].includes(needs.overflowY), `the needs are not in a scroll box: ${JSON.stringify(needs)}`);
    assert.ok(needs.scroll <= needs.client + 1, `no need is cut off: ${JSON.stringify(needs)}`);
    assert.deepEqual(needs.hidden, [], 'every need is inside its box');

    // A US city, with needs set in the form.
    await page.check('#issue-labor_trafficking');
    await page.selectOption('#language', 'es');
    const fresno = await matchAndCompare(page, 'Fresno, CA', '');
    // Keyboard: Enter moved focus to the first result; arrows move on.
    let focused = await page.evaluate(() => document.activeElement && document.activeElement.dataset.id);
    assert.equal(focused, fresno.body.features[0].id, 'Enter focuses the first result');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    focused = await page.evaluate(() => document.activeElement.dataset.id);
    assert.equal(focused, fresno.body.features[1].id, 'arrows move through the results');
    assert.equal(await page.locator('#results .result[aria-current="true"]').count(), 1);
    assert.equal(await page.locator('.leaflet-marker-pane .map-marker.selected').count(),
      fresno.body.features[1].geometry ? 1 : 0, 'the selected result is highlighted on the map');
    // Copy referral (C on a selected result) puts plain text on the clipboard.
    await page.keyboard.press('c');
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    assert.ok(clip.includes(fresno.body.features[1].properties.name), `referral text names the provider: ${clip}`);
    assert.ok(!/direct line/i.test(clip), 'referral text leaves out direct lines');
    // Public view: approximate locations are said so.
    const approximate = fresno.body.features.filter((f) => f.properties.location_approximate).length;
    assert.equal(await page.locator('#results .badge.approx').count(), approximate, 'approximate locations are marked');
    assert.equal(await page.locator('#results .staff').count(), 0, 'the public sees no staff-only fields');
    // Open/closed now appears for results with known hours.
    assert.ok((await page.locator('#results .badge.open, #results .badge.closed').count()) > 0, 'open or closed now is shown');

    // Reloading the URL runs the same search again.
    const url = page.url();
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="true"]');
    await waitForResults(page, '');
    const again = await shown(page);
    assert.equal(page.url(), url);
    assert.deepEqual(again.ids, fresno.body.features.map((f) => f.id), 'a reload shows the same results');
    assert.equal(await page.inputValue('#near'), 'Fresno, CA', 'the form is filled from the URL');
    assert.ok(await page.isChecked('#issue-labor_trafficking'));
    // Zoomed in on a US caller, the basemap adds the county lines in view.
    await page.waitForFunction(() => document.querySelectorAll('.leaflet-counties-pane path').length > 0, null, { timeout: TIMEOUT });
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.locator('#results .result').nth(0).click();
    await settle(page);
    await page.screenshot({ path: path.join(shots, 'match.png') });

    // A foreign city, without the language filter.
    await page.uncheck('#issue-labor_trafficking');
    await page.check('#issue-trafficking');
    await page.selectOption('#language', '');
    const lima = await matchAndCompare(page, 'Lima, Peru', '');
    assert.equal(lima.body.query.country, 'PE');
    await settle(page);
    await page.screenshot({ path: path.join(shots, 'match-lima.png') });
    // Back returns to the Fresno search, form and results.
    const limaStatus = await page.locator('#match-status').textContent();
    await page.goBack();
    await waitForResults(page, limaStatus);
    assert.deepEqual((await shown(page)).ids, fresno.body.features.map((f) => f.id), 'Back shows the previous search');
    assert.equal(await page.inputValue('#language'), 'es', 'Back restores the form');

    // -------------------------------------------------------- coverage view
    await page.click('#tab-coverage');
    await page.waitForSelector('#coverage-view:not([hidden])');
    await page.selectOption('#cov-by', 'county');
    await page.selectOption('#cov-issue', 'labor_trafficking');
    await page.selectOption('#cov-language', 'es');
    await page.check('#cov-open_24h');
    await page.click('#coverage-button');
    await page.waitForFunction(() => /counties:/.test(document.getElementById('coverage-status').textContent), null, { timeout: TIMEOUT });
    const paths = await page.locator('.leaflet-choropleth-pane path').count();
    assert.ok(paths > 0, 'the choropleth is drawn');
    const coverageQuery = (await page.evaluate(() => location.hash)).replace(/^#coverage\?/, '');
    const coverage = await (await fetch(`${base}/v1/coverage?${coverageQuery}&tolerance=0.02`)).json();
    assert.equal(paths, coverage.features.filter((f) => f.geometry).length, 'one path per region with an outline');
    log(`coverage: ${paths} county paths for ${coverageQuery}`);
    assert.ok((await page.locator('#legend li').count()) >= 3, 'a legend');
    await page.waitForFunction(() => !/Finding/.test(document.getElementById('suggest-status').textContent), null, { timeout: TIMEOUT });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-geojson')]);
    const saved = await download.path();
    const downloaded = JSON.parse(fs.readFileSync(saved, 'utf8'));
    assert.equal(downloaded.features.length, coverage.features.length, 'the GeoJSON download is what is shown');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    const table = fs.readFileSync(await csv.path(), 'utf8').trim().split('\n');
    assert.equal(table.length, coverage.features.length + 1, 'the CSV has a row per region');
    // Hover details: the region's name and figures, as /v1/coverage has them.
    const box = await page.locator('#map').boundingBox();
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.42);
    await page.waitForFunction(() => document.querySelector('#region-details h4') !== null, null, { timeout: 10_000 });
    const hovered = await page.locator('#region-details h4').textContent();
    const region = coverage.features.find((f) => f.properties.name === hovered.trim());
    assert.ok(region, `hover names a region of the report: ${hovered}`);
    const details = (await page.locator('#region-details dl').textContent()).replace(/\s+/g, ' ');
    assert.ok(details.includes(`Providers serving${region.properties.providers_serving}`), details);
    assert.ok(details.includes(`Population${region.properties.population.toLocaleString('en-US')}`), details);
    log(`hover: ${hovered}: ${details}`);
    await settle(page);
    await page.screenshot({ path: path.join(shots, 'coverage.png') });

    // ------------------------------------------------------- narrow screen
    const narrow = await context.newPage();
    watch(narrow, 'narrow');
    await narrow.setViewportSize({ width: 390, height: 844 });
    await narrow.goto(`${base}/#match?${fresno.query}`, { waitUntil: 'load' });
    await narrow.waitForSelector('body[data-ready="true"]');
    await waitForResults(narrow, '');
    const layout = await narrow.evaluate(() => {
      const panel = document.getElementById('results').getBoundingClientRect();
      const map = document.getElementById('map').getBoundingClientRect();
      return { listBottom: panel.bottom, mapTop: map.top, mapWidth: map.width, scrollWidth: document.documentElement.scrollWidth };
    });
    assert.ok(layout.mapTop >= layout.listBottom - 1, `the map is under the list on a narrow screen: ${JSON.stringify(layout)}`);
    assert.ok(layout.scrollWidth <= 392, `no sideways scrolling at 390 px: ${JSON.stringify(layout)}`);
    await settle(narrow);
    await narrow.screenshot({ path: path.join(shots, 'narrow.png') });
    await narrow.close();

    // ------------------------------------------------------------ sign-in
    if (advocateKey) {
      await page.click('#tab-match');
      await page.waitForSelector('#match-view:not([hidden])');
      assert.equal(page.url(), `${base}/#match?${fresno.query}`);
      await page.fill('#api-key', advocateKey);
      await page.click('#signin-button');
      await page.waitForFunction(() => /Signed in/.test(document.getElementById('signin-status').textContent));
      // Signing in runs the search again with the key: staff fields appear.
      await page.waitForSelector('#results .staff', { timeout: TIMEOUT });
      // The key stays for the session (sessionStorage), across a reload.
      await page.reload({ waitUntil: 'load' });
      await page.waitForSelector('body[data-ready="true"]');
      await waitForResults(page, '');
      assert.match(await page.locator('#signin-status').textContent(), /Signed in/);
      const seen = await shown(page);
      const staff = await apiMatch(seen.hash.slice('#match?'.length), advocateKey);
      assert.deepEqual(seen.ids, staff.features.map((f) => f.id), 'staff see the staff answer');
      const confidential = staff.features.filter((f) => f.properties.visibility === 'confidential').length;
      assert.equal(await page.locator('#results .badge.conf').count(), confidential, 'confidential records are marked');
      assert.equal(await page.locator('#results .staff').count(), staff.features.length, 'staff fields are shown to staff');
      const direct = staff.features.flatMap((f) => f.properties.phones).filter((p) => p.confidential).length;
      assert.equal(await page.locator('#results .direct').count(), direct, 'direct lines are flagged');
      // The selected provider's service area, from its record.
      await page.locator('#results .result').nth(0).click();
      await page.waitForFunction(() => /Service area/.test(document.querySelector('#results .result[aria-current="true"] .area-note').textContent));
      await page.waitForFunction(() => document.querySelectorAll('.leaflet-area-pane path').length > 0, null, { timeout: TIMEOUT });
      log(`staff: ${staff.features.length} results, ${confidential} confidential, ${direct} direct lines`);
      await settle(page);
      await page.screenshot({ path: path.join(shots, 'match-staff.png') });

      // ------------------------------------------------- staff tools
      // What this build serves decides what can be tried: the referral and
      // capacity APIs come from the referrals and capacity branches.
      const documented = (await apiGet('/openapi.json', '')).paths;
      const hasReferrals = Boolean(documented['/v1/referrals']);
      const hasCapacity = Boolean(documented['/v1/providers/{id}/capacity']);
      assert.equal(await page.isVisible('#tab-referrals'), true, 'staff have a referrals tab');
      assert.equal(await page.isVisible('#warm-transfer-label'), true, 'staff have the warm-transfer switch');
      for (const action of ['refer-button', 'slip-button', 'capacity-button']) {
        assert.equal(await page.locator(`#results .result .${action}`).count(), staff.features.length, `every result has ${action}`);
      }

      // Slip: safe and in English by default; the text is the API's; the
      // language and the safe switch change it; copy and print.
      const first = staff.features[0];
      await page.locator('#results .result').nth(0).locator('.slip-button').click();
      await page.waitForSelector('#slip-dialog[open]');
      assert.equal(await page.isChecked('#slip-safe'), true, 'the slip is safe by default');
      const safeSlip = await slipShown(page, '');
      const apiSlip = await apiGet(`/v1/providers/${encodeURIComponent(first.id)}/slip?lang=es&safe=true&format=text`, advocateKey);
      // The search asked for Spanish: the slip starts in Spanish.
      assert.equal(await page.inputValue('#slip-lang'), 'es', 'the slip is in the caller\'s language');
      assert.equal(safeSlip, apiSlip, 'the dialog shows /v1/providers/{id}/slip');
      assert.ok(!safeSlip.includes(first.properties.name), `a safe slip does not name the provider: ${safeSlip}`);
      assert.ok(!/traffick|trata|shelter|refugio|abuso|violen/i.test(safeSlip), `a safe slip reveals no purpose: ${safeSlip}`);
      for (const phone of first.properties.phones.filter((p) => p.confidential)) {
        assert.ok(!safeSlip.includes(phone.number), `no direct line on a slip: ${phone.number}`);
      }
      assert.match(await page.locator('#slip-count').textContent(), /characters/);
      await page.selectOption('#slip-lang', 'en');
      const english = await slipShown(page, safeSlip);
      assert.equal(english, await apiGet(`/v1/providers/${encodeURIComponent(first.id)}/slip?lang=en&safe=true&format=text`, advocateKey));
      await page.uncheck('#slip-safe');
      const named = await slipShown(page, english);
      assert.ok(named.startsWith(first.properties.name), `an unsafe slip names the provider: ${named}`);
      await page.check('#slip-safe');
      const again = await slipShown(page, named);
      assert.equal(again, english, 'safe again');
      await page.click('#slip-copy');
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), english, 'Copy text copies the slip');
      // The printable page opens from a blob: URL; its one stylesheet is
      // allowed by the console's policy (by hash): no CSP error.
      const [printable] = await Promise.all([
        context.waitForEvent('page'),
        page.click('#slip-print'),
      ]);
      watch(printable, 'slip page');
      await printable.waitForLoadState('load');
      assert.equal(await printable.locator('h1').textContent(), 'Contact', 'the page is the safe slip');
      assert.equal(await printable.locator('script').count(), 0, 'no script on the slip page');
      assert.equal(await printable.evaluate(() => getComputedStyle(document.querySelector('h1')).fontSize), '24px', 'the slip stylesheet applies');
      await printable.screenshot({ path: path.join(shots, 'slip.png') });
      await printable.close();
      await page.click('#slip-close');
      await page.waitForSelector('#slip-dialog', { state: 'hidden' });
      log(`slip: ${english.length} characters for ${first.id}`);
      log('slip: passed');

      if (hasReferrals) {
        // Refer → see it in the Referrals tab → change its status → see the follow-up.
        const day = await today(page);
        await page.locator('#results .result').nth(0).locator('.refer-button').click();
        await page.waitForSelector('#refer-dialog[open]');
        await page.selectOption('#refer-method', 'information_given');
        await page.check('#refer-consent');
        await page.fill('#refer-due', day);
        await page.fill('#refer-note', 'e2e: information given');
        await page.click('#refer-submit');
        await page.waitForSelector('#refer-dialog', { state: 'hidden' });
        const badge = await page.locator('#results .result').nth(0).locator('.badge.referred').textContent();
        const id = Number(/referral (\d+)/.exec(badge)[1]);
        const made = await apiGet(`/v1/referrals/${id}`, advocateKey);
        assert.equal(made.provider_id, first.id);
        assert.equal(made.status, 'sent');
        assert.equal(made.method, 'information_given');
        assert.equal(made.consent, true);
        assert.equal(made.follow_up_due, day);
        assert.equal(made.region, 'county:06019', 'Fresno is kept as its county only');
        assert.deepEqual(made.issue, ['labor_trafficking'], 'the current need');
        assert.deepEqual(made.language, ['es']);
        assert.ok(made.notes.some((n) => n.text === 'e2e: information given'), 'the note');

        await page.click('#tab-referrals');
        await page.waitForSelector('#referrals-view:not([hidden])');
        assert.match(page.url(), /#referrals\?view=mine/);
        const mine = page.locator(`#referral-list .referral[data-id="${id}"]`);
        await mine.waitFor({ timeout: TIMEOUT });
        assert.equal(await mine.getAttribute('data-status'), 'sent', 'my open referral is listed');
        await mine.locator('.status-select').selectOption('accepted');
        await mine.locator('.status-note').fill('provider confirmed intake');
        await mine.locator('.status-due').fill(day);
        await mine.locator('.status-button').click();
        const accepted = page.locator(`#referral-list .referral[data-id="${id}"][data-status="accepted"]`);
        await accepted.waitFor({ timeout: TIMEOUT });
        await accepted.locator('.note-text').fill('follow-up call booked');
        await accepted.locator('.note-button').click();
        await page.waitForFunction((rid) => /follow-up call booked/.test((document.querySelector(`#referral-list .referral[data-id="${rid}"] .notes`) || {}).textContent || ''), id, { timeout: TIMEOUT });
        // Follow-ups due today: it is there, marked due.
        await page.selectOption('#ref-view', 'due');
        await page.waitForFunction(() => /follow-ups due/.test(document.getElementById('referrals-status').textContent), null, { timeout: TIMEOUT });
        const due = page.locator(`#referral-list .referral[data-id="${id}"]`);
        assert.equal(await due.count(), 1, 'the follow-up is due');
        assert.match(await due.locator('.badge.follow-up').textContent(), /follow-up due/);
        const stored = await apiGet(`/v1/referrals/${id}`, advocateKey);
        assert.equal(stored.status, 'accepted');
        assert.equal(stored.fhir_status, 'accepted');
        assert.ok(stored.history.some((h) => h.from === 'sent' && h.to === 'accepted'), 'the history has the change');
        assert.ok(stored.notes.some((n) => n.text === 'follow-up call booked'), 'the note is stored');
        const listed = await apiGet('/v1/referrals?view=due', advocateKey);
        assert.ok(listed.referrals.some((r) => r.id === id), 'view=due lists it');
        // The referral's slip is its provider's.
        await due.locator('.slip-button').click();
        await page.waitForSelector('#slip-dialog[open]');
        const referralSlip = await slipShown(page, '');
        // The search asked for Spanish: so does the slip.
        assert.equal(referralSlip, await apiGet(`/v1/referrals/${id}/slip?lang=es&safe=true&format=text`, advocateKey));
        await page.click('#slip-close');
        await settle(page);
        await page.screenshot({ path: path.join(shots, 'referrals.png') });
        await page.click('#tab-match');
        await page.waitForSelector('#match-view:not([hidden])');
        await waitForResults(page, '');
        log(`refer → follow-up: referral ${id}`);
        log('refer → follow-up: passed');
      } else {
        log('refer → follow-up: skipped (this build serves no /v1/referrals)');
      }

      if (hasCapacity) {
        // Capacity editing, then the warm-transfer switch.
        await page.locator('#results .result').nth(0).locator('.capacity-button').click();
        await page.waitForSelector('#capacity-dialog[open]');
        await page.fill('#capacity-available', '3');
        await page.fill('#capacity-maximum', '12');
        await page.fill('#capacity-unit', 'beds');
        await page.click('#capacity-submit');
        await page.waitForSelector('#capacity-dialog', { state: 'hidden' });
        await page.waitForFunction((fid) => /3 of 12 beds free/.test((document.querySelector(`#results .result[data-id="${CSS.escape(fid)}"] .capacity`) || {}).textContent || ''), first.id, { timeout: TIMEOUT });
        const record = await apiGet(`/v1/providers/${encodeURIComponent(first.id)}?format=record`, advocateKey);
        assert.equal(record.capacity[0].available, 3);
        assert.equal(record.capacity[0].maximum, 12);
        assert.equal(record.capacity[0].updated_by, 'console e2e');
        const before = await page.locator('#match-status').textContent();
        await page.check('#warm_transfer');
        await page.click('#search-button');
        await waitForResults(page, before);
        const warm = await shown(page);
        assert.match(warm.hash, /warm_transfer=true/, 'the switch sends warm_transfer=true');
        const warmAnswer = await apiMatch(warm.hash.slice('#match?'.length), advocateKey);
        assert.deepEqual(warm.ids, warmAnswer.features.map((f) => f.id), 'the warm-transfer answer is shown');
        assert.equal(await page.locator('#results .warm-transfer').count(), warmAnswer.features.length, 'each result shows its checklist');
        const ready = warmAnswer.features.filter((f) => f.properties.warm_transfer && f.properties.warm_transfer.ready).length;
        assert.equal(await page.locator('#results .warm-transfer.ready').count(), ready, 'ready results are marked');
        await page.uncheck('#warm_transfer');
        log('capacity and warm transfer: passed');
      } else {
        log('capacity and warm transfer: skipped (this build serves no /v1/providers/{id}/capacity)');
      }

      await page.click('#signout-button');
      await page.waitForFunction(() => /Public view/.test(document.getElementById('signin-status').textContent));
    } else {
      log('REFMATCH_E2E_ADVOCATE_KEY not set: staff checks skipped');
    }

    // ------------------------------------------- one caller after another
    // A failed search never leaves the last caller's answer on screen.
    // Unknown places are 404s here, as are the geocoder's suggestions
    // while typing them.
    const next = await context.newPage();
    watch(next, 'next caller', (text) => /status of 404|^404 .*\/v1\/(match|geocode)\?/.test(text));
    await next.goto(`${base}/`, { waitUntil: 'load' });
    await next.waitForSelector('body[data-ready="true"]');
    await next.check('#issue-trafficking');
    const peru = await matchAndCompare(next, 'Lima, Peru', '');
    assert.equal(await next.isEnabled('#copy-top'), true, 'results can be copied');
    // Phones call (or text) where the device can, and copy with a button.
    const phones = peru.body.features.flatMap((f) => f.properties.phones);
    const links = await next.evaluate(() => [...document.querySelectorAll('#results .phones li')].map((li) => {
      const link = li.querySelector('a.phone-link');
      return { href: link && link.getAttribute('href'), text: link && link.textContent, copy: li.querySelectorAll('button.phone-copy').length };
    }));
    assert.equal(links.length, phones.length, 'one entry per phone');
    links.forEach((link, i) => {
      const phone = phones[i];
      const scheme = phone.kind === 'text' ? 'sms' : 'tel';
      assert.equal(link.href, `${scheme}:${phone.dial}`, `${phone.number} is a ${scheme}: link to its dial string`);
      assert.equal(link.text, phone.number, 'the link shows the number as written');
      assert.equal(link.copy, 1, `${phone.number} has a copy button`);
    });
    assert.ok(phones.some((p) => p.dial === '080023232'), "Peru's own Llama y Vive number is listed");
    await next.locator('#results .phones button.phone-copy').first().click();
    assert.equal(await next.evaluate(() => navigator.clipboard.readText()), phones[0].number, 'the copy button copies the number');

    // An unknown place: nothing of Peru's answer is left.
    const peruStatus = await next.locator('#match-status').textContent();
    await next.fill('#near', 'Fresnoo, CA');
    await next.press('#near', 'Enter');
    await next.waitForFunction((previous) => document.getElementById('match-status').textContent !== previous
      && !document.getElementById('error').hidden, peruStatus, { timeout: TIMEOUT });
    const cleared = async (label) => {
      const after = await shown(next);
      assert.deepEqual(after.ids, [], `${label}: no results listed`);
      assert.deepEqual(after.markers, [], `${label}: no provider markers`);
      assert.equal(after.caller, 0, `${label}: no caller point`);
      assert.equal(await next.locator('#results .copy-referral').count(), 0, `${label}: no referral to copy`);
      assert.equal(await next.isDisabled('#copy-top'), true, `${label}: "Copy top 3" is disabled`);
      assert.equal(await next.locator('#results a.phone-link').count(), 0, `${label}: no phone of the last caller`);
    };
    await cleared('unknown place');
    // "Did you mean" offers the close spellings as buttons; one click
    // fills the place and searches again.
    const suggestion = next.locator('#error button.suggestion', { hasText: 'Fresno, CA' });
    assert.equal(await suggestion.count(), 1, `a clickable suggestion: ${await next.locator('#error').textContent()}`);
    const failedStatus = await next.locator('#match-status').textContent();
    await suggestion.click();
    await waitForResults(next, failedStatus);
    assert.equal(await next.inputValue('#near'), 'Fresno, CA', 'the suggestion fills the place');
    assert.equal(await next.isHidden('#error'), true, 'the error is gone');
    const suggested = await shown(next);
    const fresnoAgain = await apiMatch(suggested.hash.slice('#match?'.length), '');
    assert.deepEqual(suggested.ids, fresnoAgain.features.map((f) => f.id), 'the suggested search shows /v1/match\'s answer');
    assert.ok(suggested.ids.length > 0 && suggested.caller === 1);
    // An empty place clears the answer too.
    await next.fill('#near', '');
    await next.press('#near', 'Enter');
    await next.waitForFunction(() => /Type where the caller is/.test(document.getElementById('match-status').textContent));
    await cleared('empty place');
    await settle(next);
    await next.screenshot({ path: path.join(shots, 'match-cleared.png') });
    await next.close();

    // A provider key is valid but not staff: the public view, no staff
    // tools (its 403 from the staff check is expected here).
    if (providerKey) {
      const desk = await context.newPage();
      watch(desk, 'provider key', (text) => /\b403\b/.test(text));
      await desk.goto(`${base}/#match?${fresno.query}`, { waitUntil: 'load' });
      await desk.waitForSelector('body[data-ready="true"]');
      await waitForResults(desk, '');
      await desk.fill('#api-key', providerKey);
      await desk.click('#signin-button');
      await desk.waitForFunction(() => /not a staff key/.test(document.getElementById('signin-status').textContent));
      assert.equal(await desk.locator('#tab-referrals').isHidden(), true, 'no referrals tab for a provider key');
      assert.equal(await desk.locator('#warm-transfer-label').isHidden(), true, 'no warm-transfer switch for a provider key');
      assert.equal(await desk.locator('#results .staff-tools').count(), 0, 'no staff tools for a provider key');
      assert.equal(await desk.locator('#results .staff').count(), 0, 'no staff fields for a provider key');
      await desk.close();
      log('provider key: public view, no staff tools');
    }

    // An invalid key is refused in plain words (its 401 is expected here).
    const refused = await context.newPage();
    watch(refused, 'bad key', (text) => /\b401\b/.test(text));
    await refused.goto(`${base}/`, { waitUntil: 'load' });
    await refused.waitForSelector('body[data-ready="true"]');
    await refused.fill('#api-key', 'rmk_not_a_real_key');
    await refused.click('#signin-button');
    await refused.waitForFunction(() => /key is not valid/i.test(document.getElementById('signin-status').textContent));
    assert.match(await refused.locator('#error').textContent(), /key is not valid/i);
    await refused.close();
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (error) {
  problems.push(`check failed: ${error.stack || error}`);
}
if (problems.length) {
  console.error(`[e2e] ${problems.length} problem(s):`);
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}
log(`all checks passed; screenshots in ${shots}`);
