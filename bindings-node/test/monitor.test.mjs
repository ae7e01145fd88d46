// The Monitor class: alert rules evaluated by ticks, the onAlert callback (called from the
// libuv pool through a ThreadsafeFunction), acknowledgement, layered configuration with
// field-named errors, and the retraining workflow. The Node API has no manual clock: calls are
// recorded now, and the rules read the real-time window (the last five minutes).
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { Engine, Monitor } from '../index.js'
import { throwsWithCode } from './helpers.mjs'

const SLOW_RULE = {
  ruleName: 'slow host model',
  modelName: 'host',
  // A model the host runs itself is not registered: the rule names its version.
  modelVersion: '1',
  alertType: 'latency',
  severity: 'critical',
  condition: { metric: 'p95Latency', operator: '>', threshold: 500 },
}

function slowCalls(engine, n, latencyMs) {
  for (let i = 0; i < n; i++) {
    engine.recordEvent({ modelName: 'host', modelVersion: '1', latencyMs })
  }
}

// A promise of the next value passed to the callback `register` installs. The callbacks do not
// keep the process alive by themselves (a server would): a timer does here, and fails the test
// if the call never comes.
function nextCall(register, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the callback was not called')), timeoutMs)
    register((value) => {
      clearTimeout(timer)
      resolve(value)
    })
  })
}

test('a rule fires once, onAlert receives it, and it can be acknowledged', async () => {
  const engine = Engine.inMemory({ tickIntervalMs: null })
  const monitor = new Monitor(engine)
  const notifications = []
  const first = nextCall((resolve) =>
    monitor.onAlert((n) => {
      notifications.push(n)
      resolve(n)
    }),
  )
  const rule = monitor.putRule(SLOW_RULE)
  assert.match(rule.id, /\S/)
  assert.deepEqual(rule.notificationChannels, ['callback'])
  assert.equal(rule.cooldown, '15m')
  assert.deepEqual(monitor.rules().map((r) => r.id), [rule.id])

  slowCalls(engine, 20, 900)
  const report = await monitor.tick()
  assert.equal(report.fired.length, 1)
  const fired = report.fired[0]
  assert.equal(fired.ruleId, rule.id)
  assert.equal(fired.status, 'firing')
  assert.equal(fired.severity, 'critical')
  assert.ok(fired.actualValue > 500, `actualValue ${fired.actualValue}`)
  assert.equal(report.rules[0].state, 'firing')

  // The callback was queued from the pool thread and runs on the JS thread.
  const notification = await first
  assert.equal(notification.kind, 'fired')
  assert.equal(notification.alert.id, fired.id)

  // Still breached: the same episode, no second alert.
  slowCalls(engine, 5, 900)
  const again = await monitor.tick()
  assert.equal(again.fired.length, 0)
  assert.equal(monitor.alerts({ modelName: 'host' }).length, 1)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(notifications.length, 1)

  assert.equal(monitor.alerts({ acknowledged: false }).length, 1)
  const acked = monitor.acknowledge(fired.id, 'alice')
  assert.equal(acked.acknowledged, true)
  assert.equal(acked.acknowledgedBy, 'alice')
  assert.equal(typeof acked.acknowledgedAt, 'number')
  assert.equal(acked.status, 'firing', 'acknowledging does not resolve')
  assert.equal(monitor.alert(fired.id).acknowledgedBy, 'alice')
  assert.deepEqual(monitor.alerts({ acknowledged: false }), [])
  assert.equal(monitor.alerts({ severity: 'critical', status: 'firing' }).length, 1)
  assert.deepEqual(monitor.alerts({ severity: 'info' }), [])
  assert.equal(monitor.ruleStatuses()[0].alertId, fired.id)
  assert.equal(monitor.lastReport().at, again.at)

  // The records reach the outbox under the original design's table names.
  const tables = new Set(engine.outbox(0, 10_000).map((e) => e.table))
  assert.ok(tables.has('AlertRule') && tables.has('AlertEvent'), [...tables].join(', '))

  monitor.deleteRule(rule.id)
  assert.deepEqual(monitor.rules(), [])
  const deleted = engine.outbox(0, 10_000).filter((e) => e.table === 'AlertRule').at(-1)
  assert.equal(deleted.record, null)
  throwsWithCode(() => monitor.deleteRule(rule.id), 'HARPER_EDGE_NOT_FOUND')
  throwsWithCode(() => monitor.acknowledge('nope', 'alice'), 'HARPER_EDGE_NOT_FOUND')
})

test('configuration layers combine, and an invalid field is named', () => {
  const engine = Engine.inMemory({ tickIntervalMs: null })
  const monitor = new Monitor(engine)
  assert.equal(monitor.config().aggregation.driftCheck, '6h')
  const err = throwsWithCode(
    () => monitor.setConfig({ aggregation: { driftCheck: '6x' } }),
    'HARPER_EDGE_INVALID_INPUT',
  )
  assert.ok(err.message.includes('aggregation.driftCheck'), err.message)
  throwsWithCode(
    () => monitor.setConfig({ aggregation: { driftChek: '6h' } }, { modelName: 'iris' }),
    'HARPER_EDGE_INVALID_INPUT',
    /driftChek/,
  )

  monitor.setConfig({ aggregation: { driftCheck: '2h' } })
  const layer = monitor.setConfig({ aggregation: { driftCheck: '30m' } }, { modelName: 'iris' })
  assert.deepEqual(layer.config, { aggregation: { driftCheck: '30m' } })
  assert.equal(layer.id, 'model:iris')
  assert.equal(monitor.config().aggregation.driftCheck, '2h')
  assert.equal(monitor.config({ modelName: 'iris' }).aggregation.driftCheck, '30m')
  assert.equal(monitor.config({ modelName: 'iris', modelVersion: '2' }).aggregation.driftCheck, '30m')
  assert.equal(monitor.config({ modelName: 'other' }).aggregation.driftCheck, '2h')
  assert.equal(monitor.configLayer({ modelName: 'iris' }).id, 'model:iris')
  assert.equal(monitor.clearConfig({ modelName: 'iris' }), true)
  assert.equal(monitor.configLayer({ modelName: 'iris' }), null)
  throwsWithCode(() => monitor.config({ modelVersion: '1' }), 'HARPER_EDGE_INVALID_INPUT', /modelName/)
})

test('a manual request is approved once: the callback gets the training job, reject then fails', async () => {
  const engine = Engine.inMemory({ tickIntervalMs: null })
  engine.recordEvent({ modelName: 'host', modelVersion: '1', latencyMs: 1 })
  await engine.registerModel({
    name: 'iris',
    version: '1',
    path: new URL('../../tests/data/iris_logreg.onnx', import.meta.url).pathname,
  })
  const monitor = new Monitor(engine, { intervalMs: 60_000, webhookTimeoutMs: 1000, webhookRetries: 0 })

  // The default safety checks need 500 labelled calls: the request is blocked.
  const blocked = monitor.requestRetraining('iris', { by: 'bob' })
  assert.equal(blocked.status, 'blocked')
  assert.ok(blocked.safetyChecks.some((c) => c.check === 'min_new_labeled_samples' && !c.passed))
  throwsWithCode(() => monitor.approve(blocked.id, 'carol'), 'HARPER_EDGE_INVALID_TRANSITION')

  monitor.setConfig({ retrainingTriggers: { minNewLabeledSamples: 0 } }, { modelName: 'iris' })
  const request = monitor.requestRetraining('iris', { by: 'bob', details: { ticket: 42 } })
  assert.equal(request.status, 'pending_approval')
  assert.equal(request.triggerReason, 'manual')
  assert.equal(request.requestedBy, 'bob')
  assert.deepEqual(request.triggerDetails, { ticket: 42 })
  assert.equal(request.modelVersion, '1')
  assert.deepEqual(
    monitor.retrainingRequests({ status: 'pending_approval' }).map((r) => r.id),
    [request.id],
  )
  assert.equal(monitor.retrainingRequests({ modelName: 'iris' }).length, 2)

  const approvedCall = nextCall((resolve) => monitor.onRetrainingApproved(resolve))
  const approved = monitor.approve(request.id, 'carol', 'drift confirmed')
  assert.equal(approved.status, 'approved')
  assert.equal(approved.reviewedBy, 'carol')
  assert.equal(approved.reviewReason, 'drift confirmed')
  assert.match(approved.trainingJobId, /\S/)
  const seen = await approvedCall
  assert.equal(seen.id, request.id)
  assert.equal(seen.trainingJobId, approved.trainingJobId)

  const err = throwsWithCode(() => monitor.reject(request.id, 'dave'), 'HARPER_EDGE_INVALID_TRANSITION')
  assert.match(err.message, /approved/)
  assert.equal(monitor.retrainingRequest(request.id).status, 'approved')
  assert.equal(monitor.complete(request.id).status, 'completed')
  throwsWithCode(() => monitor.retrainingRequest('nope'), 'HARPER_EDGE_NOT_FOUND')
  throwsWithCode(() => monitor.requestRetraining('missing'), 'HARPER_EDGE_NOT_FOUND')
})

test('start ticks on a thread of its own until stopped', async () => {
  const engine = Engine.inMemory({ tickIntervalMs: null })
  const monitor = new Monitor(engine, { intervalMs: 20 })
  const fired = nextCall((resolve) => monitor.onAlert(resolve))
  monitor.putRule(SLOW_RULE)
  slowCalls(engine, 10, 800)
  assert.equal(monitor.start(), true)
  assert.equal(monitor.start(), false, 'a second start does nothing')
  assert.equal(monitor.running, true)
  const n = await fired
  assert.equal(n.kind, 'fired')
  assert.equal(await monitor.stop(), true)
  assert.equal(monitor.running, false)
  assert.equal(await monitor.stop(), false)
  assert.ok(monitor.lastReport() !== null)
  assert.equal(await monitor.flushNotifications(100), true)
})

test('bad arguments are HARPER_EDGE_INVALID_INPUT naming the argument', async () => {
  const engine = Engine.inMemory({ tickIntervalMs: null })
  throwsWithCode(() => new Monitor({}), 'HARPER_EDGE_INVALID_INPUT', /engine must be an Engine/)
  throwsWithCode(() => new Monitor(engine, { intervalMs: 0 }), 'HARPER_EDGE_INVALID_INPUT', /intervalMs/)
  const monitor = new Monitor(engine)
  throwsWithCode(() => monitor.onAlert('nope'), 'HARPER_EDGE_INVALID_INPUT', /callback must be a function/)
  throwsWithCode(
    () => monitor.putRule({ ruleName: 'x', alertType: 'latency', condition: { metric: 'errorRate', operator: '>', threshold: 1 } }),
    'HARPER_EDGE_INVALID_INPUT',
    /condition\.metric/,
  )
  throwsWithCode(() => monitor.putRule(42), 'HARPER_EDGE_INVALID_INPUT', /rule must be/)
  throwsWithCode(() => monitor.alerts({ severity: 'loud' }), 'HARPER_EDGE_INVALID_INPUT', /query\.severity/)
  throwsWithCode(() => monitor.alerts({ status: 'open' }), 'HARPER_EDGE_INVALID_INPUT', /query\.status/)
  throwsWithCode(() => monitor.retrainingRequests({ status: 'done' }), 'HARPER_EDGE_INVALID_INPUT', /retraining status/)
  throwsWithCode(() => monitor.acknowledge(1, 'a'), 'HARPER_EDGE_INVALID_INPUT', /id must be a string/)
  await assert.rejects(monitor.flushNotifications(-1), (e) => e.code === 'HARPER_EDGE_INVALID_INPUT')
})
