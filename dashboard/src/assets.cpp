// The dashboard's script: reads the page's embedded JSON (<script id="chipgauge-data">) and draws
// it with Chart.js (global `Chart`, the UMD build). Charts are kept in window.chipgaugeCharts by
// canvas id, for the browser test.
#include "assets.hpp"

namespace chipgauge::dashboard::detail {

const char* const dashboard_js = R"JS((function () {
  'use strict';
  var data = JSON.parse(document.getElementById('chipgauge-data').textContent);
  window.chipgaugeData = data;
  window.chipgaugeCharts = {};
  if (typeof Chart === 'undefined') {
    throw new Error('Chart.js did not load (assets/chart.min.js)');
  }
  // Writes each point's label beside it for datasets that carry `cgLabels`.
  var labels = {
    id: 'cgLabels',
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      chart.data.datasets.forEach(function (ds, i) {
        if (!ds.cgLabels) return;
        var meta = chart.getDatasetMeta(i);
        ctx.save();
        ctx.font = '11px sans-serif';
        ctx.fillStyle = '#333';
        meta.data.forEach(function (el, j) {
          ctx.fillText(ds.cgLabels[j], el.x + 5, el.y - 5);
        });
        ctx.restore();
      });
    }
  };
  function keep(id, chart) { window.chipgaugeCharts[id] = chart; }

  if (data.page === 'trend') {
    var pts = data.points;
    var canvas = document.getElementById('trend-chart');
    keep('trend-chart', new Chart(canvas, {
      type: 'line',
      data: {
        labels: pts.map(function (p) { return p.time; }),
        datasets: [
          { label: 'median', data: pts.map(function (p) { return p.median; }), borderColor: '#1f77b4',
            backgroundColor: '#1f77b4', pointRadius: 3, tension: 0 },
          { label: 'q1', data: pts.map(function (p) { return p.q1; }), borderColor: '#9ecae1',
            borderDash: [4, 4], pointRadius: 0, fill: false },
          { label: 'q3 (q1-q3 shaded)', data: pts.map(function (p) { return p.q3; }), borderColor: '#9ecae1',
            borderDash: [4, 4], pointRadius: 0, fill: '-1', backgroundColor: 'rgba(158,202,225,0.3)' },
          { label: 'slower than the rolling baseline',
            data: pts.map(function (p) { return p.verdict === 'slower' ? p.median : null; }),
            showLine: false, pointStyle: 'triangle', pointRadius: 8, borderColor: '#d62728',
            backgroundColor: '#d62728' }
        ]
      },
      options: {
        animation: false, responsive: false, spanGaps: true,
        scales: { y: { title: { display: true, text: data.unit },
                      ticks: { callback: function (v) { return Number(v).toPrecision(4); } } }, x: { title: { display: true, text: 'run (UTC)' } } }
      }
    }));
  } else if (data.page === 'plane') {
    var parts = data.parts;
    var datasets = [{
      type: 'scatter', label: 'bundled parts', data: parts.map(function (p) { return { x: p.tpp, y: p.pd }; }),
      cgLabels: parts.map(function (p) { return p.name; }), backgroundColor: '#1f77b4', pointRadius: 4
    }];
    var palette = ['#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
    data.thresholds.forEach(function (t, i) {
      var pts2 = t.axis === 'tpp'
        ? [{ x: t.value, y: data.axes.pd_min }, { x: t.value, y: data.axes.pd_max }]
        : [{ x: data.axes.tpp_min, y: t.value }, { x: data.axes.tpp_max, y: t.value }];
      datasets.push({ type: 'line', label: t.label, data: pts2, pointRadius: 0, borderWidth: 1.5,
                      borderColor: palette[i % palette.length], borderDash: [6, 3], fill: false });
    });
    keep('plane-chart', new Chart(document.getElementById('plane-chart'), {
      type: 'scatter',
      data: { datasets: datasets },
      options: {
        animation: false, responsive: false,
        scales: {
          x: { type: 'logarithmic', min: data.axes.tpp_min, max: data.axes.tpp_max,
               title: { display: true, text: 'TPP (total processing performance)' } },
          y: { type: 'logarithmic', min: data.axes.pd_min, max: data.axes.pd_max,
               title: { display: true, text: 'PD (TPP per mm^2 of applicable die area)' } }
        },
        plugins: { legend: { position: 'bottom' } }
      },
      plugins: [labels]
    }));
  }
})();
)JS";

const char* const style_css = R"CSS(body { font-family: sans-serif; margin: 1.5em; color: #222; }
nav { margin-bottom: 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
tr.regression td { background: #fde0dd; }
.note { color: #555; font-size: 0.9em; }
)CSS";

}  // namespace chipgauge::dashboard::detail
