// index.d.ts is the API and is committed: a cheap check that it still describes the addon.
// (`npm run check-generated` regenerates it from the Rust sources and diffs, at the cost of a
// rebuild of the binding crate.)
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import * as binding from '../index.js'
import { Engine, Monitor, inspectSource } from '../index.js'
import { MODEL_PATH, irisEngine } from './helpers.mjs'

const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')

function block(start) {
  const at = dts.indexOf(start)
  assert.ok(at >= 0, `index.d.ts has no "${start}"`)
  let depth = 0
  for (let i = dts.indexOf('{', at); i < dts.length; i++) {
    if (dts[i] === '{') depth++
    if (dts[i] === '}' && --depth === 0) return dts.slice(at, i + 1)
  }
  throw new Error(`unbalanced block ${start}`)
}

// Top-level member names of a declaration block (nested object types are skipped).
function members(text) {
  const names = new Set()
  let depth = 0
  for (const line of text.split('\n')) {
    const m = depth === 1 && line.match(/^\s*(?:static\s+)?(\w+)\??\s*[(:<]/)
    if (m) names.add(m[1])
    depth += (line.match(/{/g) || []).length - (line.match(/}/g) || []).length
  }
  return [...names].sort()
}

test('the Engine class in index.d.ts has exactly the addon methods', () => {
  const declared = members(block('export declare class Engine'))
  const actual = [
    ...Object.getOwnPropertyNames(Engine.prototype).filter((n) => n !== 'constructor'),
    ...Object.getOwnPropertyNames(Engine).filter(
      (n) => typeof Engine[n] === 'function' && !['length', 'name', 'prototype'].includes(n),
    ),
  ].sort()
  assert.deepEqual(declared, actual)
})

test('the exported functions and classes are declared', () => {
  const declared = [...dts.matchAll(/^export declare (?:function|class) (\w+)/gm)].map((m) => m[1]).sort()
  const actual = Object.keys(binding)
    .filter((n) => n !== 'default' && !n.startsWith('__'))
    .sort()
  assert.deepEqual(declared, actual)
})

test('record interfaces list exactly the fields the addon returns', async () => {
  const engine = await irisEngine(Engine.inMemory())
  const p = await engine.inferJson('iris', [5.1, 3.5, 1.4, 0.2])
  const entry = engine.outbox()[0]
  const samples = {
    // A model registered from a file: without the optional provenance and files of a fetch.
    Model: { ...engine.model('iris'), provenance: null, files: [] },
    InferenceEvent: engine.event(p.inferenceId),
    TensorInfo: engine.model('iris').inputSchema[0],
    Prediction: p,
    OutputTensor: p.outputs.probabilities,
    RealtimeMetrics: engine.realtime('iris'),
    ModelMetrics: engine.flush()[0],
    TelemetryStats: engine.telemetryStats(),
    RecordedEvent: engine.recordEvent({
      modelName: 'host',
      modelVersion: '1',
      framework: 'onnx',
      latencyMs: 1,
    }),
  }
  for (const [name, value] of Object.entries(samples)) {
    assert.deepEqual(members(block(`export interface ${name} `)), Object.keys(value).sort(), name)
  }
  assert.deepEqual(Object.keys(entry).sort(), ['createdAt', 'id', 'record', 'seq', 'table'])
})

test('fetch record interfaces list exactly the fields the addon returns', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'harper-edge-typings-'))
  try {
    const engine = Engine.inMemory({ dataDir: join(dir, 'data'), tickIntervalMs: null })
    await engine.fetchModel('iris', 'f', MODEL_PATH)
    const job = await engine.waitJob('iris:f')
    const model = engine.model('iris:f')
    const report = await engine.deployProfile({
      name: 'p',
      models: [{ modelName: 'iris', modelVersion: 'f', framework: 'onnx', modelBlob: { source: 'filesystem', path: MODEL_PATH } }],
    })
    const samples = {
      Model: model,
      FetchJob: job,
      Provenance: model.provenance,
      FileRecord: model.files[0],
      JobRegistration: { framework: 'onnx', mainFile: 'model.onnx', ...job.registration },
      Inspection: await inspectSource(MODEL_PATH),
      DeployReport: report,
      ProfileValidation: binding.validateProfile({ name: 'p', models: [] }),
    }
    for (const [name, value] of Object.entries(samples)) {
      assert.deepEqual(members(block(`export interface ${name} `)), Object.keys(value).sort(), name)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('monitoring record interfaces list exactly the fields the Monitor returns', async () => {
  const engine = await irisEngine(Engine.inMemory({ tickIntervalMs: null }))
  const monitor = new Monitor(engine)
  const rule = monitor.putRule({
    ruleName: 'slow',
    modelName: 'iris',
    alertType: 'latency',
    condition: { metric: 'maxLatency', operator: '>=', threshold: 0 },
  })
  await engine.inferJson('iris', [5.1, 3.5, 1.4, 0.2])
  const report = await monitor.tick()
  monitor.setConfig({ retrainingTriggers: { minNewLabeledSamples: 0 } }, { modelName: 'iris' })
  const request = monitor.requestRetraining('iris')
  const samples = {
    AlertRule: rule,
    AlertEvent: report.fired[0],
    RuleStatus: report.rules[0],
    TickReport: report,
    RetrainingRequest: request,
    SafetyCheck: request.safetyChecks[0],
    StoredMonitoringConfig: monitor.configLayer({ modelName: 'iris' }),
    MonitoringConfig: monitor.config(),
    NoDataPolicy: rule.noData,
  }
  for (const [name, value] of Object.entries(samples)) {
    assert.ok(value, `no sample of ${name}`)
    assert.deepEqual(members(block(`export interface ${name} `)), Object.keys(value).sort(), name)
  }
  // The getter `running` is declared `get running(): boolean`, which members() skips.
  const monitorClass = block('export declare class Monitor')
  assert.match(monitorClass, /get running\(\): boolean/)
  assert.deepEqual(
    members(monitorClass).filter((n) => n !== 'constructor'),
    Object.getOwnPropertyNames(Monitor.prototype)
      .filter((n) => !['constructor', 'running'].includes(n))
      .sort(),
  )
})
