// Feedback, event queries and the outbox a host drains into its own tables.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { Engine, outcomeMatches } from '../index.js'
import { MODEL_PATH, REFERENCE, assertClose, irisEngine } from './helpers.mjs'

const { inputs, labels } = REFERENCE

test('events keep the original field names, newest first, and take feedback', async () => {
  const engine = await irisEngine(Engine.inMemory())
  const before = Date.now()
  const a = await engine.inferJson('iris', inputs[0], { userId: 'u1', sessionId: 's1', requestId: 'r1' })
  const b = await engine.infer('iris:1', Float32Array.from(inputs[10]))

  const events = engine.events()
  assert.deepEqual(events.map((e) => e.id), [b.inferenceId, a.inferenceId])
  const event = engine.event(a.inferenceId)
  assert.deepEqual(event, events[1])
  assert.equal(event.modelName, 'iris')
  assert.equal(event.modelVersion, '1')
  assert.equal(event.framework, 'onnx')
  assert.equal(event.userId, 'u1')
  assert.equal(event.sessionId, 's1')
  assert.equal(event.requestId, 'r1')
  assert.equal(event.featuresIn.length, 1)
  assertClose(event.featuresIn[0], inputs[0], 1e-6, 'featuresIn')
  assert.equal(event.prediction, labels[0])
  assert.equal(event.confidence, a.confidence)
  assert.equal(event.latencyMs, a.latencyMs)
  assert.ok(event.timestamp >= before && event.timestamp <= Date.now())
  assert.equal(event.error, null)
  assert.equal(event.actualOutcome, null)
  assert.equal(event.correct, null)
  assert.equal(event.feedbackTimestamp, null)

  const right = engine.feedback(a.inferenceId, labels[0])
  assert.equal(right.correct, true)
  assert.equal(right.actualOutcome, labels[0])
  assert.ok(right.feedbackTimestamp >= event.timestamp)
  const wrong = engine.feedback(b.inferenceId, { label: 'setosa' })
  assert.equal(wrong.correct, false)
  assert.deepEqual(wrong.actualOutcome, { label: 'setosa' })
  assert.deepEqual(engine.event(b.inferenceId), wrong)
  // Feedback again replaces the earlier one; 2 equals 2.0.
  assert.equal(engine.feedback(b.inferenceId, labels[10] + 0.0).correct, true)
})

test('event queries filter by model and version and honour the limit', async () => {
  const engine = await irisEngine(Engine.inMemory())
  await engine.registerModel({ name: 'iris', version: '2', path: MODEL_PATH })
  for (let i = 0; i < 3; i++) await engine.inferJson('iris:1', inputs[i])
  const latest = await engine.inferJson('iris', inputs[5])
  assert.equal(latest.modelVersion, '2', 'a bare name runs the newest version')

  assert.equal(engine.events().length, 4)
  assert.equal(engine.events({ modelName: 'iris', modelVersion: '1' }).length, 3)
  assert.deepEqual(engine.events({ modelVersion: '2', modelName: 'iris' }).map((e) => e.id), [latest.inferenceId])
  assert.equal(engine.events({ limit: 2 }).length, 2)
  assert.equal(engine.events({ modelName: 'other' }).length, 0)
  assert.equal(engine.events({ from: Date.now() + 60_000 }).length, 0)
  assert.deepEqual(engine.models().map((m) => m.id), ['iris:1', 'iris:2'])
  assert.equal(engine.model('iris').id, 'iris:2')
})

test('the outbox lists every record in write order until pruned', async () => {
  const engine = await irisEngine(Engine.inMemory())
  const p = await engine.inferJson('iris', inputs[0])
  engine.feedback(p.inferenceId, labels[0])

  const entries = engine.outbox()
  assert.deepEqual(entries.map((e) => [e.table, e.id]), [
    ['Model', 'iris:1'],
    ['InferenceEvent', p.inferenceId],
    ['InferenceEvent', p.inferenceId],
  ])
  assert.ok(entries[0].seq < entries[1].seq && entries[1].seq < entries[2].seq)
  const [model, inserted, updated] = entries
  assert.deepEqual(model.record, engine.model('iris:1'))
  assert.equal(inserted.record.correct, null)
  assert.equal(updated.record.correct, true)
  assert.deepEqual(updated.record, engine.event(p.inferenceId))
  assert.ok(typeof updated.createdAt === 'number')

  // Paging after a cursor, then pruning what was copied.
  assert.deepEqual(engine.outbox(model.seq, 1).map((e) => e.seq), [inserted.seq])
  assert.equal(engine.pruneOutbox(inserted.seq), 2)
  assert.deepEqual(engine.outbox().map((e) => e.seq), [updated.seq])
  assert.equal(engine.pruneOutbox(updated.seq), 1)
  assert.deepEqual(engine.outbox(), [])
})

test('maxEvents caps the events kept in memory', async () => {
  const engine = await irisEngine(Engine.inMemory({ maxEvents: 2 }))
  const ids = []
  for (let i = 0; i < 3; i++) ids.push((await engine.inferJson('iris', inputs[i])).inferenceId)
  assert.deepEqual(engine.events().map((e) => e.id), [ids[2], ids[1]])
})

test('outcomeMatches compares as feedback does', () => {
  assert.equal(outcomeMatches(1, 1.0), true)
  assert.equal(outcomeMatches([0, 2], [0, 1]), false)
  assert.equal(outcomeMatches({ a: [1] }, { a: [1] }), true)
  assert.equal(outcomeMatches('setosa', 0), false)
})
