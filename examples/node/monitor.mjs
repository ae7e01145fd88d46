// Monitoring: an alert rule on a model's latency, the alert it raises, and a retraining request
// through its safety checks and a human approval.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'

import { Engine, Monitor } from 'harper-edge'

const engine = Engine.inMemory()
await engine.registerModel({
  name: 'iris',
  version: '1',
  path: fileURLToPath(new URL('../../tests/data/iris_logreg.onnx', import.meta.url)),
})
const monitor = new Monitor(engine, { intervalMs: 10_000 })

// Callbacks run on the JS thread; the tick that raises the alert only queues them.
const alerted = new Promise((resolve) => monitor.onAlert(resolve))
monitor.onRetrainingApproved((r) => console.log(`start training job ${r.trainingJobId} for ${r.modelName}:${r.modelVersion}`))

const rule = monitor.putRule({
  ruleName: 'iris is slow',
  modelName: 'iris',
  alertType: 'latency',
  severity: 'critical',
  condition: { metric: 'p95Latency', operator: '>', threshold: 250 },
  // notificationChannels: ['callback', 'https://hooks.example.com/alerts'] for a webhook too
})

// Calls of a model the host runs elsewhere would be recorded the same way; here, slow ones.
for (let i = 0; i < 50; i++) {
  engine.recordEvent({ modelName: 'iris', modelVersion: '1', latencyMs: i < 5 ? 40 : 400 })
}

const report = await monitor.tick() // or monitor.start() for a thread ticking every intervalMs
const { kind, alert } = await alerted
console.log(`${kind}: ${alert.message}`)
assert.equal(report.fired[0].ruleId, rule.id)
console.log('acknowledged by', monitor.acknowledge(alert.id, 'on-call').acknowledgedBy)

// Retraining needs 500 new labelled calls by default: lower it for this model, then ask.
monitor.setConfig({ retrainingTriggers: { minNewLabeledSamples: 0 } }, { modelName: 'iris' })
const request = monitor.requestRetraining('iris', { by: 'data-team', details: { reason: 'slow' } })
assert.equal(request.status, 'pending_approval')
const approved = monitor.approve(request.id, 'lead', 'looks right')
console.log(`${approved.id}: ${approved.status}, job ${approved.trainingJobId}`)
try {
  monitor.reject(request.id, 'lead')
} catch (e) {
  console.log(`reject after approve: ${e.code}`) // HARPER_EDGE_INVALID_TRANSITION
}
await new Promise((resolve) => setImmediate(resolve)) // let the approval callback run
