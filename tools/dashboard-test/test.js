// Loads the generated dashboard from file:// in headless Chromium and checks it against the store:
//   node test.js WORK_DIR   (WORK_DIR holds site/, store.db, export.json from `history export`,
//   fleet.json from `fleet collect history:`, expected.json from dashboard_fixture; the environment
//   names the chipgauge binary, CHIPGAUGE_BINARY, and the specs, CHIPGAUGE_SPECS, for the compare
//   calls). Screenshots go to WORK_DIR/*.png (kept as CI artifacts).
'use strict';
const fs = require('fs');
const path = require('path');
const assert = require('assert');
const { execFileSync } = require('child_process');
const puppeteer = require('puppeteer-core');

const work = path.resolve(process.argv[2]);
const site = path.join(work, 'site');
const exported = JSON.parse(fs.readFileSync(path.join(work, 'export.json'), 'utf8'));
const expected = JSON.parse(fs.readFileSync(path.join(work, 'expected.json'), 'utf8'));
const fleet = JSON.parse(fs.readFileSync(path.join(work, 'fleet.json'), 'utf8'));

// What a separate `chipgauge compare` says about one run of the series against the rolling
// baseline (the previous 20 runs): its verdict for the benchmark, or null where there is no
// baseline. Exit 4 (slower) is an answer, not a failure.
function compareVerdict(runTime) {
  const sel = `history:device=${expected.identity},benchmark=${expected.benchmark}`;
  const next = new Date(Date.parse(runTime) + 1000).toISOString().replace('.000Z', 'Z');
  const args = ['--specs-dir', process.env.CHIPGAUGE_SPECS, 'compare', `${sel},until=${runTime},last=20`,
    `${sel},since=${runTime},until=${next}`, '--history', path.join(work, 'store.db'), '--format', 'json'];
  let out;
  try {
    out = execFileSync(process.env.CHIPGAUGE_BINARY, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    if (e.status !== 4) throw new Error(`compare ${args.join(' ')}: exit ${e.status}: ${e.stderr}`);
    out = e.stdout;
  }
  const row = JSON.parse(out).results.find((r) => r.benchmark === expected.benchmark);
  assert(row, `compare lists ${expected.benchmark} for the run at ${runTime}`);
  return row.verdict;
}
const url = (rel) => require('url').pathToFileURL(path.join(site, rel)).href;

// Opens a page and records every console error, uncaught exception and failed request.
async function open(browser, rel, problems) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`${rel}: console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`${rel}: page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`${rel}: request failed: ${r.url()}`));
  await page.goto(url(rel), { waitUntil: 'load' });
  return page;
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHIPGAUGE_CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'],
  });
  const problems = [];
  try {
    // Index: every series and part listed, links to trend pages.
    const index = await open(browser, 'index.html', problems);
    const indexData = await index.evaluate(() => window.chipgaugeData);
    const series = indexData.series.find((s) => s.device === expected.device && s.benchmark === expected.benchmark);
    assert(series, 'the index lists the regressed series');
    assert.strictEqual(await index.$$eval('#series tr.regression', (rows) => rows.length), 1, 'one series with a regression');

    // Trend page: the chart's medians equal the store's, the markers sit on compare's slower runs.
    const trend = await open(browser, series.page, problems);
    assert(await trend.$('canvas#trend-chart'), 'the trend canvas exists');
    const chart = await trend.evaluate(() => {
      const c = window.chipgaugeCharts['trend-chart'];
      return { drawn: Chart.getChart(document.getElementById('trend-chart')) === c,
               datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })),
               points: window.chipgaugeData.points };
    });
    assert(chart.drawn, 'Chart.js drew the trend chart on its canvas');
    const storeRows = exported.results.filter((r) => r.device.name === expected.device && r.benchmark.name === expected.benchmark);
    assert.strictEqual(storeRows.length, expected.runs);
    assert.deepStrictEqual(chart.datasets[0].data, storeRows.map((r) => r.median), 'chart medians equal the store');
    assert.deepStrictEqual(chart.datasets[1].data, storeRows.map((r) => r.q1), 'q1 equals the store');
    assert.deepStrictEqual(chart.datasets[2].data, storeRows.map((r) => r.q3), 'q3 equals the store');
    const markedRuns = chart.datasets[3].data
      .map((v, i) => (v === null ? null : storeRows[i].run.id)).filter((v) => v !== null);
    assert.deepStrictEqual(markedRuns, expected.regression_run_ids, 'markers on the known regression only');
    // And where a separate compare call against the rolling baseline says slower (the first run
    // has no baseline: compare refuses the empty selection, the page marks nothing).
    const compareSlower = storeRows.slice(1)
      .filter((r) => compareVerdict(r.run.created_utc) === 'slower').map((r) => r.run.id);
    assert.deepStrictEqual(markedRuns, compareSlower, 'markers where chipgauge compare says slower');
    chart.datasets[3].data.forEach((v, i) => { if (v !== null) assert.strictEqual(v, storeRows[i].median); });
    const rowIds = await trend.$$eval('#runs tr.regression', (rows) => rows.map((r) => Number(r.dataset.runId)));
    assert.deepStrictEqual(rowIds, expected.regression_run_ids, 'the table marks the same runs');
    await trend.screenshot({ path: path.join(work, 'dashboard-trend.png'), fullPage: true });

    // The TPP-PD plane: every plotted part, one line per threshold, log axes.
    const plane = await open(browser, 'plane.html', problems);
    assert(await plane.$('canvas#plane-chart'), 'the plane canvas exists');
    const p = await plane.evaluate(() => {
      const c = window.chipgaugeCharts['plane-chart'];
      return { data: window.chipgaugeData, n: c.data.datasets.length, parts: c.data.datasets[0].data,
               x: c.options.scales.x.type, y: c.options.scales.y.type };
    });
    assert.strictEqual(p.n, 1 + p.data.thresholds.length, 'one line per threshold');
    assert(p.data.thresholds.length > 0, 'thresholds drawn');
    assert.deepStrictEqual(p.parts.map((q) => [q.x, q.y]), p.data.parts.map((q) => [q.tpp, q.pd]));
    assert.strictEqual(p.x, 'logarithmic');
    assert.strictEqual(p.y, 'logarithmic');
    await plane.screenshot({ path: path.join(work, 'dashboard-plane.png'), fullPage: true });

    // A part page opens cleanly.
    await open(browser, indexData.parts[0].page, problems);

    // The H100's part page lists its certificates from the store; only the one ingested with its
    // key is verified, and the measured TPP is that one's.
    const certPart = indexData.parts.find((q) => q.id === expected.certificates.part);
    const part = await open(browser, certPart.page, problems);
    const certRows = await part.$$eval('#certificates tr[data-run-id]', (rows) => rows.map((r) => ({
      id: Number(r.dataset.runId), verified: r.classList.contains('verified'), cells: [...r.cells].map((c) => c.textContent) })));
    assert.deepStrictEqual(certRows.map((r) => r.id), expected.certificates.runs, 'every certificate of the part, oldest first');
    assert.deepStrictEqual(certRows.filter((r) => r.verified).map((r) => r.id), [expected.certificates.verified_run],
      'only the certificate ingested with its key is shown verified');
    certRows.forEach((r) => {
      assert.match(r.cells[2], /^\d{4}-\d{2}-\d{2}T/, 'a date');
      assert(['pass', 'fail', 'inconclusive'].includes(r.cells[3]), `a verdict: ${r.cells[3]}`);
      if (!r.verified) assert.match(r.cells[5], /^not verified/, 'unverified ones say so');
    });
    const partData = await part.evaluate(() => window.chipgaugeData);
    assert.strictEqual(partData.tpp.measured, expected.certificates.verified_tpp, 'measured TPP from the verified certificate');
    assert.match(await part.$eval('#tpp', (t) => t.textContent), new RegExp(String(expected.certificates.verified_tpp)));
    await part.screenshot({ path: path.join(work, 'dashboard-part.png'), fullPage: true });
    const failedPart = await open(browser, indexData.parts.find((q) => q.id === expected.certificates.failed_part).page, problems);
    const failedRow = await failedPart.$eval(`#certificates tr[data-run-id="${expected.certificates.failed_run}"]`,
      (r) => ({ verified: r.classList.contains('verified'), text: r.textContent }));
    assert(!failedRow.verified && /failed verification/.test(failedRow.text), 'the tampered certificate is shown failed');

    // The fleet page: fleet collect over the store, equal to a separate `fleet collect history:`.
    const fleetPage = await open(browser, 'fleet.html', problems);
    const fleetData = await fleetPage.evaluate(() => window.chipgaugeData);
    const { page: _page, ...fleetAnswer } = fleetData;
    assert.deepStrictEqual(fleetAnswer, fleet, 'the page data is the fleet collect answer');
    assert.strictEqual(fleetData.devices_counted, expected.fleet.devices);
    assert.strictEqual(fleetData.unverified.length, expected.fleet.unverified);
    const nodes = await fleetPage.$$eval('#fleet-nodes tr[data-node]', (rows) => rows.map((r) => ({
      node: r.dataset.node, fail: r.classList.contains('fail'), pass: r.classList.contains('pass') })));
    assert.strictEqual(nodes.length, fleet.nodes.length, 'one row per node');
    assert.deepStrictEqual(nodes.filter((n) => n.fail).map((n) => n.node), expected.fleet.failing_nodes, 'failing nodes');
    assert(nodes.filter((n) => !n.fail).every((n) => n.pass), 'every other node passes');
    const outliers = await fleetPage.$$eval('#fleet-outliers tr[data-node]', (rows) => rows.map((r) => [r.dataset.node, r.dataset.device]));
    assert(outliers.length > 0, 'outliers listed');
    assert.deepStrictEqual([...new Set(outliers.map((o) => o.join(' ')))], expected.fleet.outliers.map((o) => o.join(' ')),
      'the injected outlier only');
    assert.match(await fleetPage.$eval('#fleet-totals', (p) => p.textContent), new RegExp(`^${expected.fleet.devices} device`));
    assert.strictEqual(await fleetPage.$$eval('#fleet-unverified li', (l) => l.length), expected.fleet.unverified);
    await fleetPage.screenshot({ path: path.join(work, 'dashboard-fleet.png'), fullPage: true });

    assert.deepStrictEqual(problems, [], 'no console errors, page errors or failed requests');
    console.log(`dashboard browser test passed; screenshots in ${work}`);
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
