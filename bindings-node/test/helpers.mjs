// Shared fixtures of the binding tests: the committed iris model and its reference outputs.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const MODEL_PATH = fileURLToPath(new URL('../../tests/data/iris_logreg.onnx', import.meta.url))
export const REFERENCE = JSON.parse(
  readFileSync(new URL('../../tests/data/iris_logreg.reference.json', import.meta.url), 'utf8'),
)

export async function irisEngine(engine) {
  await engine.registerModel({ name: 'iris', version: '1', path: MODEL_PATH })
  return engine
}

export function assertClose(actual, expected, tolerance, what) {
  assert.equal(actual.length, expected.length, `${what}: length`)
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tolerance,
      `${what}[${i}]: ${actual[i]} differs from ${expected[i]} by more than ${tolerance}`,
    )
  }
}

// Checks that `promise` rejects (not throws synchronously: the caller already has a Promise)
// with an Error carrying `code`, and returns the error.
export async function rejectsWithCode(promise, code, messagePart) {
  assert.ok(promise instanceof Promise, 'an async call returns a Promise even for bad arguments')
  let error
  await assert.rejects(promise, (e) => {
    error = e
    return true
  })
  assertError(error, code, messagePart)
  return error
}

export function throwsWithCode(fn, code, messagePart) {
  let error
  assert.throws(fn, (e) => {
    error = e
    return true
  })
  assertError(error, code, messagePart)
  return error
}

function assertError(error, code, messagePart) {
  assert.ok(error instanceof Error, `expected an Error, got ${error}`)
  assert.equal(error.code, code, `code of "${error.message}"`)
  if (messagePart) assert.match(error.message, messagePart)
}

// The ONNX Runtime of the onnxruntime-node dev dependency, for models on the `ort` backend
// (call before the first one loads; the process keeps one runtime). Returns its path.
export async function useNodeOrt() {
  const { createRequire } = await import('node:module')
  const { dirname } = await import('node:path')
  const { useOnnxruntimeNode } = await import('../index.js')
  const require = createRequire(import.meta.url)
  return useOnnxruntimeNode(dirname(require.resolve('onnxruntime-node/package.json')))
}
