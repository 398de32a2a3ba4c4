// Loads the generated dashboard from file:// in headless Chromium and checks it against the store:
//   node test.js WORK_DIR   (WORK_DIR holds site/, export.json from `history export`, expected.json
//   from dashboard_fixture). Screenshots go to WORK_DIR/*.png (kept as CI artifacts).
'use strict';
const fs = require('fs');
const path = require('path');
const assert = require('assert');
const puppeteer = require('puppeteer-core');

const work = path.resolve(process.argv[2]);
const site = path.join(work, 'site');
const exported = JSON.parse(fs.readFileSync(path.join(work, 'export.json'), 'utf8'));
const expected = JSON.parse(fs.readFileSync(path.join(work, 'expected.json'), 'utf8'));
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

    assert.deepStrictEqual(problems, [], 'no console errors, page errors or failed requests');
    console.log(`dashboard browser test passed; screenshots in ${work}`);
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
