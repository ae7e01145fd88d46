// Starts HarperDB from node_modules with this component, isolated in a temporary directory and
// bound to 127.0.0.1 only, and talks to it over real HTTP. No request leaves 127.0.0.1.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { Engine } from 'harper-edge'

const HOST = '127.0.0.1'
const HTTP_PORT = 19926
const OPERATIONS_PORT = 19925
const BASE = `http://${HOST}:${HTTP_PORT}`
const START_TIMEOUT_MS = 90_000
const STOP_TIMEOUT_MS = 15_000

const componentDir = fileURLToPath(new URL('..', import.meta.url))
const harperBin = fileURLToPath(new URL('../node_modules/harperdb/bin/harperdb.js', import.meta.url))
const dataDir = new URL('../../../tests/data/', import.meta.url)
const REFERENCE = JSON.parse(readFileSync(new URL('iris_logreg.reference.json', dataDir), 'utf8'))
const MODEL_BYTES = readFileSync(new URL('iris_logreg.onnx', dataDir))
const FOREST_BYTES = readFileSync(new URL('sklearn_forest_classifier.onnx', dataDir))

const METRICS_FIELDS = [
  'avgLatency',
  'errorCount',
  'errorRate',
  'granularity',
  'id',
  'latencySketch',
  'maxLatency',
  'modelName',
  'modelVersion',
  'p50Latency',
  'p95Latency',
  'p99Latency',
  'periodEnd',
  'periodStart',
  'requestCount',
  'throughputPerSecond',
]
const HOUR = 3_600_000
// The component ticks this often in the test, writing open periods too (HARPER_EDGE_TICK_FLUSH).
const TICK_MS = 100
// The component's engine settings in the test (HARPER_EDGE_EVENT_CAPACITY, a multiple of every
// shard count, so it is the capacity exactly).
const EVENT_CAPACITY = 4096
// The component's monitor scheduler ticks this often in the test (HARPER_EDGE_MONITOR_MS).
const MONITOR_MS = 200

const EVENT_FIELDS = [
  'actualOutcome',
  'confidence',
  'correct',
  'error',
  'featuresIn',
  'feedbackTimestamp',
  'framework',
  'id',
  'latencyMs',
  'modelName',
  'modelVersion',
  'prediction',
  'requestId',
  'sessionId',
  'timestamp',
  'userId',
]

let harper
let exited
let modelServer
let modelBase
let home
let failed = false
const logLines = []

// HarperDB stores a double as a float32 when a float32 prints to the same short decimal
// (msgpackr's "decimal fit"), which can drop the last digit: 0.22251700000000002 reads back as
// 0.222517. Records read back from Harper tables are therefore compared with numbers equal to
// within 1e-6 relative; everything else must be identical.
function assertSameRecord(actual, expected, message) {
  const close = (a, b, path) => {
    if (typeof a === 'number' && typeof b === 'number') {
      assert.ok(a === b || Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b)), `${message ?? ''} ${path}: ${a} vs ${b}`)
    } else if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
      assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${message ?? ''} ${path}: keys`)
      for (const k of Object.keys(b)) close(a[k], b[k], `${path}.${k}`)
    } else {
      assert.deepEqual(a, b, `${message ?? ''} ${path}`)
    }
  }
  close(actual, expected, '')
}

function record(chunk) {
  logLines.push(...chunk.toString().split('\n'))
  if (logLines.length > 400) logLines.splice(0, logLines.length - 400)
}

function logTail(n = 60) {
  return logLines.slice(-n).join('\n')
}

// A test whose failure prints the end of Harper's log.
function harperTest(name, fn) {
  test(name, async (t) => {
    try {
      await fn(t)
    } catch (e) {
      failed = true
      throw e
    }
  })
}

function portAnswers(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port })
    socket.once('connect', () => socket.destroy() || resolve(true))
    socket.once('error', () => resolve(false))
  })
}

async function request(method, path, body) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  })
  const text = await response.text()
  let json
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = text
  }
  return { status: response.status, body: json }
}

const post = (path, body) => request('POST', path, body)
const get = (path) => request('GET', path)

// Retries `check` (which throws while its condition does not hold) until it returns, for what
// the component writes to its tables on its next tick; the last failure is rethrown.
async function eventually(check, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs
  while (true) {
    try {
      return await check()
    } catch (e) {
      if (performance.now() > deadline) throw e
      await new Promise((resolve) => setTimeout(resolve, TICK_MS))
    }
  }
}

const sum = (rows, key) => rows.reduce((total, row) => total + row[key], 0)

before(async () => {
  for (const port of [HTTP_PORT, OPERATIONS_PORT]) {
    assert.equal(await portAnswers(port), false, `port ${port} on ${HOST} is already in use`)
  }
  home = mkdtempSync(join(tmpdir(), 'harper-edge-component-'))
  mkdirSync(join(home, 'home'))
  const env = {
    ...process.env,
    HOME: join(home, 'home'),
    ROOTPATH: join(home, 'hdb-root'),
    TC_AGREEMENT: 'yes',
    HDB_ADMIN_USERNAME: 'admin',
    HDB_ADMIN_PASSWORD: 'integration-test-password',
    // Without these two the installer prompts and exits.
    DEFAULTS_MODE: 'dev',
    REPLICATION_HOSTNAME: 'localhost',
    HARPER_EDGE_TICK_MS: String(TICK_MS),
    HARPER_EDGE_TICK_FLUSH: '1',
    HARPER_EDGE_EVENT_CAPACITY: String(EVENT_CAPACITY),
    HARPER_EDGE_SAMPLE_RATE: '1',
    HARPER_EDGE_RETENTION_MS: String(24 * HOUR),
    // The monitor scheduler (worker 0) ticks every MONITOR_MS.
    HARPER_EDGE_MONITOR_MS: String(MONITOR_MS),
    // Fetched files, and the only directory filesystem sources may read from.
    HARPER_EDGE_DATA_DIR: join(home, 'edge-data'),
    HARPER_EDGE_MODELS_ROOT: join(home, 'models-root'),
    HARPER_SET_CONFIG: JSON.stringify({
      http: { port: `${HOST}:${HTTP_PORT}`, securePort: null },
      operationsApi: { network: { port: `${HOST}:${OPERATIONS_PORT}`, securePort: null } },
      mqtt: { network: { port: null, securePort: null }, webSocket: false },
      replication: { securePort: null, port: null },
      localStudio: { enabled: false },
      threads: { count: 1, debug: false },
      logging: { level: 'info', stdStreams: true },
    }),
  }
  mkdirSync(join(home, 'models-root'))
  writeFileSync(join(home, 'models-root', 'iris.onnx'), MODEL_BYTES)
  modelServer = createServer((req, res) => {
    if (req.url === '/models/iris.onnx') {
      res.writeHead(200, { 'Content-Length': MODEL_BYTES.length, ETag: '"iris-1"' })
      return res.end(MODEL_BYTES)
    }
    res.writeHead(404)
    res.end('not found')
  })
  await new Promise((resolve) => modelServer.listen(0, HOST, resolve))
  modelBase = `http://${HOST}:${modelServer.address().port}`
  for (const name of ['HARPER_EDGE_MODEL_PATH', 'HARPER_EDGE_MODEL_NAME', 'HARPER_EDGE_MODEL_VERSION']) {
    delete env[name]
  }
  const started = performance.now()
  harper = spawn(process.execPath, [harperBin, 'run', componentDir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  harper.stdout.on('data', record)
  harper.stderr.on('data', record)
  exited = new Promise((resolve) => harper.once('exit', (code, signal) => resolve({ code, signal })))

  let gone
  exited.then((how) => (gone = how))
  while (true) {
    if (gone) {
      throw new Error(`harperdb exited (${JSON.stringify(gone)}) before serving:\n${logTail()}`)
    }
    if (performance.now() - started > START_TIMEOUT_MS) {
      throw new Error(`harperdb did not serve within ${START_TIMEOUT_MS} ms:\n${logTail()}`)
    }
    const ready = await get('/Model/iris:1').catch(() => undefined)
    if (ready?.status === 200) break
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  console.log(`harperdb served the component after ${Math.round(performance.now() - started)} ms`)
})

after(async () => {
  if (failed) console.log(`end of harperdb's log:\n${logTail()}`)
  if (harper && harper.exitCode === null && harper.signalCode === null) {
    const stopped = performance.now()
    harper.kill('SIGTERM')
    const timeout = new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS, 'timeout'))
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      console.log(`harperdb ignored SIGTERM for ${STOP_TIMEOUT_MS} ms: killing it`)
      harper.kill('SIGKILL')
      await exited
    } else {
      console.log(`harperdb stopped ${Math.round(performance.now() - stopped)} ms after SIGTERM`)
    }
  }
  if (modelServer) await new Promise((resolve) => modelServer.close(resolve))
  if (home) rmSync(home, { recursive: true, force: true })
})

const predictions = []

harperTest('POST /Predict answers every reference row like the reference', async () => {
  const { inputs, labels, probabilities, tolerance } = REFERENCE
  for (const [i, features] of inputs.entries()) {
    const { status, body } = await post('/Predict', {
      modelName: 'iris',
      modelVersion: '1',
      features,
      userId: 'integration',
      sessionId: `s${i}`,
    })
    assert.equal(status, 200, JSON.stringify(body))
    assert.deepEqual(Object.keys(body).sort(), [
      'confidence',
      'inferenceId',
      'latencyMs',
      'modelVersion',
      'prediction',
    ])
    assert.equal(body.prediction, labels[i], `label of row ${i}`)
    const top = Math.max(...probabilities[i])
    assert.ok(Math.abs(body.confidence - top) <= tolerance, `confidence of row ${i}`)
    assert.equal(body.modelVersion, '1')
    assert.ok(body.latencyMs > 0)
    predictions.push(body)
  }
})

harperTest('feedback updates the InferenceEvent row, read back through REST', async () => {
  assert.ok(predictions.length > 2, 'needs the predictions of the first test')
  const [right, wrong] = predictions
  const label = REFERENCE.labels[0]

  // The event reaches the table with the component's next tick.
  const before = await eventually(async () => {
    const response = await get(`/InferenceEvent/${right.inferenceId}`)
    assert.equal(response.status, 200)
    return response
  })
  assert.equal(before.body.correct, null)

  const fb = await post('/Feedback', { inferenceId: right.inferenceId, actualOutcome: label })
  assert.equal(fb.status, 200, JSON.stringify(fb.body))
  assert.equal(fb.body.correct, true)

  const { status, body: row } = await get(`/InferenceEvent/${right.inferenceId}`)
  assert.equal(status, 200)
  assert.deepEqual(Object.keys(row).sort(), EVENT_FIELDS)
  assert.equal(row.id, right.inferenceId)
  assert.equal(row.modelName, 'iris')
  assert.equal(row.modelVersion, '1')
  assert.equal(row.framework, 'onnx')
  assert.equal(row.userId, 'integration')
  assert.equal(row.sessionId, 's0')
  assert.equal(row.prediction, label)
  assert.equal(row.actualOutcome, label)
  assert.equal(row.correct, true)
  assert.equal(row.error, null)
  assertSameRecord(row.confidence, right.confidence, 'confidence')
  assertSameRecord(row.latencyMs, right.latencyMs, 'latencyMs')
  assert.equal(row.featuresIn.length, 1)
  assert.ok(row.featuresIn[0].every((x, j) => Math.abs(x - REFERENCE.inputs[0][j]) < 1e-6))
  assert.ok(row.feedbackTimestamp >= row.timestamp && row.timestamp > 1.6e12)

  const other = (REFERENCE.labels[1] + 1) % 3
  const no = await post('/Feedback', { inferenceId: wrong.inferenceId, actualOutcome: other })
  assert.equal(no.status, 200)
  assert.equal((await get(`/InferenceEvent/${wrong.inferenceId}`)).body.correct, false)
})

harperTest('the Model row carries the original field names', async () => {
  const { status, body } = await get('/Model/iris:1')
  assert.equal(status, 200)
  assert.equal(body.modelName, 'iris')
  assert.equal(body.modelVersion, '1')
  assert.equal(body.framework, 'onnx')
  assert.equal(body.blobSize, MODEL_BYTES.length)
  assert.deepEqual(body.inputSchema, [{ name: 'X', dtype: 'f32', shape: [null, 4] }])
  assert.ok(body.uploadedAt > 1.6e12)
})

harperTest('errors have real HTTP statuses and a JSON body { error, code }', async () => {
  const features = REFERENCE.inputs[0]
  const unknown = await post('/Predict', { modelName: 'nope', modelVersion: '1', features })
  assert.equal(unknown.status, 404)
  assert.deepEqual(unknown.body, { error: "model 'nope:1' not found", code: 'HARPER_EDGE_NOT_FOUND' })

  const shape = await post('/Predict', { modelName: 'iris', features: [1, 2, 3] })
  assert.equal(shape.status, 400)
  assert.equal(shape.body.code, 'HARPER_EDGE_SHAPE')
  assert.match(shape.body.error, /expected shape \[\?, 4\], got \[1, 3\]/)

  const invalid = await post('/Predict', { features })
  assert.equal(invalid.status, 400)
  assert.equal(invalid.body.code, 'HARPER_EDGE_INVALID_INPUT')

  const corrupt = await post('/UploadModel', {
    modelName: 'corrupt',
    modelVersion: '1',
    bytes: Buffer.from('certainly not an onnx graph').toString('base64'),
  })
  assert.equal(corrupt.status, 422)
  assert.equal(corrupt.body.code, 'HARPER_EDGE_MODEL_LOAD')
  assert.match(corrupt.body.error, /cannot load model 'corrupt:1'/)
  assert.equal((await get('/Model/corrupt:1')).status, 404)

  const conflict = await post('/UploadModel', {
    modelName: 'iris',
    modelVersion: '1',
    bytes: Buffer.concat([MODEL_BYTES, Buffer.from([0])]).toString('base64'),
  })
  assert.equal(conflict.status, 409)
  assert.equal(conflict.body.code, 'HARPER_EDGE_CONFLICT')

  const noEvent = await post('/Feedback', { inferenceId: 'no-such-inference', actualOutcome: 1 })
  assert.equal(noEvent.status, 404)
  assert.equal(noEvent.body.code, 'HARPER_EDGE_NOT_FOUND')
})

harperTest('a failed call is recorded as an InferenceEvent with its error', async () => {
  const failedRows = await eventually(async () => {
    const { status, body } = await get('/InferenceEvent/?modelName=iris')
    assert.equal(status, 200)
    const rows = body.filter((e) => e.error !== null)
    assert.ok(rows.length >= 1, 'the wrong-shape call has a row')
    return rows
  })
  assert.match(failedRows[0].error, /expected shape/)
  assert.equal(failedRows[0].prediction, null)
  const fb = await post('/Feedback', { inferenceId: failedRows[0].id, actualOutcome: 0 })
  assert.equal(fb.status, 400)
  assert.equal(fb.body.code, 'HARPER_EDGE_INVALID_INPUT')
})

harperTest('an uploaded model serves predictions and gets a Model row', async () => {
  const upload = await post('/UploadModel', {
    modelName: 'iris',
    modelVersion: '2',
    bytes: MODEL_BYTES.toString('base64'),
    stage: 'staging',
    metadata: { taskType: 'classification' },
  })
  assert.equal(upload.status, 200, JSON.stringify(upload.body))
  assert.equal(upload.body.id, 'iris:2')
  const row = await get('/Model/iris:2')
  assert.equal(row.body.stage, 'staging')
  assert.deepEqual(row.body.metadata, { taskType: 'classification' })

  const i = 15
  const p = await post('/Predict', { modelName: 'iris', features: REFERENCE.inputs[i] })
  assert.equal(p.status, 200)
  assert.equal(p.body.modelVersion, '2', 'without a version the newest answers')
  assert.equal(p.body.prediction, REFERENCE.labels[i])
})

harperTest('POST /Benchmark compares equivalent models and stores the result', async () => {
  const metadata = { taskType: 'classification', equivalenceGroup: 'bench-iris', outputDimensions: [3] }
  for (const [version, bytes] of [['a', MODEL_BYTES], ['b', FOREST_BYTES]]) {
    const up = await post('/UploadModel', { modelName: 'bench', modelVersion: version, bytes: bytes.toString('base64'), metadata })
    assert.equal(up.status, 200, JSON.stringify(up.body))
  }
  const run = await post('/Benchmark', { group: 'bench-iris', batchSizes: [1, 4], iterations: 20, inputs: REFERENCE.inputs })
  assert.equal(run.status, 200, JSON.stringify(run.body))
  assert.deepEqual(run.body.modelIds, ['bench:a', 'bench:b'])
  assert.equal(run.body.runBy, 'POST /Benchmark')
  for (const r of run.body.results) {
    assert.equal(r.cells.length, 2)
    assert.equal(r.errorCount, 0)
    assert.equal(r.cells[0].latency.count, 20)
  }
  assert.equal(run.body.results[1].agreement.metric, 'labels')
  assert.ok(run.body.winner)

  // Mirrored into the BenchmarkResult table.
  const list = await get('/Benchmark?group=bench-iris')
  assert.equal(list.status, 200, JSON.stringify(list.body))
  assert.deepEqual(list.body.map((r) => r.id), [run.body.id])
  const one = await get(`/Benchmark/${run.body.id}`)
  assert.equal(one.status, 200)
  assert.equal(one.body.winner, run.body.winner)
  const groups = await get('/Benchmark/groups')
  assert.ok(groups.body.some((g) => g.equivalenceGroup === 'bench-iris' && g.problem === null), JSON.stringify(groups.body))

  assert.equal((await post('/Benchmark', { group: 'nope' })).status, 404)
  const bad = await post('/Benchmark', { group: 'bench-iris', batchSizes: [0] })
  assert.equal(bad.status, 400)
  assert.equal(bad.body.code, 'HARPER_EDGE_INVALID_INPUT')
  assert.equal((await get('/Benchmark/bench-missing')).status, 404)
})

harperTest('feedback for an event this worker does not hold is recorded in the table', async () => {
  // As if another worker thread (or this one before a restart) had recorded it.
  const id = 'recorded-elsewhere'
  const put = await request('PUT', `/InferenceEvent/${id}`, {
    id,
    modelName: 'iris',
    modelVersion: '1',
    framework: 'onnx',
    prediction: 1,
    error: null,
    timestamp: Date.now(),
  })
  assert.ok(put.status < 300, `PUT ${put.status}`)
  const fb = await post('/Feedback', { inferenceId: id, actualOutcome: 1.0 })
  assert.equal(fb.status, 200, JSON.stringify(fb.body))
  const { body: row } = await get(`/InferenceEvent/${id}`)
  assert.equal(row.correct, true)
  assert.equal(row.actualOutcome, 1)
  assert.equal(row.modelName, 'iris', 'the other fields are kept')
  assert.ok(row.feedbackTimestamp >= row.timestamp)
})

harperTest('GET /monitoring/metrics/{modelName}/realtime counts what this test sent', async () => {
  assert.ok(predictions.length > 2, 'needs the predictions and feedback of the tests above')
  // iris:1 answered every reference row and the wrong-shape call of the errors test; two of its
  // predictions got feedback, one right and one wrong. (One Harper thread: one engine saw all.)
  const v1 = await get('/monitoring/metrics/iris/realtime?modelVersion=1')
  assert.equal(v1.status, 200, JSON.stringify(v1.body))
  assert.deepEqual(Object.keys(v1.body).sort(), [
    'accuracy',
    'avgConfidence',
    'avgLatency',
    'errorCount',
    'errorRate',
    'labelledCount',
    'maxLatency',
    'p50Latency',
    'p95Latency',
    'p99Latency',
    'requestCount',
    'throughputPerSecond',
    'windowEnd',
    'windowStart',
  ])
  assert.equal(v1.body.requestCount, predictions.length + 1)
  assert.equal(v1.body.errorCount, 1)
  assert.equal(v1.body.labelledCount, 2)
  assert.equal(v1.body.accuracy, 0.5)
  assert.equal(v1.body.windowEnd - v1.body.windowStart, 300_000)
  assert.ok(v1.body.maxLatency >= Math.max(...predictions.map((p) => p.latencyMs)))
  assert.ok(v1.body.avgConfidence > 0 && v1.body.avgConfidence <= 1)

  // Without modelVersion: the newest version, iris:2, which answered one call.
  const newest = await get('/monitoring/metrics/iris/realtime')
  assert.equal(newest.status, 200, JSON.stringify(newest.body))
  assert.equal(newest.body.requestCount, 1)
  assert.equal(newest.body.errorCount, 0)
  assert.equal(newest.body.labelledCount, 0)
  assert.equal(newest.body.accuracy, null)

  const unknown = await get('/monitoring/metrics/nope/realtime')
  assert.equal(unknown.status, 404)
  assert.deepEqual(unknown.body, { error: "model 'nope' not found", code: 'HARPER_EDGE_NOT_FOUND' })
  const noVersion = await get('/monitoring/metrics/iris/realtime?modelVersion=9')
  assert.equal(noVersion.status, 404)
  assert.equal(noVersion.body.code, 'HARPER_EDGE_NOT_FOUND')
  const noRoute = await get('/monitoring/metrics/iris/weekly')
  assert.equal(noRoute.status, 404)
  assert.equal(noRoute.body.code, 'HARPER_EDGE_NOT_FOUND')
  const badVersion = await get('/monitoring/metrics/iris/realtime?modelVersion=')
  assert.equal(badVersion.status, 400)
  assert.equal(badVersion.body.code, 'HARPER_EDGE_INVALID_INPUT')
})

harperTest('GET /monitoring/metrics/{modelName} returns the rollups the ModelMetrics table mirrors', async () => {
  assert.ok(predictions.length > 2, 'needs the predictions of the tests above')
  // iris:1 answered every reference row and failed the wrong-shape call; iris:2 answered one
  // call, a moment ago. The component ticks every TICK_MS and writes the open periods too:
  // wait until every granularity counts every call of both versions.
  const v1Calls = predictions.length + 1
  const calls = (rows, version) => sum(rows.filter((r) => r.modelVersion === version), 'requestCount')
  const [fiveMinute, hourlyAll, dailyAll] = await eventually(async () => {
    const answers = []
    for (const granularity of ['5min', 'hourly', 'daily']) {
      const response = await get(`/monitoring/metrics/iris?granularity=${granularity}`)
      assert.equal(response.status, 200, JSON.stringify(response.body))
      const counts = response.body.map((r) => `${r.modelVersion}@${r.periodStart}:${r.requestCount}`)
      const totals = [calls(response.body, '1'), calls(response.body, '2')]
      assert.deepEqual(totals, [v1Calls, 1], `${granularity}: ${counts}`)
      answers.push(response.body)
    }
    return answers
  })
  const rows = [...fiveMinute, ...hourlyAll, ...dailyAll]
  for (const row of rows) {
    assert.deepEqual(Object.keys(row).sort(), METRICS_FIELDS)
    assert.equal(row.modelName, 'iris')
    assert.equal(row.id, `iris:${row.modelVersion}:${row.granularity}:${row.periodStart}`)
    assert.equal(row.latencySketch.count, row.requestCount)
    assert.ok(row.p50Latency <= row.p99Latency && row.p99Latency <= row.maxLatency * 1.01)
  }
  assert.ok(fiveMinute.every((r) => r.granularity === '5min' && r.periodEnd - r.periodStart === 300_000))
  const starts = fiveMinute.map((r) => r.periodStart)
  assert.deepEqual(starts, [...starts].sort((a, b) => a - b), 'oldest period first')

  const hourly = (await get('/monitoring/metrics/iris?granularity=hourly&version=1')).body
  assert.deepEqual(hourly, hourlyAll.filter((r) => r.modelVersion === '1'))
  for (const row of hourly) {
    assert.equal(row.granularity, 'hourly')
    assert.equal(row.periodStart % HOUR, 0)
    assert.equal(row.periodEnd - row.periodStart, HOUR)
  }
  assert.equal(sum(hourly, 'errorCount'), 1)
  if (hourly.length === 1) {
    assert.equal(hourly[0].errorRate, 1 / v1Calls)
    assert.equal(hourly[0].throughputPerSecond, v1Calls / 3600)
    assert.ok(hourly[0].maxLatency >= Math.max(...predictions.map((p) => p.latencyMs)))
  }
  const daily = await get('/monitoring/metrics/iris?granularity=daily&modelVersion=2')
  assert.deepEqual(daily.body.map((r) => [r.modelVersion, r.requestCount]), [['2', 1]])

  // Ranges: periods starting in [from, to), as epoch milliseconds or ISO 8601 times.
  const first = hourly[0].periodStart
  const count = async (query) => (await get(`/monitoring/metrics/iris?granularity=hourly&version=1&${query}`)).body.length
  assert.equal(await count(`from=${first}&to=${first + 1}`), 1)
  assert.equal(await count(`from=${first + 1}&to=${first + HOUR}`), 0)
  assert.equal(await count(`to=${first}`), 0)
  assert.equal(await count(`from=${encodeURIComponent(new Date(first).toISOString())}&limit=1`), 1)
  assert.equal(await count('limit=0'), 0)

  // One engine (one Harper thread) wrote every row: the table holds each row the endpoint
  // returns, field for field, under `${id}@${origin}` with the engine's origin.
  assert.ok(rows.length >= 6, 'rows of both versions at every granularity')
  const { origin } = (await get('/monitoring/telemetry')).body
  assert.match(origin, /^.+:\d+:\d+$/, 'host:pid:threadId')
  await eventually(async () => {
    for (const row of rows) {
      const id = `${row.id}@${origin}`
      const stored = await get(`/ModelMetrics/${encodeURIComponent(id)}`)
      assert.equal(stored.status, 200, id)
      assertSameRecord(stored.body, { ...row, id, origin }, id)
    }
  })
  const table = await get('/ModelMetrics/?modelName=iris')
  assert.equal(table.status, 200)
  assert.deepEqual(
    table.body.map((r) => r.id).sort(),
    rows.map((r) => `${r.id}@${origin}`).sort(),
  )

  // Bad parameters are 400 with the error code; an unknown model has no rows.
  const weekly = await get('/monitoring/metrics/iris?granularity=weekly')
  assert.equal(weekly.status, 400)
  assert.deepEqual(weekly.body, {
    error: "invalid input: unknown granularity 'weekly' (expected 5min, hourly or daily)",
    code: 'HARPER_EDGE_INVALID_INPUT',
  })
  for (const query of ['from=yesterday', 'to=2026-01-01', 'limit=-1', 'limit=ten', 'version=1&modelVersion=2']) {
    const bad = await get(`/monitoring/metrics/iris?${query}`)
    assert.equal(bad.status, 400, query)
    assert.equal(bad.body.code, 'HARPER_EDGE_INVALID_INPUT', query)
  }
  const badName = await get('/monitoring/metrics/bad%20name')
  assert.equal(badName.status, 400)
  const unknown = await get('/monitoring/metrics/nope')
  assert.equal(unknown.status, 200)
  assert.deepEqual(unknown.body, [])
})

harperTest('GET /monitoring/metrics/{modelName} combines the rows of every origin', async () => {
  // Two engines elsewhere (other worker threads, processes or replicated nodes) recorded calls
  // of model `fleet` and wrote their rows to the table; one engine that saw every call is what
  // the endpoint must answer.
  const t0 = Date.UTC(2026, 0, 1, 6) // 06:00Z: 5-minute periods 06:00 and 06:05, hour 06:00
  const n = 900
  const latency = Float64Array.from({ length: n }, (_, i) => ((i * 37) % 400) / 4 + 0.25)
  const times = Float64Array.from({ length: n }, (_, i) => t0 + ((i * 7919) % 600_000))
  const errors = Uint8Array.from({ length: n }, (_, i) => (i % 30 === 0 ? 1 : 0))
  const manual = () => Engine.inMemory({ tickIntervalMs: null })
  const whole = manual()
  whole.recordBatch('fleet:1', latency, { errors, timestamps: times })
  whole.recordBatch('fleet:2', latency.subarray(0, 10), { timestamps: times.subarray(0, 10) })
  whole.flush()
  const [a, b] = [manual(), manual()]
  const split = 400
  a.recordBatch('fleet:1', latency.subarray(0, split), {
    errors: errors.subarray(0, split),
    timestamps: times.subarray(0, split),
  })
  b.recordBatch('fleet:1', latency.subarray(split), {
    errors: errors.subarray(split),
    timestamps: times.subarray(split),
  })
  b.recordBatch('fleet:2', latency.subarray(0, 10), { timestamps: times.subarray(0, 10) })
  let stored = 0
  for (const [engine, origin] of [[a, 'node-a:100:1'], [b, 'node-b:200:3']]) {
    for (const row of engine.flush()) {
      stored++
      const id = `${row.id}@${origin}`
      const put = await request('PUT', `/ModelMetrics/${encodeURIComponent(id)}`, { ...row, id, origin })
      assert.ok(put.status < 300, `PUT ${id}: ${put.status} ${JSON.stringify(put.body)}`)
    }
  }
  // a: fleet:1 in two 5-minute periods, one hour, one day; b: the same, and fleet:2 in one each.
  assert.equal(stored, 4 + 4 + 3)
  assert.equal((await get('/ModelMetrics/?modelName=fleet')).body.length, stored)

  for (const granularity of ['5min', 'hourly', 'daily']) {
    const expected = whole.metrics('fleet', { granularity })
    const { status, body } = await get(`/monitoring/metrics/fleet?granularity=${granularity}`)
    assert.equal(status, 200, JSON.stringify(body))
    assertSameRecord(body, expected, granularity)
  }
  const fiveMinute = (await get('/monitoring/metrics/fleet')).body
  assert.deepEqual(
    fiveMinute.map((r) => [r.modelVersion, r.periodStart]),
    [['1', t0], ['2', t0], ['1', t0 + 300_000]],
    'oldest period first, then by version',
  )
  assert.equal(sum(fiveMinute, 'requestCount'), n + 10)
  assert.equal(sum(fiveMinute, 'errorCount'), n / 30)
  const v1 = fiveMinute.filter((r) => r.modelVersion === '1')
  assertSameRecord(Math.max(...v1.map((r) => r.maxLatency)), Math.max(...latency), 'maxLatency')

  // The filters apply to the combined rows.
  const only = async (query) => (await get(`/monitoring/metrics/fleet?${query}`)).body
  assertSameRecord(await only('version=2'), whole.metrics('fleet:2'))
  assertSameRecord(await only(`from=${t0 + 1}`), whole.metrics('fleet', { from: t0 + 1 }))
  assertSameRecord(await only(`to=${t0 + 300_000}&modelVersion=1`), whole.metrics('fleet:1', { to: t0 + 300_000 }))
  assert.deepEqual(await only('limit=2'), whole.metrics('fleet', { limit: 2 }))
  assert.deepEqual(await only('granularity=hourly&from=2026-01-01T07:00:00Z'), [])
})

harperTest('GET /monitoring/telemetry answers with this worker engine\'s telemetry stats', async () => {
  // Every call this engine recorded is in the real-time view of iris:1 or iris:2 (the test
  // runs within the window): its counters agree with them.
  const [v1, v2] = await Promise.all([
    get('/monitoring/metrics/iris/realtime?modelVersion=1'),
    get('/monitoring/metrics/iris/realtime?modelVersion=2'),
  ])
  const calls = v1.body.requestCount + v2.body.requestCount
  const stats = await eventually(async () => {
    const { status, body } = await get('/monitoring/telemetry')
    assert.equal(status, 200, JSON.stringify(body))
    assert.equal(body.eventsBuffered, 0, 'the component ticks every TICK_MS')
    return body
  })
  assert.deepEqual(Object.keys(stats).sort(), [
    'eventCapacity',
    'eventsBuffered',
    'eventsDropped',
    'eventsDuplicate',
    'eventsExpired',
    'eventsRejected',
    'eventsSampledOut',
    'eventsWritten',
    'flushErrors',
    'lastFlushError',
    'late',
    'observations',
    'origin',
  ])
  assert.equal(stats.eventCapacity, EVENT_CAPACITY, 'HARPER_EDGE_EVENT_CAPACITY')
  assert.equal(stats.observations, calls)
  assert.equal(stats.eventsWritten, calls, 'sample rate 1, nothing dropped: every event written')
  assert.deepEqual(
    [stats.eventsDropped, stats.eventsRejected, stats.eventsSampledOut, stats.flushErrors, stats.lastFlushError],
    [0, 0, 0, 0, null],
  )
  const events = await get('/InferenceEvent/?modelName=iris')
  assert.ok(events.body.length >= calls, 'every written event is in the table')

  const unknown = await get('/monitoring/telemetry/more')
  assert.equal(unknown.status, 404)
  assert.equal(unknown.body.code, 'HARPER_EDGE_NOT_FOUND')
})

harperTest('drift: a baseline from the table, checks on the table and on given data, rows read back', async () => {
  const upload = await post('/UploadModel', { modelName: 'drifty', modelVersion: '1', bytes: MODEL_BYTES.toString('base64') })
  assert.equal(upload.status, 200, JSON.stringify(upload.body))
  // A fixed LCG: iris-like rows; `shift` lengthens the petals.
  let seed = 11
  const u = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
  const row = (shift) => [4.5 + 3 * u(), 2 + 2 * u(), 1 + 5 * u() + shift, 0.1 + 2.4 * u()]
  const predict = async (n, shift) => {
    for (let i = 0; i < n; i++) {
      const r = await post('/Predict', { modelName: 'drifty', features: row(shift) })
      assert.equal(r.status, 200, JSON.stringify(r.body))
    }
  }
  const rowsSince = (from, n) =>
    eventually(async () => {
      const { body } = await get('/InferenceEvent/?modelName=drifty')
      const rows = body.filter((e) => e.timestamp >= from)
      assert.ok(rows.length >= n, `${rows.length} of ${n} events in the table`)
    })

  const missing = await post('/monitoring/drift/drifty/check', {})
  assert.equal(missing.status, 404)
  assert.match(missing.body.error, /no drift baseline for 'drifty:1'/)

  const t0 = Date.now()
  await predict(150, 0)
  await rowsSince(t0, 150)
  const set = await post('/monitoring/drift/drifty/baseline', { from: t0 })
  assert.equal(set.status, 200, JSON.stringify(set.body))
  assert.equal(set.body.id, 'drifty:1')
  assert.equal(set.body.features, 6)
  assert.deepEqual(set.body.predictionFeatures, ['confidence', 'prediction'])
  const stored = await eventually(async () => {
    const r = await get('/monitoring/drift/drifty/baseline')
    assert.equal(r.status, 200, JSON.stringify(r.body))
    return r.body
  })
  assert.deepEqual(stored.features, ['confidence', 'input[0]', 'input[1]', 'input[2]', 'input[3]', 'prediction'])
  assert.equal(stored.baseline, undefined, 'the statistics stay in the table')

  const t1 = Date.now() + 1
  await new Promise((resolve) => setTimeout(resolve, 5))
  await predict(150, 2)
  await rowsSince(t1, 150)
  const check = await post('/monitoring/drift/drifty/check', { from: t1 })
  assert.equal(check.status, 200, JSON.stringify(check.body))
  assert.equal(check.body.window.calls, 150)
  const input2 = check.body.report.features.find((f) => f.featureName === 'input[2]')
  assert.ok(input2.drifted && input2.pValue < 1e-10, JSON.stringify(input2))
  assert.equal(check.body.report.features.find((f) => f.featureName === 'input[0]').drifted, false)
  assert.equal(check.body.quality.totalRecords, 150)
  assert.equal(check.body.drifted, true)

  // The rows are in the DriftMetrics table, newest check first, with its summary.
  const read = await eventually(async () => {
    const r = await get('/monitoring/drift/drifty')
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.equal(r.body.rows.length, 6)
    return r.body
  })
  assert.equal(read.latest.timestamp, check.body.timestamp)
  assert.ok(read.latest.drifted.includes('input[2]'))
  assert.equal(read.latest.checked, 6)
  assert.equal(read.latest.quality.totalRecords, 150)
  const stored2 = read.rows.find((r) => r.featureName === 'input[2]')
  const checked2 = check.body.rows.find((r) => r.featureName === 'input[2]')
  assertSameRecord(stored2, checked2, 'DriftMetrics row')
  assert.equal(stored2.pValue, checked2.pValue, 'p-values keep all 64 bits (Any, not Float)')
  const predictions = await get('/monitoring/drift/drifty?driftType=prediction')
  assert.deepEqual(predictions.body.rows.map((r) => r.featureName).sort(), ['confidence', 'prediction'])

  // A baseline row changed in the table (as another worker or node would) is loaded by this
  // worker's engine before its next check.
  const tableRow = (await get('/DriftBaseline/drifty:1')).body
  assert.equal(tableRow.baseline.features.length, 6, 'the statistics are in the table')
  const moved = { ...tableRow, createdAt: tableRow.createdAt + 1, source: 'replicated' }
  assert.ok([200, 204].includes((await request('PUT', '/DriftBaseline/drifty:1', moved)).status))
  const reloaded = await get('/monitoring/drift/drifty/baseline')
  assert.equal(reloaded.body.createdAt, tableRow.createdAt + 1)
  assert.equal(reloaded.body.source, 'replicated')
  const again = await post('/monitoring/drift/drifty/check', { from: t1 })
  assert.equal(again.status, 200, JSON.stringify(again.body))
  assert.deepEqual(
    again.body.report.features.map((f) => [f.featureName, f.driftScore]),
    check.body.report.features.map((f) => [f.featureName, f.driftScore]),
  )

  // Given columns and labels: concept drift against the baseline's accuracy.
  const x = Array.from({ length: 200 }, (_, i) => i % 50)
  const withRef = await post('/monitoring/drift/drifty/baseline', {
    reference: { 'input[2]': x },
    accuracy: { correct: 95, total: 100 },
  })
  assert.equal(withRef.status, 200, JSON.stringify(withRef.body))
  const given = await post('/monitoring/drift/drifty/check', {
    current: { 'input[2]': x.map((v) => v + 25) },
    labels: { correct: 40, total: 100 },
  })
  assert.equal(given.status, 200, JSON.stringify(given.body))
  assert.equal(given.body.concept.drifted, true)
  assert.equal(given.body.rows.at(-1).driftType, 'concept')

  const bad = await post('/monitoring/drift/drifty/check', { current: { 'input[2]': [1, 2] }, alpha: 3 })
  assert.equal(bad.status, 400)
  assert.equal(bad.body.code, 'HARPER_EDGE_INVALID_INPUT')
  assert.equal((await get('/monitoring/drift/drifty/bogus')).status, 404)
  assert.equal((await post('/monitoring/drift/drifty/bogus', {})).status, 404)
  assert.equal((await post('/monitoring/drift/nosuchmodel/check', {})).status, 404)
})

harperTest('segments: a canary version drifts, cohorts by their own reference, rollups by user', async () => {
  const upload = await post('/UploadModel', { modelName: 'split', modelVersion: '1', bytes: MODEL_BYTES.toString('base64') })
  assert.equal(upload.status, 200, JSON.stringify(upload.body))
  const upload2 = await post('/UploadModel', { modelName: 'split', modelVersion: '2', bytes: MODEL_BYTES.toString('base64') })
  assert.equal(upload2.status, 200, JSON.stringify(upload2.body))
  let seed = 29
  const u = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
  const row = (shift) => [4.5 + 3 * u(), 2 + 2 * u(), 1 + 5 * u() + shift, 0.1 + 2.4 * u()]
  const predict = async (n, modelVersion, shift) => {
    for (let i = 0; i < n; i++) {
      const r = await post('/Predict', { modelName: 'split', modelVersion, features: row(shift), userId: `user-${i % 3}` })
      assert.equal(r.status, 200, JSON.stringify(r.body))
    }
  }
  const stored = (from, n) =>
    eventually(async () => {
      const { body } = await get('/InferenceEvent/?modelName=split')
      const rows = body.filter((e) => e.timestamp >= from)
      assert.ok(rows.length >= n, `${rows.length} of ${n} events in the table`)
    })

  const t0 = Date.now()
  await predict(150, '1', 0)
  await stored(t0, 150)
  const set = await post('/monitoring/drift/split/baseline', { modelVersion: '1', from: t0, segmentBy: ['userId'] })
  assert.equal(set.status, 200, JSON.stringify(set.body))
  const t1 = Date.now() + 1
  await new Promise((resolve) => setTimeout(resolve, 5))
  await predict(90, '1', 0)
  await predict(90, '2', 2)
  await stored(t1, 180)

  // The canary (version 2, longer petals) against version 1's baseline.
  const canary = await post('/monitoring/drift/split/segments', { modelVersion: '1', segment: 'modelVersion', from: t1 })
  assert.equal(canary.status, 200, JSON.stringify(canary.body))
  const versions = Object.fromEntries(canary.body.segments.map((s) => [s.segment, s]))
  assert.equal(versions['2'].rows, 90)
  assert.ok(versions['2'].drifted, JSON.stringify(versions['2']))
  assert.equal(versions['1'].drifted, false)
  assert.equal(versions['2'].comparedWith, 'whole')
  // Users against their own part of the reference.
  const users = await post('/monitoring/drift/split/segments', { modelVersion: '1', segment: 'userId', from: t1 })
  assert.equal(users.status, 200, JSON.stringify(users.body))
  assert.equal(users.body.segments.length, 3)
  assert.ok(users.body.segments.every((s) => s.comparedWith === 'segment' && s.rows === 30 && !s.drifted))

  // Rollups split by user and by version, from the replicated events.
  const byUser = await get(`/monitoring/metrics/split?segment=userId&granularity=hourly&from=${t0}`)
  assert.equal(byUser.status, 200, JSON.stringify(byUser.body))
  assert.equal(byUser.body.key, 'userId')
  const counts = Object.fromEntries(byUser.body.segments.map((s) => [s.segment, s.requestCount]))
  assert.deepEqual(counts, { 'user-0': 110, 'user-1': 110, 'user-2': 110 })
  const byVersion = await get(`/monitoring/metrics/split?segment=modelVersion&from=${t0}`)
  assert.deepEqual(byVersion.body.segments.map((s) => [s.segment, s.requestCount]), [['1', 240], ['2', 90]])

  const noKey = await post('/monitoring/drift/split/segments', { modelVersion: '1', from: t1 })
  assert.equal(noKey.status, 400)
  const withRef = await post('/monitoring/drift/split/baseline', { reference: { x: [1, 2] }, segmentBy: ['userId'] })
  assert.equal(withRef.status, 400)
  assert.match(withRef.body.error, /segmentBy fits segments from the stored calls/)
  const badGranularity = await get('/monitoring/metrics/split?segment=userId&granularity=weekly')
  assert.equal(badGranularity.status, 400)
})

const del = (path) => request('DELETE', path)
const put = (path, body) => request('PUT', path, body)

harperTest('monitoring: a rule raises an alert that is acknowledged; a retraining request is approved', async () => {
  // A rule every call of iris:1 breaks: the scheduler raises an alert at its next tick.
  const rule = await post('/monitoring/rules', {
    ruleName: 'any call',
    modelName: 'iris',
    modelVersion: '1',
    alertType: 'latency',
    severity: 'critical',
    condition: { metric: 'maxLatency', operator: '>=', threshold: 0 },
  })
  assert.equal(rule.status, 200, JSON.stringify(rule.body))
  assert.match(rule.body.id, /\S/)
  assert.equal(rule.body.cooldown, '15m')
  const bad = await post('/monitoring/rules', {
    ruleName: 'bad',
    alertType: 'latency',
    condition: { metric: 'errorRate', operator: '>', threshold: 1 },
  })
  assert.equal(bad.status, 400)
  assert.equal(bad.body.code, 'HARPER_EDGE_INVALID_INPUT')
  assert.match(bad.body.error, /condition\.metric/)
  assert.ok((await get('/monitoring/rules')).body.some((r) => r.id === rule.body.id))

  const p = await post('/Predict', { modelName: 'iris', modelVersion: '1', features: REFERENCE.inputs[0] })
  assert.equal(p.status, 200)
  const alert = await eventually(async () => {
    const r = await get('/monitoring/alerts?modelName=iris&severity=critical&status=firing&acknowledged=false')
    assert.equal(r.status, 200, JSON.stringify(r.body))
    const mine = r.body.filter((a) => a.ruleId === rule.body.id)
    assert.equal(mine.length, 1, 'one alert per episode')
    return mine[0]
  })
  assert.equal(alert.modelVersion, '1')
  assert.ok(alert.actualValue >= 0)
  assert.equal(alert.condition, 'maxLatency >= 0ms')

  const ack = await post(`/monitoring/alerts/${alert.id}/acknowledge`, { acknowledgedBy: 'on-call' })
  assert.equal(ack.status, 200, JSON.stringify(ack.body))
  assert.equal(ack.body.acknowledged, true)
  assert.equal(ack.body.acknowledgedBy, 'on-call')
  assert.deepEqual((await get('/monitoring/alerts?modelName=iris&acknowledged=false')).body.filter((a) => a.id === alert.id), [])
  const row = await eventually(async () => {
    const r = await get(`/AlertEvent/${alert.id}`)
    assert.equal(r.status, 200)
    assert.equal(r.body.acknowledgedBy, 'on-call')
    return r.body
  })
  assert.equal(row.ruleId, rule.body.id)
  assert.equal((await post('/monitoring/alerts/nope/acknowledge', { acknowledgedBy: 'x' })).status, 404)
  assert.equal((await post(`/monitoring/alerts/${alert.id}/acknowledge`, {})).status, 400)

  // Configuration: an invalid field is named; a layer lowers the safety checks of iris.
  const badConfig = await put('/monitoring/config', { aggregation: { driftCheck: '6x' } })
  assert.equal(badConfig.status, 400)
  assert.match(badConfig.body.error, /aggregation\.driftCheck/)
  const layer = await put('/monitoring/config?modelName=iris', { retrainingTriggers: { minNewLabeledSamples: 0 } })
  assert.equal(layer.status, 200, JSON.stringify(layer.body))
  assert.equal(layer.body.id, 'model:iris')
  const effective = await get('/monitoring/config?modelName=iris&modelVersion=1')
  assert.equal(effective.body.retrainingTriggers.minNewLabeledSamples, 0)
  assert.equal(effective.body.aggregation.driftCheck, '6h')
  assert.equal((await get('/monitoring/config')).body.retrainingTriggers.minNewLabeledSamples, 500)
  await eventually(async () => assert.equal((await get('/MonitoringConfig/model:iris')).status, 200))

  // A manual request, approved: its new state is in the next GET and in the mirrored table.
  const created = await post('/monitoring/retraining-requests', {
    modelName: 'iris',
    requestedBy: 'data-team',
    details: { ticket: 7 },
  })
  assert.equal(created.status, 200, JSON.stringify(created.body))
  assert.equal(created.body.status, 'pending_approval', JSON.stringify(created.body.safetyChecks))
  assert.equal(created.body.triggerReason, 'manual')
  const id = created.body.id
  const pending = await get('/monitoring/retraining-requests?status=pending_approval&modelName=iris')
  assert.deepEqual(pending.body.map((r) => r.id), [id])
  const approved = await post(`/monitoring/retraining-requests/${id}/approve`, { reviewedBy: 'lead', reason: 'ok' })
  assert.equal(approved.status, 200, JSON.stringify(approved.body))
  assert.equal(approved.body.status, 'approved')
  assert.match(approved.body.trainingJobId, /\S/)
  const listed = await get('/monitoring/retraining-requests?modelName=iris')
  assert.equal(listed.body.find((r) => r.id === id).status, 'approved')
  const mirrored = await eventually(async () => {
    const r = await get(`/RetrainingRequest/${id}`)
    assert.equal(r.status, 200)
    assert.equal(r.body.status, 'approved')
    return r.body
  })
  assert.equal(mirrored.trainingJobId, approved.body.trainingJobId)
  assert.equal(mirrored.reviewedBy, 'lead')
  const rejected = await post(`/monitoring/retraining-requests/${id}/reject`, { reviewedBy: 'lead' })
  assert.equal(rejected.status, 409)
  assert.equal(rejected.body.code, 'HARPER_EDGE_INVALID_TRANSITION')
  assert.equal((await post('/monitoring/retraining-requests/nope/approve', { reviewedBy: 'x' })).status, 404)

  // A request another worker thread or node wrote — only in the replicated table, never in
  // this worker's engine — is listed, and can be approved here.
  const foreign = {
    ...mirrored,
    id: 'retrain-from-node-b',
    status: 'pending_approval',
    requestedAt: mirrored.requestedAt + 1,
    reviewedBy: null,
    reviewedAt: null,
    reviewReason: null,
    trainingJobId: null,
  }
  assert.ok([200, 204].includes((await put('/RetrainingRequest/retrain-from-node-b', foreign)).status))
  const both = await get('/monitoring/retraining-requests?modelName=iris')
  assert.deepEqual(both.body.map((r) => r.id), ['retrain-from-node-b', id])
  const remote = await post('/monitoring/retraining-requests/retrain-from-node-b/approve', { reviewedBy: 'lead' })
  assert.equal(remote.status, 200, JSON.stringify(remote.body))
  assert.equal(remote.body.status, 'approved')
  assert.notEqual(remote.body.trainingJobId, approved.body.trainingJobId)
  assert.equal((await get('/monitoring/retraining-requests?status=done')).status, 400)

  // A rule row changed in the table (as a write through another worker, or another node, puts
  // it there) is loaded by the scheduler's engine.
  const ruleRow = await eventually(async () => {
    const r = await get(`/AlertRule/${rule.body.id}`)
    assert.equal(r.status, 200)
    return r.body
  })
  const renamed = { ...ruleRow, ruleName: 'renamed elsewhere', updatedAt: ruleRow.updatedAt + 1 }
  assert.ok([200, 204].includes((await put(`/AlertRule/${rule.body.id}`, renamed)).status))
  await eventually(async () => {
    const r = await get(`/monitoring/rules/${rule.body.id}`)
    assert.equal(r.body.ruleName, 'renamed elsewhere')
  })

  // Deleting the rule deletes its mirrored row.
  const deleted = await del(`/monitoring/rules/${rule.body.id}`)
  assert.equal(deleted.status, 200, JSON.stringify(deleted.body))
  assert.equal((await del(`/monitoring/rules/${rule.body.id}`)).status, 404)
  await eventually(async () => assert.equal((await get(`/AlertRule/${rule.body.id}`)).status, 404))
})

harperTest('a model fetched by URL is registered, mirrored, listed and serves predictions', async () => {
  const sha256 = createHash('sha256').update(MODEL_BYTES).digest('hex')
  const queued = await post('/FetchModel', {
    modelName: 'fetched',
    modelVersion: '1',
    source: `${modelBase}/models/iris.onnx`,
    framework: 'onnx',
    stage: 'staging',
    metadata: { taskType: 'classification' },
  })
  assert.equal(queued.status, 202, JSON.stringify(queued.body))
  assert.equal(queued.body.id, 'fetched:1')

  const job = await eventually(async () => {
    const { status, body } = await get('/ModelFetchJobs/fetched:1')
    assert.equal(status, 200, JSON.stringify(body))
    assert.equal(body.state, 'completed', JSON.stringify(body))
    return body
  }, 30_000)
  assert.equal(job.bytesDone, MODEL_BYTES.length)
  assert.equal(job.result.modelId, 'fetched:1')

  // Mirrored into the FetchJob and Model tables.
  const row = await eventually(async () => {
    const response = await get('/FetchJob/fetched:1')
    assert.equal(response.status, 200)
    assert.equal(response.body.state, 'completed')
    return response.body
  })
  assert.equal(row.modelName, 'fetched')
  const listed = await get('/ModelFetchJobs?state=completed')
  assert.equal(listed.status, 200)
  assert.ok(listed.body.some((j) => j.id === 'fetched:1'), JSON.stringify(listed.body))
  assert.equal((await get('/ModelFetchJobs?state=sleeping')).status, 400)
  assert.equal((await get('/ModelFetchJobs/none:1')).status, 404)

  const models = await get('/ModelList?framework=onnx&taskType=classification&stage=staging')
  assert.equal(models.status, 200)
  assert.ok(models.body.some((m) => m.id === 'fetched:1'), JSON.stringify(models.body.map((m) => m.id)))
  assert.ok(models.body.every((m) => m.stage === 'staging' && m.metadata.taskType === 'classification'))
  const named = await get('/ModelList?name=fetched')
  assert.deepEqual(named.body.map((m) => m.id), ['fetched:1'])
  assert.deepEqual((await get('/ModelList?name=fetched&stage=production')).body, [])
  assert.equal((await get('/ModelList?stage=nowhere')).status, 400)
  const [fetched] = named.body
  assert.equal(fetched.provenance.source, 'http')
  assert.equal(fetched.provenance.sha256, sha256)
  const modelRow = await eventually(async () => {
    const response = await get('/Model/fetched:1')
    assert.equal(response.status, 200)
    return response.body
  })
  assert.equal(modelRow.provenance.sha256, sha256)

  const p = await post('/Predict', { modelName: 'fetched', modelVersion: '1', features: REFERENCE.inputs[0] })
  assert.equal(p.status, 200, JSON.stringify(p.body))
  assert.equal(p.body.prediction, REFERENCE.labels[0])

  // Retry of a completed job cannot move it; the same model from another source conflicts.
  assert.equal((await post('/ModelFetchJobs', { action: 'retry', id: 'fetched:1' })).status, 409)
  assert.equal((await post('/ModelFetchJobs', { action: 'pause', id: 'fetched:1' })).status, 400)
  const other = await post('/FetchModel', { modelName: 'fetched', modelVersion: '1', source: `${modelBase}/models/other.onnx` })
  assert.equal(other.status, 409, JSON.stringify(other.body))
})

harperTest('a failed fetch is reported on its job; InspectModel describes a source', async () => {
  const queued = await post('/FetchModel', { modelName: 'ghost', modelVersion: '1', source: `${modelBase}/models/none.onnx` })
  assert.equal(queued.status, 202, JSON.stringify(queued.body))
  const job = await eventually(async () => {
    const { body } = await get('/ModelFetchJobs/ghost:1')
    assert.equal(body.state, 'failed', JSON.stringify(body))
    return body
  }, 30_000)
  assert.equal(job.error.code, 'HARPER_EDGE_NOT_FOUND')

  const inspected = await get(`/InspectModel?source=${encodeURIComponent(`${modelBase}/models/iris.onnx`)}`)
  assert.equal(inspected.status, 200, JSON.stringify(inspected.body))
  assert.equal(inspected.body.source, 'http')
  assert.equal(inspected.body.framework, 'onnx')
  assert.equal(inspected.body.revision, '"iris-1"')
  const local = await get('/InspectModel?source=iris.onnx')
  assert.equal(local.status, 200, JSON.stringify(local.body))
  assert.equal(local.body.downloadBytes, MODEL_BYTES.length)
  assert.equal((await get('/InspectModel?source=%2Fetc%2Fpasswd')).status, 400)
  assert.equal((await get('/InspectModel')).status, 400)
})

harperTest('a posted profile deploys from the models root only; DELETE /ModelList removes', async () => {
  const profile = {
    name: 'posted',
    models: [
      {
        modelName: 'deployed',
        modelVersion: '1',
        framework: 'onnx',
        metadata: { taskType: 'classification' },
        modelBlob: { source: 'filesystem', path: 'iris.onnx' },
      },
      { modelName: 'escape', modelVersion: '1', framework: 'onnx', modelBlob: { source: 'filesystem', path: '../../etc/passwd' } },
      {
        modelName: 'escape',
        modelVersion: '2',
        framework: 'onnx',
        // With enough ../ to reach the real /etc/passwd from the models root.
        modelBlob: { source: 'filesystem', path: `${'../'.repeat(24)}etc/passwd` },
      },
    ],
  }
  const first = await post('/Profile/deploy', { profile })
  assert.equal(first.status, 200, JSON.stringify(first.body))
  assert.deepEqual(
    first.body.models.map((m) => [m.modelId, m.action]),
    [
      ['deployed:1', 'registered'],
      ['escape:1', 'failed'],
      ['escape:2', 'failed'],
    ],
  )
  // Both escapes are refused by path, before any file is opened.
  assert.match(first.body.models[1].error.message, /etc\/passwd' is outside the deploy root/)
  assert.match(first.body.models[2].error.message, /outside the deploy root/)
  const second = await post('/Profile/deploy', { profile: { ...profile, models: [profile.models[0]] } })
  assert.equal(second.body.models[0].action, 'already_registered')

  const badProfile = {
    name: 'bad',
    models: [{ modelName: 'b', modelVersion: '1', framework: 'onnx', modelBlob: { source: 'filesystem' } }],
  }
  const bad = await post('/Profile/validate', { profile: badProfile })
  assert.equal(bad.status, 200)
  assert.equal(bad.body.valid, false)
  assert.deepEqual([bad.body.problems[0].model, bad.body.problems[0].field], ['b', 'models[0].modelBlob.path'])
  const rejected = await post('/Profile/deploy', { profile: badProfile })
  assert.equal(rejected.status, 400)
  assert.match(rejected.body.error, /model 'b', field models\[0\]\.modelBlob\.path/)

  const p = await post('/Predict', { modelName: 'deployed', modelVersion: '1', features: REFERENCE.inputs[1] })
  assert.equal(p.status, 200, JSON.stringify(p.body))

  const removed = await request('DELETE', '/ModelList/deployed:1')
  assert.equal(removed.status, 200, JSON.stringify(removed.body))
  assert.equal(removed.body.id, 'deployed:1')
  assert.equal((await request('DELETE', '/ModelList/deployed:1')).status, 404)
  assert.ok(!(await get('/ModelList')).body.some((m) => m.id === 'deployed:1'))
  await eventually(async () => assert.equal((await get('/Model/deployed:1')).status, 404))
})
