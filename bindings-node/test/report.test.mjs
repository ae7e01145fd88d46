// HTML reports: toHtml of drift results and model health, fragments, and the engine's pages.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import {
  Baseline,
  Engine,
  checkDrift,
  driftSnapshotFromRows,
  renderDriftSection,
  renderHealthSection,
  reportScript,
  reportStyle,
  toHtml,
} from '../index.js'
import { irisEngine, throwsWithCode } from './helpers.mjs'

const numbers = (n, shift) => Float64Array.from({ length: n }, (_, i) => (i % 100) + shift)

function assertSelfContained(html) {
  assert.ok(html.startsWith('<!DOCTYPE html>'))
  assert.ok(!/https?:\/\//.test(html), 'no network reference')
  for (const svg of html.match(/<svg[^>]*>/g) ?? []) {
    assert.match(svg, /role="img"/)
    assert.match(svg, /aria-labelledby="/)
  }
}

test('a drift result renders as a document and a fragment, names escaped', () => {
  const baseline = Baseline.fit({ amount: numbers(1000, 0), '<b>plan</b>': Array.from({ length: 1000 }, (_, i) => (i % 3 ? 'free' : 'pro')) })
  const result = checkDrift(baseline, { amount: numbers(1000, 30), '<b>plan</b>': Array.from({ length: 1000 }, (_, i) => (i % 3 ? 'free' : 'pro')) })
  const html = toHtml(result, { title: 'Nightly check' })
  assertSelfContained(html)
  assert.match(html, /<title>Nightly check<\/title>/)
  assert.match(html, /amount/)
  assert.match(html, /▲ drifted/)
  assert.ok(html.includes('&lt;b&gt;plan&lt;/b&gt;') && !html.includes('<b>plan</b>'))
  const section = renderDriftSection(result)
  assert.ok(section.startsWith('<section class="he-drift he-report"'))
  assert.ok(!section.includes('<style>'))
  assert.ok(reportStyle().includes('.he-report') && reportScript().includes('querySelectorAll'))
  throwsWithCode(() => toHtml({ nothing: 1 }), 'HARPER_EDGE_INVALID_INPUT', /DriftResult/)
  throwsWithCode(() => toHtml(result, { maxPoints: 'many' }), 'HARPER_EDGE_INVALID_INPUT', /options/)
})

test('model health from the engine renders with traffic, drift and buttons', async () => {
  const engine = await irisEngine(Engine.inMemory({ tickIntervalMs: null }))
  for (let i = 0; i < 60; i++) await engine.inferJson('iris', [5.1, 3.5, 1.4 + (i % 5) * 0.3, 0.2])
  engine.flush()
  const baseline = Baseline.fit({ 'input[2]': numbers(300, 0) })
  engine.setBaseline('iris:1', baseline)
  const checked = engine.checkDrift('iris:1', { 'input[2]': numbers(300, 50) })
  const health = engine.modelHealth('iris')
  assert.equal(health.modelName, 'iris')
  assert.equal(health.rollups.reduce((n, r) => n + r.requestCount, 0), 60)
  assert.equal(health.drift.timestamp, checked.timestamp)
  assert.equal(health.drift.report.model.drifted, true)
  const page = engine.reportHtml()
  assertSelfContained(page)
  assert.match(page, /Model iris:1/)
  assert.match(page, /input\[2\]/)
  const section = renderHealthSection(health, { actions: true })
  assert.match(section, /data-model="iris"/)
  // The stored rows give the same snapshot.
  const rows = engine.driftMetrics('iris:1')
  assert.deepEqual(driftSnapshotFromRows(rows).report.model, health.drift.report.model)
  assert.equal(driftSnapshotFromRows([]), null)
  assert.equal(toHtml([health, health]).match(/<section class="he-model/g).length, 2)
})
