// Register a model, run it, record the ground truth, read the telemetry.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { Engine } from 'harper-edge'

const engine = Engine.inMemory() // or Engine.open(dir): SQLite, persistent
const path = fileURLToPath(new URL('../../tests/data/iris_logreg.onnx', import.meta.url))
const model = await engine.registerModel({ name: 'iris', version: '1', path })
assert.deepEqual(model.inputSchema[0].shape, [null, 4])

// A Float32Array is read in place, on the libuv pool; the batch size comes from its length.
const p = await engine.infer('iris:1', new Float32Array([6.7, 3.0, 5.2, 2.3]))
assert.equal(p.prediction, 2) // virginica
console.log(`class ${p.prediction} (p=${p.confidence.toFixed(3)}) in ${p.latencyMs.toFixed(3)} ms`)

// JSON features, as an HTTP endpoint receives them; errors carry a stable code.
const q = await engine.inferJson('iris', [5.1, 3.5, 1.4, 0.2], { userId: 'u1' })
assert.equal(q.prediction, 0) // setosa
await assert.rejects(engine.inferJson('iris', [1, 2, 3]), { code: 'HARPER_EDGE_SHAPE' })

// The ground truth arrives later; the event records whether the prediction was right.
const event = engine.feedback(p.inferenceId, 2)
assert.equal(event.correct, true)

const events = engine.events({ modelName: 'iris' }) // newest first, failed call included
assert.deepEqual(events.map((e) => e.error === null), [false, true, true])
assert.equal(events[1].userId, 'u1')
console.log(`${events.length} events, ${events.filter((e) => e.correct).length} confirmed correct`)
