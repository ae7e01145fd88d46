// The ONNX Runtime backend from Node, on the runtime the onnxruntime-node npm package ships
// (a dev dependency, installed with ONNXRUNTIME_NODE_INSTALL=skip): the iris classifier gives
// the reference outputs, and the real all-MiniLM-L6-v2 gives Python's vectors
// (tests/data/minilm_reference.json), as on tract.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { after, before, test } from 'node:test'

import { Engine, ortLibraryPath, setOrtLibraryPath, useOnnxruntimeNode } from '../index.js'
import { MODEL_PATH, REFERENCE, assertClose, throwsWithCode, useNodeOrt } from './helpers.mjs'

const MODEL_DIR = process.env.HARPER_EDGE_MINILM_DIR || join(homedir(), '.cache', 'harper-edge', 'models', 'minilm-l6')
const MINILM = JSON.parse(readFileSync(new URL('../../tests/data/minilm_reference.json', import.meta.url), 'utf8'))
const dir = mkdtempSync(join(tmpdir(), 'harper-edge-ort-'))
let engine
let library

before(async () => {
  library = await useNodeOrt()
  engine = Engine.open(join(dir, 'home'), { tickIntervalMs: null })
})

after(() => {
  engine = undefined
  rmSync(dir, { recursive: true, force: true })
})

test('the runtime is the one onnxruntime-node ships', () => {
  assert.match(library, /onnxruntime-node\/bin\/napi-v\d+\/linux\/x64\/libonnxruntime\.so\.1(\.\d+)*$/)
  assert.equal(ortLibraryPath(), library)
  // The process keeps one runtime: the same again is fine, another is refused.
  assert.equal(setOrtLibraryPath('/elsewhere/libonnxruntime.so'), false)
  const again = useOnnxruntimeNode(dirname(dirname(dirname(dirname(dirname(library))))))
  assert.equal(again, library)
  throwsWithCode(() => useOnnxruntimeNode(tmpdir()), 'HARPER_EDGE_BACKEND', /holds no ONNX Runtime library/)
})

test('iris on ort gives the reference outputs', async () => {
  await engine.registerModel({ name: 'iris', version: 'ort', path: MODEL_PATH, metadata: { backend: 'ort' } })
  const rows = REFERENCE.inputs
  const p = await engine.infer('iris:ort', Float32Array.from(rows.flat()), { shape: [rows.length, 4] })
  assert.deepEqual(Array.from(p.outputs.label.data, Number), REFERENCE.labels)
  assertClose(p.outputs.probabilities.data, REFERENCE.probabilities.flat(), 1e-5, 'probabilities')
})

test('MiniLM on ort gives the Python vectors', async () => {
  for (const f of ['model.onnx', 'tokenizer.json', 'config.json']) {
    assert.ok(existsSync(join(MODEL_DIR, f)), `${join(MODEL_DIR, f)} missing: run scripts/setup_models.sh`)
  }
  const job = await engine.fetchModel('minilm', 'ort', { kind: 'fs', root: dirname(MODEL_DIR), path: basename(MODEL_DIR) }, {
    mainFile: 'model.onnx',
    metadata: { backend: 'ort' },
  })
  const done = await engine.waitJob(job.id, { timeoutMs: 300_000 })
  assert.equal(done.state, 'completed')
  const e = await engine.embed('minilm:ort', MINILM.sentences)
  assert.equal(e.dim, 384)
  for (let i = 0; i < MINILM.sentences.length; i++) {
    const got = e.data.subarray(i * 384, (i + 1) * 384)
    const want = MINILM.fp32[i]
    let dot = 0
    let na = 0
    let nb = 0
    for (let j = 0; j < 384; j++) {
      dot += got[j] * want[j]
      na += got[j] * got[j]
      nb += want[j] * want[j]
    }
    const cos = dot / Math.sqrt(na * nb)
    assert.ok(cos >= 0.9999, `sentence ${i}: cosine ${cos}`)
  }
})
