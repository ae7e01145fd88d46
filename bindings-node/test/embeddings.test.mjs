// The real all-MiniLM-L6-v2 sentence encoder through the binding, on tract (the ONNX backend
// this binding builds): the MiniLM directory is fetched from the filesystem (model.onnx with
// its tokenizer.json, config.json and pooling config), and `embed` gives the vectors Python's
// onnxruntime + tokenizers gave on the same files (tests/data/minilm_reference.json).
//
// The model files come from scripts/setup_models.sh (`make node-test` runs it);
// HARPER_EDGE_MINILM_DIR points at them.
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { after, before, test } from 'node:test'

import { Engine } from '../index.js'
import { rejectsWithCode } from './helpers.mjs'

const DIM = 384
const WAIT_MS = 300_000
const MODEL_DIR = process.env.HARPER_EDGE_MINILM_DIR || join(homedir(), '.cache', 'harper-edge', 'models', 'minilm-l6')
const REFERENCE = JSON.parse(readFileSync(new URL('../../tests/data/minilm_reference.json', import.meta.url), 'utf8'))
const SENTENCES = REFERENCE.sentences

const dir = mkdtempSync(join(tmpdir(), 'harper-edge-embeddings-'))
let engine

function cosine(a, b) {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i]
    na += a[i] * a[i]
    nb += b[i] * b[i]
  }
  return dot / Math.sqrt(na * nb)
}

const row = (e, i) => e.data.subarray(i * e.dim, (i + 1) * e.dim)

// The MiniLM files; fails (does not skip) when they are missing.
function modelDir() {
  const missing = ['model.onnx', 'model_int8.onnx', 'tokenizer.json', 'config.json'].filter(
    (f) => !existsSync(join(MODEL_DIR, f)),
  )
  assert.deepEqual(
    missing,
    [],
    `MiniLM test models missing in ${MODEL_DIR}: run scripts/setup_models.sh (make node-test does)`,
  )
  return MODEL_DIR
}

before(async () => {
  const models = modelDir()
  engine = Engine.open(join(dir, 'home'), { tickIntervalMs: null })
  const source = { kind: 'fs', root: dirname(models), path: basename(models) }
  await engine.fetchModel('minilm', 'tract', source, {
    mainFile: 'model.onnx',
    metadata: { backend: 'tract', taskType: 'embedding' },
  })
  const job = await engine.waitJob('minilm:tract', { timeoutMs: WAIT_MS })
  assert.equal(job.state, 'completed', JSON.stringify(job.error))
})

after(() => {
  engine = undefined
  rmSync(dir, { recursive: true, force: true })
})

test('tract gives the Python reference vectors for the whole batch in one call', async () => {
  const e = await engine.embed('minilm:tract', SENTENCES)
  assert.ok(e.data instanceof Float32Array)
  assert.equal(e.count, 8)
  assert.equal(e.dim, DIM)
  assert.equal(e.data.length, 8 * DIM)
  assert.equal(e.modelName, 'minilm')
  assert.equal(e.modelVersion, 'tract')
  let lowest = 1
  for (let i = 0; i < SENTENCES.length; i++) {
    const v = row(e, i)
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0))
    assert.ok(Math.abs(norm - 1) < 1e-5, `row ${i} is L2-normalised, norm ${norm}`)
    const c = cosine(v, REFERENCE.fp32[i])
    assert.ok(c >= 0.9999, `tract vs Python fp32 on ${JSON.stringify(SENTENCES[i])}: cosine ${c}`)
    lowest = Math.min(lowest, c)
  }
  console.log(`tract: lowest cosine to the Python fp32 vectors ${lowest.toFixed(12)}`)
  // The same sentence twice in the batch gives the same vector twice.
  assert.equal(SENTENCES[1], SENTENCES[3])
  assert.ok(cosine(row(e, 1), row(e, 3)) > 0.999999)
  // A text alone gives the vector it got inside the padded batch.
  const alone = await engine.embed('minilm:tract', [SENTENCES[6]])
  assert.equal(alone.count, 1)
  assert.ok(cosine(alone.data, row(e, 6)) >= 0.99999)
  // The call is recorded with its texts.
  engine.flush()
  const event = engine.event(e.inferenceId)
  assert.deepEqual(event.featuresIn, { texts: SENTENCES })
})

test('an empty array and non-string texts are rejected with HARPER_EDGE_INVALID_INPUT', async () => {
  await rejectsWithCode(engine.embed('minilm:tract', []), 'HARPER_EDGE_INVALID_INPUT')
  await rejectsWithCode(engine.embed('minilm:tract', 'one text'), 'HARPER_EDGE_INVALID_INPUT', /array of strings/)
  await rejectsWithCode(engine.embed('minilm:tract', ['a', 1]), 'HARPER_EDGE_INVALID_INPUT')
  await rejectsWithCode(engine.embed('minilm:nope', ['a']), 'HARPER_EDGE_NOT_FOUND')
})

test('concurrent embeds give identical vectors', async () => {
  const runs = await Promise.all(Array.from({ length: 6 }, () => engine.embed('minilm:tract', SENTENCES)))
  const first = runs[0]
  for (const e of runs) {
    assert.equal(e.count, 8)
    assert.equal(e.dim, DIM)
    assert.deepEqual(e.data, first.data)
  }
  assert.equal(new Set(runs.map((e) => e.inferenceId)).size, runs.length, 'each call recorded on its own')
})

test('an ONNX encoder without its tokenizer.json is refused with HARPER_EDGE_MODEL_LOAD', async () => {
  const lone = join(dir, 'lone')
  mkdirSync(lone, { recursive: true })
  copyFileSync(join(modelDir(), 'model_int8.onnx'), join(lone, 'model.onnx'))
  await engine.fetchModel('bare', '1', join(lone, 'model.onnx'))
  const job = await engine.waitJob('bare:1', { timeoutMs: WAIT_MS })
  assert.equal(job.state, 'completed', JSON.stringify(job.error))
  await rejectsWithCode(engine.embed('bare:1', ['hi']), 'HARPER_EDGE_MODEL_LOAD', /no tokenizer\.json/)
})
