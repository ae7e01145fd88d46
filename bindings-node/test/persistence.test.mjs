// The SQLite store keeps models and events across engines (and processes).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

import { Engine } from '../index.js'
import { REFERENCE, irisEngine } from './helpers.mjs'

const home = mkdtempSync(join(tmpdir(), 'harper-edge-node-'))
after(() => rmSync(home, { recursive: true, force: true }))

test('models, events and feedback survive reopening the store', async () => {
  const first = await irisEngine(Engine.open(home))
  const p = await first.inferJson('iris:1', REFERENCE.inputs[12], { userId: 'u' })
  first.feedback(p.inferenceId, REFERENCE.labels[12])
  assert.deepEqual(first.outbox(), [], 'the SQLite outbox is off unless asked for')

  const second = Engine.open(home)
  assert.deepEqual(second.models(), first.models())
  const event = second.event(p.inferenceId)
  assert.equal(event.correct, true)
  assert.equal(event.userId, 'u')
  // The model file was stored too: the second engine loads and runs it.
  const q = await second.inferJson('iris', REFERENCE.inputs[0])
  assert.equal(q.prediction, REFERENCE.labels[0])
  // An engine buffers its events and writes them when it ticks (every second) or flushes;
  // another engine sees them from then on.
  second.tick()
  assert.deepEqual(first.events().map((e) => e.id), [q.inferenceId, p.inferenceId])
})

test('the outbox can be turned on for a SQLite store', async () => {
  const engine = Engine.open(join(home, 'with-outbox'), { outbox: true })
  await irisEngine(engine)
  const p = await engine.inferJson('iris', REFERENCE.inputs[0])
  engine.tick() // writes the buffered event (the background ticker would, within a second)
  assert.deepEqual(engine.outbox().map((e) => e.id), ['iris:1', p.inferenceId])
})
