// Every failure is an Error with a stable `code` and the core's message; async calls reject
// (they never throw synchronously), sync calls throw.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import { Engine } from '../index.js'
import { MODEL_PATH, irisEngine, rejectsWithCode, throwsWithCode } from './helpers.mjs'

const row = () => new Float32Array([5.1, 3.5, 1.4, 0.2])

test('an unknown model is NOT_FOUND everywhere', async () => {
  const engine = await irisEngine(Engine.inMemory())
  await rejectsWithCode(engine.infer('nope', row()), 'HARPER_EDGE_NOT_FOUND', /model 'nope' not found/)
  await rejectsWithCode(engine.inferJson('iris:2', [1, 2, 3, 4]), 'HARPER_EDGE_NOT_FOUND', /iris:2/)
  throwsWithCode(() => engine.model('nope:1'), 'HARPER_EDGE_NOT_FOUND', /nope:1/)
  throwsWithCode(() => engine.event('no-such-id'), 'HARPER_EDGE_NOT_FOUND', /no-such-id/)
  throwsWithCode(() => engine.feedback('no-such-id', 1), 'HARPER_EDGE_NOT_FOUND')
})

test('a wrong shape is SHAPE', async () => {
  const engine = await irisEngine(Engine.inMemory())
  await rejectsWithCode(engine.infer('iris', new Float32Array(5)), 'HARPER_EDGE_SHAPE', /\[\?, 4\]/)
  await rejectsWithCode(
    engine.infer('iris', new Float32Array(6), { shape: [2, 3] }),
    'HARPER_EDGE_SHAPE',
    /expected shape \[\?, 4\], got \[2, 3\]/,
  )
  await rejectsWithCode(engine.inferJson('iris', [1, 2, 3]), 'HARPER_EDGE_SHAPE')
})

test('corrupt model bytes are MODEL_LOAD, and nothing is registered', async () => {
  const engine = Engine.inMemory()
  await rejectsWithCode(
    engine.registerModel({ name: 'bad', version: '1', bytes: Buffer.from('not an onnx model') }),
    'HARPER_EDGE_MODEL_LOAD',
    /cannot load model 'bad:1'/,
  )
  assert.deepEqual(engine.models(), [])
})

test('a plain array where a Float32Array is expected is INVALID_INPUT, with a hint', async () => {
  const engine = await irisEngine(Engine.inMemory())
  const e = await rejectsWithCode(
    engine.infer('iris', [5.1, 3.5, 1.4, 0.2]),
    'HARPER_EDGE_INVALID_INPUT',
    /input must be a Float32Array, got an Array/,
  )
  assert.match(e.message, /Float32Array\.from/)
  await rejectsWithCode(
    engine.infer('iris', new Float64Array(4)),
    'HARPER_EDGE_INVALID_INPUT',
    /Float32Array/,
  )
  await rejectsWithCode(engine.infer('iris'), 'HARPER_EDGE_INVALID_INPUT', /got undefined/)
})

test('arguments of the wrong type are INVALID_INPUT, not napi errors', async () => {
  const engine = await irisEngine(Engine.inMemory())
  await rejectsWithCode(engine.infer(42, row()), 'HARPER_EDGE_INVALID_INPUT', /model must be/)
  await rejectsWithCode(engine.inferJson(undefined, [1, 2, 3, 4]), 'HARPER_EDGE_INVALID_INPUT')
  await rejectsWithCode(
    engine.infer('iris', row(), { userId: 7 }),
    'HARPER_EDGE_INVALID_INPUT',
    /options/,
  )
  await rejectsWithCode(
    engine.infer('iris', row(), { shape: [-1, 4] }),
    'HARPER_EDGE_INVALID_INPUT',
    /non-negative integer/,
  )
  await rejectsWithCode(engine.inferJson('iris', [[1, 2], [3]]), 'HARPER_EDGE_INVALID_INPUT', /ragged/)
  await rejectsWithCode(engine.inferJson('iris', ['a', 'b', 'c', 'd']), 'HARPER_EDGE_INVALID_INPUT')
  await rejectsWithCode(
    engine.infer('iris', row(), 5),
    'HARPER_EDGE_INVALID_INPUT',
    /options must be an object .*, got a number/,
  )
  await rejectsWithCode(engine.registerModel('iris'), 'HARPER_EDGE_INVALID_INPUT', /registration/)
  await rejectsWithCode(
    engine.registerModel({ name: 'x' }),
    'HARPER_EDGE_INVALID_INPUT',
    /registration is invalid: .*version/,
  )
  await rejectsWithCode(
    engine.registerModel({ name: 'x', version: '1', path: MODEL_PATH, stage: 'live' }),
    'HARPER_EDGE_INVALID_INPUT',
    /unknown stage 'live'/,
  )
  await rejectsWithCode(engine.infer('../etc', row()), 'HARPER_EDGE_INVALID_INPUT', /invalid/)
  throwsWithCode(() => engine.events({ limit: 1.5 }), 'HARPER_EDGE_INVALID_INPUT', /limit/)
  throwsWithCode(() => engine.outbox(-1), 'HARPER_EDGE_INVALID_INPUT', /after/)
  throwsWithCode(() => Engine.inMemory({ maxEvents: 0 }), 'HARPER_EDGE_INVALID_INPUT')
})

test('registration errors: missing file is IO, a different file under the same id is CONFLICT', async () => {
  const engine = await irisEngine(Engine.inMemory())
  await rejectsWithCode(
    engine.registerModel({ name: 'm', version: '1', path: '/nonexistent/model.onnx' }),
    'HARPER_EDGE_IO',
    /nonexistent/,
  )
  const bytes = readFileSync(MODEL_PATH)
  // The same file again is idempotent; other bytes under the same id conflict.
  const again = await engine.registerModel({ name: 'iris', version: '1', bytes })
  assert.equal(again.id, 'iris:1')
  const other = Buffer.concat([bytes, Buffer.from([0])])
  await rejectsWithCode(
    engine.registerModel({ name: 'iris', version: '1', bytes: other }),
    'HARPER_EDGE_CONFLICT',
    /already exists/,
  )
})

test('feedback on a failed call is INVALID_INPUT', async () => {
  const engine = await irisEngine(Engine.inMemory())
  await assert.rejects(engine.inferJson('iris', [1, 2, 3]))
  const [failed] = engine.events()
  assert.match(failed.error, /expected shape/)
  assert.equal(failed.prediction, null)
  throwsWithCode(() => engine.feedback(failed.id, 0), 'HARPER_EDGE_INVALID_INPUT', /failed/)
  throwsWithCode(() => engine.feedback(failed.id, null), 'HARPER_EDGE_INVALID_INPUT', /null/)
})
