// Model fetching through the binding, against real loopback servers (plain HTTP and a
// Hub-layout one): fetch jobs with progress, failures with their error codes, the registry's
// listing and removal, inspection and profiles. No request leaves 127.0.0.1.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { Engine, inspectSource, validateProfile } from '../index.js'
import { MODEL_PATH, REFERENCE, assertClose, rejectsWithCode, throwsWithCode } from './helpers.mjs'

const MODEL = readFileSync(MODEL_PATH)
const SHA256 = createHash('sha256').update(MODEL).digest('hex')
const COMMIT = 'a'.repeat(40)
const ETAG = '"iris-etag-1"'

const dir = mkdtempSync(join(tmpdir(), 'harper-edge-fetch-'))
// The Hub source must find no token and no cache of the user's.
process.env.HF_HOME = join(dir, 'hf-home')
process.env.HF_HUB_CACHE = join(dir, 'hf-cache')
delete process.env.HF_TOKEN
delete process.env.HF_ENDPOINT

let server
let base
const requests = []

function send(res, status, body, headers = {}) {
  res.writeHead(status, headers)
  res.end(body)
}

// Sends `bytes` in `chunks` pieces `delayMs` apart, so that a download takes a while.
async function slowly(res, bytes, chunks, delayMs) {
  res.writeHead(200, { 'Content-Length': bytes.length, 'Content-Type': 'application/octet-stream', ETag: ETAG })
  const size = Math.ceil(bytes.length / chunks)
  for (let at = 0; at < bytes.length; at += size) {
    res.write(bytes.subarray(at, at + size))
    await new Promise((resolve) => setTimeout(resolve, delayMs))
  }
  res.end()
}

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1')
    requests.push(`${req.method} ${url.pathname}${url.search}`)
    const hubInfo = url.pathname.match(/^\/hub\/api\/models\/([^/]+)\/([^/]+)\/revision\/([^/]+)$/)
    const hubFile = url.pathname.match(/^\/hub\/([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/)
    if (url.pathname === '/iris.onnx') {
      if (req.method === 'HEAD') return send(res, 200, undefined, { 'Content-Length': MODEL.length, ETag: ETAG })
      return send(res, 200, MODEL, { 'Content-Length': MODEL.length, ETag: ETAG })
    }
    if (url.pathname === '/slow/iris.onnx') return slowly(res, MODEL, 6, 120)
    if (hubInfo && hubInfo[1] === 'acme' && hubInfo[2] === 'iris') {
      assert.equal(url.searchParams.get('blobs'), 'true')
      return send(
        res,
        200,
        JSON.stringify({
          sha: COMMIT,
          siblings: [
            { rfilename: 'README.md', size: 5 },
            { rfilename: 'config.json', size: 2 },
            { rfilename: 'onnx/model.onnx', size: MODEL.length },
          ],
        }),
        { 'Content-Type': 'application/json' },
      )
    }
    if (hubFile && hubFile[3] === COMMIT) {
      const files = { 'config.json': Buffer.from('{}'), 'onnx/model.onnx': MODEL, 'README.md': Buffer.from('iris\n') }
      const body = files[hubFile[4]]
      if (body) {
        if (req.method === 'HEAD') return send(res, 200, undefined, { 'Content-Length': body.length, ETag: '"x"' })
        return send(res, 200, body, { 'Content-Length': body.length, ETag: `"${hubFile[4]}"` })
      }
    }
    send(res, 404, 'not found')
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
})

after(async () => {
  await new Promise((resolve) => server.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

const QUICK = { retries: 0, connectTimeoutMs: 5000, readTimeoutMs: 5000, progressIntervalMs: 0 }

test('a model fetched by URL is registered with its provenance and runs', async () => {
  const engine = Engine.open(join(dir, 'http'))
  const queued = await engine.fetchModel('iris', '1', `${base}/iris.onnx`, {
    metadata: { taskType: 'classification' },
    variant: 'default',
    fetch: QUICK,
  })
  assert.equal(queued.id, 'iris:1')
  assert.ok(['queued', 'downloading', 'verifying', 'completed'].includes(queued.state), queued.state)
  assert.deepEqual(queued.source, { kind: 'http', url: `${base}/iris.onnx` })

  const job = await engine.waitJob('iris:1', { timeoutMs: 30_000 })
  assert.equal(job.state, 'completed', JSON.stringify(job.error))
  assert.equal(job.percent, 100)
  assert.equal(job.bytesDone, MODEL.length)
  assert.equal(job.result.modelId, 'iris:1')
  assert.equal(job.result.files[0].sha256, SHA256)

  const [model] = engine.listModels({ name: 'iris' })
  assert.equal(model.id, 'iris:1')
  assert.equal(model.sha256, SHA256)
  assert.equal(model.provenance.source, 'http')
  assert.equal(model.provenance.sha256, SHA256)
  assert.equal(model.provenance.size, MODEL.length)
  assert.equal(model.provenance.reference, `${base}/iris.onnx`)
  assert.equal(model.provenance.revision, ETAG)
  assert.equal(model.provenance.variant, 'default')
  assert.equal(model.files.length, 1)
  assert.equal(model.metadata.taskType, 'classification')

  const p = await engine.inferJson('iris:1', REFERENCE.inputs[0])
  assertClose(p.outputs.probabilities.data, REFERENCE.probabilities[0], REFERENCE.tolerance, 'fetched iris')

  // The same request again returns the job; another source for the same version conflicts.
  assert.equal((await engine.fetchModel('iris', '1', `${base}/iris.onnx`)).state, 'completed')
  await rejectsWithCode(engine.fetchModel('iris', '1', `${base}/other.onnx`), 'HARPER_EDGE_CONFLICT')
  assert.equal(engine.fetchJob('iris:1').state, 'completed')
})

test('onProgress sees the download advance', async () => {
  const engine = Engine.open(join(dir, 'progress'))
  await engine.fetchModel('iris', 'slow', `${base}/slow/iris.onnx`, { fetch: QUICK })
  const seen = []
  const job = await engine.waitJob('iris:slow', { timeoutMs: 30_000, onProgress: (j) => seen.push(j) })
  // Queued calls run before the next macrotask.
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(job.state, 'completed', JSON.stringify(job.error))
  const done = seen.map((j) => j.bytesDone)
  assert.ok(seen.length >= 3, `progress calls: ${JSON.stringify(seen.map((j) => [j.state, j.bytesDone]))}`)
  assert.ok(done.some((d) => d > 0 && d < MODEL.length), `a partial download was seen: ${done}`)
  for (let i = 1; i < done.length; i++) {
    if (seen[i].state === seen[i - 1].state) assert.ok(done[i] >= done[i - 1], `bytesDone never goes back: ${done}`)
  }
  assert.equal(seen.at(-1).state, 'completed')
  assert.equal(seen.at(-1).bytesDone, MODEL.length)
})

test('a 404 fails the job and rejects waitJob with HARPER_EDGE_NOT_FOUND', async () => {
  const engine = Engine.open(join(dir, 'missing'))
  await engine.fetchModel('ghost', '1', `${base}/missing.onnx`, { fetch: QUICK })
  const error = await rejectsWithCode(engine.waitJob('ghost:1', { timeoutMs: 30_000 }), 'HARPER_EDGE_NOT_FOUND')
  assert.equal(error.job.state, 'failed')
  assert.equal(error.job.error.code, 'HARPER_EDGE_NOT_FOUND')
  assert.match(error.message, /missing.onnx/)
  assert.equal(engine.fetchJob('ghost:1').state, 'failed')
  assert.deepEqual(
    engine.fetchJobs({ state: 'failed' }).map((j) => j.id),
    ['ghost:1'],
  )
  assert.deepEqual(engine.listModels(), [])

  // Retry queues it again (it fails again: the file is still missing); cancel of an ended job
  // is an invalid transition.
  assert.equal(engine.retryJob('ghost:1').state, 'queued')
  await rejectsWithCode(engine.waitJob('ghost:1'), 'HARPER_EDGE_NOT_FOUND')
  throwsWithCode(() => engine.cancelJob('ghost:1'), 'HARPER_EDGE_INVALID_TRANSITION')
  throwsWithCode(() => engine.fetchJob('nope:1'), 'HARPER_EDGE_NOT_FOUND')
  await rejectsWithCode(engine.waitJob('nope:1'), 'HARPER_EDGE_NOT_FOUND')
  throwsWithCode(() => engine.fetchJobs({ state: 'sleeping' }), 'HARPER_EDGE_INVALID_INPUT', /state/)
})

test('a slow job can be cancelled', async () => {
  const engine = Engine.open(join(dir, 'cancel'))
  await engine.fetchModel('iris', 'c', `${base}/slow/iris.onnx`, { fetch: QUICK })
  const cancelled = engine.cancelJob('iris:c')
  assert.equal(cancelled.state, 'cancelled')
  assert.equal((await engine.waitJob('iris:c')).state, 'cancelled')
  assert.deepEqual(engine.listModels(), [])
})

test('a filesystem source, listModels filters and removeModel', async () => {
  const engine = Engine.open(join(dir, 'fs'))
  const src = join(dir, 'src')
  mkdirSync(src, { recursive: true })
  copyFileSync(MODEL_PATH, join(src, 'iris.onnx'))
  await engine.fetchModel('iris', 'fs', join(src, 'iris.onnx'), { stage: 'production', metadata: { taskType: 'classification' } })
  const job = await engine.waitJob('iris:fs', { timeoutMs: 30_000 })
  assert.equal(job.state, 'completed', JSON.stringify(job.error))
  await engine.fetchModel('flower', '2', { kind: 'fs', root: src, path: 'iris.onnx' }, { metadata: { taskType: 'tabular' } })
  assert.equal((await engine.waitJob('flower:2')).state, 'completed')

  const fs = engine.model('iris:fs')
  assert.equal(fs.provenance.source, 'fs')
  assert.equal(fs.provenance.revision, null)
  assert.equal(fs.sha256, SHA256)

  const ids = (filter) => engine.listModels(filter).map((m) => m.id)
  assert.deepEqual(ids(), ['iris:fs', 'flower:2'])
  assert.deepEqual(ids({ stage: 'production' }), ['iris:fs'])
  assert.deepEqual(ids({ taskType: 'tabular' }), ['flower:2'])
  assert.deepEqual(ids({ framework: 'onnx', name: 'flower' }), ['flower:2'])
  assert.deepEqual(ids({ framework: 'transformers' }), [])
  throwsWithCode(() => engine.listModels({ stage: 'nowhere' }), 'HARPER_EDGE_INVALID_INPUT')

  throwsWithCode(() => engine.removeModel('flower'), 'HARPER_EDGE_INVALID_INPUT', /version/)
  const removed = engine.removeModel('flower:2')
  assert.equal(removed.id, 'flower:2')
  assert.deepEqual(ids(), ['iris:fs'])
  throwsWithCode(() => engine.fetchJob('flower:2'), 'HARPER_EDGE_NOT_FOUND')
  throwsWithCode(() => engine.removeModel('flower:2'), 'HARPER_EDGE_NOT_FOUND')
  // The file is still used by iris:fs, which still runs.
  await engine.inferJson('iris:fs', REFERENCE.inputs[1])
})

test('a Hub-layout source records the commit the branch resolved to', async () => {
  const engine = Engine.open(join(dir, 'hub'))
  const source = { kind: 'hf', repo: 'acme/iris', revision: 'main', endpoint: `${base}/hub` }

  const found = await inspectSource(source)
  assert.equal(found.source, 'hf')
  assert.equal(found.revision, COMMIT)
  assert.equal(found.modelFile, 'onnx/model.onnx')
  assert.equal(found.framework, 'onnx')
  assert.equal(found.suggestedName, 'iris')
  assert.equal(found.fromCache, false)
  const selected = found.files.filter((f) => f.selected).map((f) => f.name)
  assert.ok(selected.includes('onnx/model.onnx'), JSON.stringify(found.files))
  assert.ok(!selected.includes('README.md'))

  await engine.fetchModel('iris', 'hub', source, { metadata: { taskType: 'classification' }, fetch: QUICK })
  const job = await engine.waitJob('iris:hub', { timeoutMs: 30_000 })
  assert.equal(job.state, 'completed', JSON.stringify(job.error))
  const model = engine.model('iris:hub')
  assert.equal(model.provenance.source, 'hf')
  assert.equal(model.provenance.revision, COMMIT)
  assert.equal(model.provenance.reference, 'acme/iris/onnx/model.onnx')
  assert.equal(model.sha256, SHA256)
  assert.deepEqual(model.files.map((f) => f.name).sort(), ['config.json', 'onnx/model.onnx'])
  assert.ok(requests.some((r) => r.startsWith(`GET /hub/acme/iris/resolve/${COMMIT}/onnx/model.onnx`)), requests.join('\n'))
  await engine.inferJson('iris:hub', REFERENCE.inputs[2])

  // files/revision options apply to Hub sources only.
  await rejectsWithCode(inspectSource(`${base}/iris.onnx`, { revision: 'main' }), 'HARPER_EDGE_INVALID_INPUT')
  await rejectsWithCode(
    inspectSource({ kind: 'hf', repo: 'acme/none', endpoint: `${base}/hub` }),
    'HARPER_EDGE_NOT_FOUND',
  )
})

test('inspectSource of a URL and a directory', async () => {
  const url = await inspectSource(`${base}/iris.onnx`)
  assert.equal(url.source, 'http')
  assert.equal(url.revision, ETAG)
  assert.equal(url.framework, 'onnx')
  const src = join(dir, 'inspect-dir')
  mkdirSync(src, { recursive: true })
  copyFileSync(MODEL_PATH, join(src, 'model.onnx'))
  const local = await inspectSource(src)
  assert.equal(local.source, 'fs')
  assert.equal(local.modelFile, 'model.onnx')
  assert.equal(local.downloadBytes, MODEL.length)
  await rejectsWithCode(inspectSource(42), 'HARPER_EDGE_INVALID_INPUT', /source/)
})

test('deployProfile registers once, then reports already_registered', async () => {
  const engine = Engine.open(join(dir, 'profile'))
  const profileDir = join(dir, 'profiles')
  mkdirSync(profileDir, { recursive: true })
  const path = join(profileDir, 'minimal.json')
  writeFileSync(
    path,
    JSON.stringify({
      name: 'minimal',
      models: [
        {
          modelName: 'iris',
          modelVersion: 'v1',
          framework: 'onnx',
          stage: 'candidate',
          metadata: { taskType: 'classification' },
          modelBlob: { source: 'filesystem', path: MODEL_PATH },
        },
        {
          modelName: 'iris-url',
          modelVersion: 'v1',
          framework: 'onnx',
          metadata: { taskType: 'classification' },
          modelBlob: { source: 'url', url: `${base}/iris.onnx`, sha256: SHA256 },
        },
      ],
    }),
  )
  assert.equal(validateProfile(path).valid, true)
  const dry = await engine.deployProfile(path, { dryRun: true })
  assert.deepEqual(dry.models.map((m) => m.action), ['would_register', 'would_register'])

  const seen = []
  const first = await engine.deployProfile(path, { timeoutMs: 60_000, onProgress: (j) => seen.push(j.id) })
  assert.equal(first.profile, 'minimal')
  assert.deepEqual(
    first.models.map((m) => [m.modelId, m.action]),
    [
      ['iris:v1', 'registered'],
      ['iris-url:v1', 'registered'],
    ],
    JSON.stringify(first.models),
  )
  assert.equal(first.models[0].bytes, MODEL.length)
  await new Promise((resolve) => setImmediate(resolve))
  assert.ok(seen.includes('iris:v1') && seen.includes('iris-url:v1'), `progress: ${seen}`)

  const second = await engine.deployProfile(path)
  assert.deepEqual(second.models.map((m) => m.action), ['already_registered', 'already_registered'])
  await engine.inferJson('iris-url:v1', REFERENCE.inputs[3])
})

test('a posted profile is confined to the deploy root', async () => {
  const engine = Engine.open(join(dir, 'confined'))
  const root = join(dir, 'models-root')
  mkdirSync(root, { recursive: true })
  copyFileSync(MODEL_PATH, join(root, 'iris.onnx'))
  const profile = {
    name: 'posted',
    models: [
      { modelName: 'inside', modelVersion: '1', framework: 'onnx', modelBlob: { source: 'filesystem', path: 'iris.onnx' } },
      { modelName: 'outside', modelVersion: '1', framework: 'onnx', modelBlob: { source: 'filesystem', path: '../../../../../../etc/passwd' } },
    ],
  }
  const report = await engine.deployProfile(profile, { root })
  assert.equal(report.models[0].action, 'registered', JSON.stringify(report.models[0]))
  assert.equal(report.models[1].action, 'failed')
  assert.match(report.models[1].error.message, /outside the deploy root/)
  assert.deepEqual(engine.listModels().map((m) => m.id), ['inside:1'])
})

test('validateProfile names the model and field at fault', async () => {
  const bad = {
    name: 'bad',
    models: [{ modelName: 'broken', modelVersion: '1', framework: 'onnx', modelBlob: { source: 'filesystem' } }],
  }
  const checked = validateProfile(bad)
  assert.equal(checked.valid, false)
  assert.deepEqual(checked.models, [])
  assert.equal(checked.problems.length, 1)
  assert.equal(checked.problems[0].model, 'broken')
  assert.equal(checked.problems[0].field, 'models[0].modelBlob.path')

  const path = join(dir, 'bad.json')
  writeFileSync(path, JSON.stringify(bad))
  assert.equal(validateProfile(path).problems[0].field, 'models[0].modelBlob.path')
  throwsWithCode(() => validateProfile(join(dir, 'none.json')), 'HARPER_EDGE_IO')
  writeFileSync(join(dir, 'junk.json'), '{ not json')
  throwsWithCode(() => validateProfile(join(dir, 'junk.json')), 'HARPER_EDGE_INVALID_INPUT', /JSON/)

  const engine = Engine.open(join(dir, 'bad-profile'))
  await rejectsWithCode(
    engine.deployProfile(bad),
    'HARPER_EDGE_INVALID_INPUT',
    /model 'broken', field models\[0\]\.modelBlob\.path/,
  )
})

test('an in-memory engine fetches only with a data directory', async () => {
  await rejectsWithCode(
    Engine.inMemory().fetchModel('iris', '1', `${base}/iris.onnx`),
    'HARPER_EDGE_INVALID_INPUT',
    /data directory/,
  )
  const engine = Engine.inMemory({ dataDir: join(dir, 'memory'), tickIntervalMs: null })
  await engine.fetchModel('iris', 'm', `${base}/iris.onnx`, { fetch: QUICK })
  assert.equal((await engine.waitJob('iris:m')).state, 'completed')
  const tables = new Set(engine.outbox().map((e) => e.table))
  assert.ok(tables.has('FetchJob') && tables.has('Model'), [...tables].join())
  await rejectsWithCode(engine.fetchModel('iris', 'x', '  '), 'HARPER_EDGE_INVALID_INPUT')
  await rejectsWithCode(engine.fetchModel('iris', 'x', { kind: 'gopher' }), 'HARPER_EDGE_INVALID_INPUT', /source/)
})
