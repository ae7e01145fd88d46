// harper-edge inside HarperDB: the engine runs in-process (one per worker thread), Harper serves
// the endpoints and keeps the Model, InferenceEvent and ModelMetrics tables, filled from the
// engine's outbox (ModelMetrics with one row per engine and period, combined when read).
// Every export that is a Resource class is served at its name; an exported plain object nests
// its resources under its name (`monitoring.metrics` → `/monitoring/metrics`).
import { mkdirSync, realpathSync } from 'node:fs'
import { hostname } from 'node:os'
import { isAbsolute } from 'node:path'
import { fileURLToPath } from 'node:url'
import { threadId } from 'node:worker_threads'

import {
  Baseline,
  Engine,
  Monitor,
  combineMetrics,
  inspectSource,
  outcomeMatches,
  segmentRollups,
  validateProfile,
} from 'harper-edge'

import { dashboardPage, dashboardQuery, dashboardSections, htmlResponse } from './dashboard.js'

const MODEL_PATH =
  process.env.HARPER_EDGE_MODEL_PATH ??
  fileURLToPath(new URL('../../tests/data/iris_logreg.onnx', import.meta.url))
const MODEL_NAME = process.env.HARPER_EDGE_MODEL_NAME ?? 'iris'
const MODEL_VERSION = process.env.HARPER_EDGE_MODEL_VERSION ?? '1'
// Every TICK_MS the component ticks the engine (buffered events and the rollups of ended
// periods are written) and copies the outbox into the tables. With HARPER_EDGE_TICK_FLUSH=1 a
// tick also writes the periods still open (engine.flush()), so the current period's rollups
// reach the ModelMetrics table within one tick: for tests and demos.
const TICK_MS = positiveInteger('HARPER_EDGE_TICK_MS', 1000, 'milliseconds')
const TICK_FLUSH = process.env.HARPER_EDGE_TICK_FLUSH === '1'
// Telemetry settings of the engine (see the README): the raw-event buffer between ticks, the
// share of successful calls whose event is kept, and how long events are kept (`none`: forever).
const EVENT_CAPACITY = positiveInteger('HARPER_EDGE_EVENT_CAPACITY', 100_000, 'events')
const SAMPLE_RATE = sampleRate('HARPER_EDGE_SAMPLE_RATE', 1)
const RETENTION_MS =
  process.env.HARPER_EDGE_RETENTION_MS === 'none'
    ? null
    : positiveInteger('HARPER_EDGE_RETENTION_MS', 30 * 24 * 3_600_000, "milliseconds, or 'none'")

function positiveInteger(name, fallback, unit) {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  if (!/^[1-9]\d*$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new Error(`${name} must be a positive integer (${unit}), got '${text}'`)
  }
  return Number(text)
}

function sampleRate(name, fallback) {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const rate = /^(0|1|0?\.\d+|1\.0*)$/.test(text) ? Number(text) : Number.NaN
  if (!(rate >= 0 && rate <= 1)) {
    throw new Error(`${name} must be a number from 0 to 1, got '${text}'`)
  }
  return rate
}

// This engine's name in the ModelMetrics table: every worker thread of every Harper process
// (and node) has its own engine and writes its own rows, `${row.id}@${ORIGIN}`. The process id
// keeps a restarted process from overwriting the rows of the one before it.
const ORIGIN = `${hostname()}:${process.pid}:${threadId}`

const log = () => globalThis.logger ?? console

// The Harper table is the record of truth; the engine keeps only the newest events (feedback on
// older ones goes to the table row, below), so a long-running worker's memory stays bounded.
// Drift checks without data in the request compare the calls of the last DRIFT_WINDOW_MS (read
// from the InferenceEvent table, so every worker's and node's calls count) with the baseline.
const DRIFT_WINDOW_MS = positiveInteger('HARPER_EDGE_DRIFT_WINDOW_MS', 3_600_000, 'milliseconds')
// Fetched model files go to HARPER_EDGE_DATA_DIR (`<dataDir>/models/<sha256>`; default
// `<component dir>/data`). Filesystem sources of /FetchModel, /InspectModel and posted profiles
// are confined to HARPER_EDGE_MODELS_ROOT (default `<component dir>/models`): a request cannot
// import a file from anywhere else.
const DATA_DIR = process.env.HARPER_EDGE_DATA_DIR || fileURLToPath(new URL('./data', import.meta.url))
const MODELS_ROOT = (() => {
  const dir = process.env.HARPER_EDGE_MODELS_ROOT || fileURLToPath(new URL('./models', import.meta.url))
  // Created, and resolved, so that the confinement compares real paths.
  mkdirSync(dir, { recursive: true })
  return realpathSync(dir)
})()
// Longest time POST /Profile/deploy waits for its fetches (they keep running after it answers).
const DEPLOY_TIMEOUT_MS = positiveInteger('HARPER_EDGE_DEPLOY_TIMEOUT_MS', 600_000, 'milliseconds')
// The component ticks the engine itself (below), so the engine starts no ticker thread.
const engine = Engine.inMemory({
  dataDir: DATA_DIR,
  maxEvents: 10_000,
  eventCapacity: EVENT_CAPACITY,
  sampleRate: SAMPLE_RATE,
  retentionMs: RETENTION_MS,
  tickIntervalMs: null,
})

// InferenceEvent rows expire with the engine's retention: Harper deletes a row that long after
// it was last written (its event at the tick after the call, its feedback later).
if (RETENTION_MS !== null) tables.InferenceEvent.setTTLExpiration(RETENTION_MS / 1000)

// Copies every record the engine wrote into the table of the same name, then prunes the copied
// entries. Drains run one after another: two at once would copy the same entries, and one could
// put an event's older version after the newer one.
let drained = Promise.resolve()
function drainOutbox() {
  drained = drained.then(copyOutbox, copyOutbox)
  return drained
}

async function copyOutbox() {
  for (let cursor = 0; ; ) {
    const entries = engine.outbox(cursor, 500)
    if (entries.length === 0) return
    for (const { table, id, record } of entries) {
      if (table === 'ModelMetrics') {
        // One row per engine and period: the endpoint below combines them.
        const stored = `${id}@${ORIGIN}`
        await tables.ModelMetrics.put(stored, { ...record, id: stored, origin: ORIGIN })
      } else if (record === null) {
        // A deleted monitoring record (an alert rule, a configuration layer).
        await tables[table].delete(id)
      } else {
        await tables[table].put(id, record)
      }
    }
    cursor = entries.at(-1).seq
    engine.pruneOutbox(cursor)
  }
}

await engine.registerModel({ name: MODEL_NAME, version: MODEL_VERSION, path: MODEL_PATH })
await drainOutbox()

// The engine buffers each call's event and writes it (and the rollup rows) when it ticks; the
// ticker below then copies what was written into the tables. A tick still running when the next
// one is due is not doubled. unref(): the timer alone does not keep the thread alive.
let ticking = false
async function tick() {
  if (ticking) return
  ticking = true
  // A failure is logged and retried at the next tick: what was not written or copied stays
  // pending (in the engine or in its outbox).
  try {
    if (TICK_FLUSH) engine.flush()
    else engine.tick()
  } catch (e) {
    log().error('harper-edge component: engine tick failed:', e)
  }
  try {
    await drainOutbox()
  } catch (e) {
    log().error('harper-edge component: copying the outbox failed:', e)
  } finally {
    ticking = false
  }
}
setInterval(tick, TICK_MS).unref()

// Monitoring: every worker's engine has a Monitor (rules, alerts, retraining requests and
// configuration layers are records of its engine, mirrored into the AlertRule, AlertEvent,
// RetrainingRequest and MonitoringConfig tables by the ticker above). Only one worker thread
// runs the scheduler (`monitor.start()`), so that checks and alerts are not repeated per worker:
// the one whose `server.workerIndex` is 0. Harper numbers its worker threads from 0 and leaves
// `server.workerIndex` undefined on the main thread, so exactly one thread per process matches.
// That worker loads the rules and configuration layers written through other workers from the
// tables on every tick (`syncMonitoring`). HARPER_EDGE_MONITOR=off starts no scheduler;
// HARPER_EDGE_MONITOR_MS (default 10000) is the time between its ticks.
const MONITOR_ENABLED = monitorSwitch(process.env.HARPER_EDGE_MONITOR)
const MONITOR_MS = positiveInteger('HARPER_EDGE_MONITOR_MS', 10_000, 'milliseconds')
const monitor = new Monitor(engine, { intervalMs: MONITOR_MS })
const SCHEDULER = MONITOR_ENABLED && globalThis.server?.workerIndex === 0

function monitorSwitch(text) {
  if (text === undefined || text === '' || text === 'on') return true
  if (text === 'off') return false
  throw new Error(`HARPER_EDGE_MONITOR must be 'on' or 'off', got '${text}'`)
}

monitor.onAlert(({ kind, alert }) => {
  const say = kind === 'fired' ? 'warn' : 'info'
  log()[say]?.(`harper-edge component: alert ${kind}: ${alert.message} (${alert.id})`)
})
monitor.onRetrainingApproved((r) => {
  // A real deployment starts its training job here, then marks the request completed.
  log().info?.(`harper-edge component: retraining ${r.id} of ${r.modelName}:${r.modelVersion} approved: job ${r.trainingJobId}`)
})

// The scheduler worker's copy of the rules and configuration layers follows the tables (where
// every worker's writes land): a row newer than the engine's record is loaded, and a record
// whose row was deleted (after the engine had seen it in the table) is deleted.
const seenInTable = { AlertRule: new Set(), MonitoringConfig: new Set() }
// Deleted through this worker but maybe still in the table (until the next drain): not loaded
// back.
const deletedHere = { AlertRule: new Set(), MonitoringConfig: new Set() }

async function syncMonitoring() {
  const rules = new Map(monitor.rules().map((r) => [r.id, r]))
  const ruleRows = new Set()
  for await (const row of tables.AlertRule.search({})) {
    const rule = plain(row)
    ruleRows.add(rule.id)
    const mine = rules.get(rule.id)
    if (deletedHere.AlertRule.has(rule.id)) continue
    if (!mine || rule.updatedAt > mine.updatedAt) monitor.restore('AlertRule', rule)
  }
  for (const id of rules.keys()) {
    if (!ruleRows.has(id) && seenInTable.AlertRule.has(id)) monitor.deleteRule(id)
  }
  seenInTable.AlertRule = ruleRows
  for (const id of deletedHere.AlertRule) if (!ruleRows.has(id)) deletedHere.AlertRule.delete(id)
  const layerRows = new Set()
  for await (const row of tables.MonitoringConfig.search({})) {
    const layer = plain(row)
    layerRows.add(layer.id)
    if (deletedHere.MonitoringConfig.has(layer.id)) continue
    const scope = scopeOf(layer)
    const mine = monitor.configLayer(scope)
    if (!mine || layer.updatedAt > mine.updatedAt) monitor.restore('MonitoringConfig', layer)
  }
  for (const id of seenInTable.MonitoringConfig) {
    if (!layerRows.has(id)) {
      const [, modelName, modelVersion] = id.split(':')
      monitor.clearConfig(id === 'global' ? {} : { modelName, modelVersion })
    }
  }
  seenInTable.MonitoringConfig = layerRows
  for (const id of deletedHere.MonitoringConfig) {
    if (!layerRows.has(id)) deletedHere.MonitoringConfig.delete(id)
  }
}

function scopeOf({ modelName, modelVersion }) {
  return modelName == null ? {} : modelVersion == null ? { modelName } : { modelName, modelVersion }
}

if (SCHEDULER) {
  let syncing = false
  setInterval(async () => {
    if (syncing) return
    syncing = true
    try {
      // After the pending drains: what this worker wrote is in the tables first.
      await drainOutbox()
      await syncMonitoring()
    } catch (e) {
      log().error('harper-edge component: loading monitoring rules from the tables failed:', e)
    } finally {
      syncing = false
    }
  }, MONITOR_MS).unref()
  monitor.start()
  log().info?.(`harper-edge component: monitor scheduler started in worker 0, every ${MONITOR_MS} ms`)
}

// harper-edge error codes as HTTP statuses; anything else is a server error.
const STATUS = {
  HARPER_EDGE_INVALID_INPUT: 400,
  HARPER_EDGE_SHAPE: 400,
  HARPER_EDGE_NOT_FOUND: 404,
  HARPER_EDGE_CONFLICT: 409,
  HARPER_EDGE_INVALID_TRANSITION: 409,
  HARPER_EDGE_MODEL_LOAD: 422,
  HARPER_EDGE_INTEGRITY: 422,
  HARPER_EDGE_NETWORK: 502,
}

class HttpError extends Error {
  constructor(code, message) {
    super(message)
    this.code = code
  }
}

// Runs a handler; a failure becomes a response with a real status and a JSON body
// `{ error, code }` (the original system answered errors with 200).
async function respond(handler) {
  try {
    return await handler()
  } catch (e) {
    const status = STATUS[e.code] ?? 500
    if (status === 500) log().error('harper-edge component:', e)
    return {
      status,
      headers: { 'Content-Type': 'application/json' },
      data: { error: e.message, code: typeof e.code === 'string' ? e.code : 'INTERNAL' },
    }
  }
}

function modelRef(modelName, modelVersion) {
  return modelVersion == null ? modelName : `${modelName}:${modelVersion}`
}

/**
 * `POST /Predict {modelName, modelVersion?, features, userId?, sessionId?, requestId?}`
 *
 * The call's InferenceEvent (failed calls have one too) is buffered by the engine and reaches
 * the table with the next tick, without delaying the answer.
 */
export class Predict extends Resource {
  static loadAsInstance = false

  post(target, body) {
    return respond(async () => {
      const { modelName, modelVersion, features, userId, sessionId, requestId } = body ?? {}
      if (typeof modelName !== 'string') {
        throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: modelName must be a string')
      }
      const p = await engine.inferJson(modelRef(modelName, modelVersion), features, {
        userId,
        sessionId,
        requestId,
      })
      const { inferenceId, prediction, confidence, latencyMs } = p
      return { inferenceId, prediction, confidence, modelVersion: p.modelVersion, latencyMs }
    })
  }
}

/** `POST /Feedback {inferenceId, actualOutcome}` → the updated InferenceEvent */
export class Feedback extends Resource {
  static loadAsInstance = false

  post(target, body) {
    return respond(async () => {
      const { inferenceId, actualOutcome } = body ?? {}
      let event
      try {
        event = engine.feedback(inferenceId, actualOutcome)
      } catch (e) {
        if (e.code !== 'HARPER_EDGE_NOT_FOUND') throw e
        return feedbackFromTable(inferenceId, actualOutcome, e)
      }
      await drainOutbox()
      return event
    })
  }
}

// An event this worker's engine does not hold (recorded by another worker thread, or before a
// restart) is still in the table: record the feedback there, deciding `correct` as the engine
// does.
async function feedbackFromTable(inferenceId, actualOutcome, notFound) {
  const row = await tables.InferenceEvent.get(inferenceId)
  if (!row) throw notFound
  if (row.error != null) {
    throw new HttpError(
      'HARPER_EDGE_INVALID_INPUT',
      `invalid input: inference '${inferenceId}' failed and has no prediction to compare`,
    )
  }
  await tables.InferenceEvent.patch(inferenceId, {
    actualOutcome,
    correct: outcomeMatches(row.prediction, actualOutcome),
    feedbackTimestamp: Date.now(),
  })
  return tables.InferenceEvent.get(inferenceId)
}

/** `POST /UploadModel {modelName, modelVersion, bytes (base64), framework?, stage?, metadata?}` */
export class UploadModel extends Resource {
  static loadAsInstance = false

  post(target, body) {
    return respond(async () => {
      const { modelName, modelVersion, bytes, framework, stage, metadata } = body ?? {}
      if (typeof bytes !== 'string') {
        throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: bytes must be base64')
      }
      const model = await engine.registerModel({
        name: modelName,
        version: modelVersion,
        bytes: Buffer.from(bytes, 'base64'),
        framework,
        stage,
        metadata,
      })
      await drainOutbox()
      return model
    })
  }
}

/**
 * Served under `/monitoring/metrics` (see `monitoring` below):
 *
 * - `GET /monitoring/metrics/{modelName}[?granularity=&version=&from=&to=&limit=]` → the rollup
 *   rows of the model (every version unless `version` names one), oldest period first:
 *   `ModelMetrics` records, 5-minute rows unless `granularity` is `hourly` or `daily`. `from` and
 *   `to` (periods starting in `[from, to)`) are epoch milliseconds or ISO 8601 times with a zone.
 *   Read from the ModelMetrics table, where every engine (worker thread, process, replicated
 *   node) writes its own rows: the rows of one period are combined by merging their latency
 *   sketches, so the answer counts every call the cluster recorded.
 * - `GET /monitoring/metrics/{modelName}?segment=KEY[&granularity=&version=&from=&to=]` → the
 *   same rollups split by a segment key (`SegmentedMetrics`: `segments[]` of `{ segment,
 *   requestCount, errorCount, rows }`, largest first). KEY is an event field (`modelVersion`,
 *   `userId`, `sessionId`, `framework`) or a feature of the calls (an A/B arm, a cohort).
 *   Computed from the replicated InferenceEvent table — the calls of `[from, to)`, by default
 *   the last 24 hours — so it counts every node's stored calls (raw-event sampling applies).
 * - `GET /monitoring/metrics/{modelName}/realtime[?modelVersion=…]` → the engine's real-time view
 *   of the model (its newest version unless `modelVersion` names one): calls, errors,
 *   throughput, latency percentiles, confidence and accuracy over the last five minutes. Served
 *   from this worker thread's engine: with several threads, each answers for the calls it
 *   received itself.
 */
class MonitoringMetrics extends Resource {
  static loadAsInstance = false

  get(target) {
    return respond(async () => {
      // Harper hands the path after /monitoring/metrics: `/iris` or `/iris/realtime`.
      const segments = target.pathname.split('/').filter(Boolean).map(decodeURIComponent)
      const segment = target.get('segment') ?? undefined
      if (segments.length === 1 && segment !== undefined) {
        return segmentMetrics(segments[0], segment, metricsOptions(target))
      }
      if (segments.length === 1) return clusterMetrics(segments[0], metricsOptions(target))
      if (segments.length === 2 && segments[1] === 'realtime') {
        return engine.realtime(modelRef(segments[0], target.get('modelVersion')))
      }
      throw new HttpError(
        'HARPER_EDGE_NOT_FOUND',
        `no such endpoint: GET /monitoring/metrics${target.pathname} (try /monitoring/metrics/{modelName} or /monitoring/metrics/{modelName}/realtime)`,
      )
    })
  }
}

// The rows of every origin in the ModelMetrics table that pass the query, combined into one row
// per model version and period, oldest period first.
async function clusterMetrics(modelName, options) {
  // The engine checks the name, granularity, version and range as it would for its own rows
  // (limit 0: it returns none).
  engine.metrics(modelName, { ...options, limit: 0 })
  const conditions = [
    { attribute: 'modelName', value: modelName },
    { attribute: 'granularity', value: options.granularity ?? '5min' },
  ]
  if (options.version !== undefined) conditions.push({ attribute: 'modelVersion', value: options.version })
  if (options.from !== undefined) {
    conditions.push({ attribute: 'periodStart', comparator: 'greater_than_equal', value: options.from })
  }
  if (options.to !== undefined) {
    conditions.push({ attribute: 'periodStart', comparator: 'less_than', value: options.to })
  }
  const rows = []
  for await (const row of tables.ModelMetrics.search({ conditions })) rows.push({ ...row })
  const combined = combineMetrics(rows)
  combined.sort(
    (a, b) =>
      a.periodStart - b.periodStart ||
      (a.modelVersion < b.modelVersion ? -1 : a.modelVersion > b.modelVersion ? 1 : 0),
  )
  return combined.slice(0, options.limit ?? 1000)
}

/**
 * `GET /monitoring/telemetry` → this worker thread's engine's `telemetryStats()` (calls counted,
 * raw events buffered, written, dropped, rejected, sampled out, expired; flush errors) and its
 * `origin`. Per worker: each thread answers for its own engine.
 */
class MonitoringTelemetry extends Resource {
  static loadAsInstance = false

  get(target) {
    return respond(async () => {
      if (target.pathname.split('/').some(Boolean)) {
        throw new HttpError('HARPER_EDGE_NOT_FOUND', `no such endpoint: GET /monitoring/telemetry${target.pathname}`)
      }
      return { origin: ORIGIN, ...engine.telemetryStats() }
    })
  }
}

// The query parameters of the rollups endpoint as `engine.metrics` options; the engine checks
// the granularity, the version and the ranges. `modelVersion` is accepted for `version`, as in
// the real-time endpoint.
function metricsOptions(target) {
  const param = (name) => target.get(name) ?? undefined
  const [version, modelVersion] = [param('version'), param('modelVersion')]
  if (version !== undefined && modelVersion !== undefined && version !== modelVersion) {
    throw new HttpError(
      'HARPER_EDGE_INVALID_INPUT',
      `invalid input: version '${version}' and modelVersion '${modelVersion}' differ`,
    )
  }
  const limit = param('limit')
  if (limit !== undefined && !(/^\d+$/.test(limit) && Number.isSafeInteger(Number(limit)))) {
    throw new HttpError('HARPER_EDGE_INVALID_INPUT', `invalid input: limit must be a non-negative integer, got '${limit}'`)
  }
  return {
    granularity: param('granularity'),
    version: version ?? modelVersion,
    from: time(param('from'), 'from'),
    to: time(param('to'), 'to'),
    limit: limit === undefined ? undefined : Number(limit),
  }
}

// Epoch milliseconds, or an ISO 8601 time with a zone (`2026-11-27T06:00:00Z`).
function time(text, name) {
  if (text === undefined) return undefined
  if (/^\d+$/.test(text)) return Number(text)
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/
  const ms = iso.test(text) ? Date.parse(text) : Number.NaN
  if (Number.isNaN(ms)) {
    throw new HttpError(
      'HARPER_EDGE_INVALID_INPUT',
      `invalid input: ${name} must be epoch milliseconds or an ISO 8601 time with a zone, got '${text}'`,
    )
  }
  return ms
}

// The rollups of the model's calls in the InferenceEvent table split by `segment`.
async function segmentMetrics(modelName, segment, options) {
  engine.metrics(modelName, { ...options, limit: 0 }) // checks name, granularity, range
  const to = options.to ?? Date.now()
  const from = options.from ?? to - 86_400_000
  const conditions = [
    { attribute: 'modelName', value: modelName },
    { attribute: 'timestamp', comparator: 'between', value: [from, to - 1] },
  ]
  if (options.version !== undefined) conditions.push({ attribute: 'modelVersion', value: options.version })
  const events = []
  for await (const row of tables.InferenceEvent.search({ conditions })) events.push({ ...row })
  const split = segmentRollups(events, { segment, granularity: options.granularity })
  const limit = options.limit ?? 1000
  for (const s of split.segments) s.rows = s.rows.slice(-limit)
  return { modelName, from, to, ...split }
}

/**
 * Drift, per model (its newest version unless `modelVersion` names one):
 *
 * - `POST /monitoring/drift/{modelName}/baseline {modelVersion?, reference?, categorical?, bins?,
 *   from?, to?, predictionFeatures?, accuracy?, segmentBy?}` sets the baseline: fitted on
 *   `reference` columns (`{ name: [values] }`), or on the model's calls in the InferenceEvent
 *   table between `from` and `to` (default: the last HARPER_EDGE_DRIFT_WINDOW_MS) with their
 *   feedback's accuracy; with the calls, `segmentBy` (keys such as a cohort or `userId`) also
 *   fits a baseline per segment for `/segments` checks. Stored in the DriftBaseline table;
 *   every worker loads it before its next check.
 * - `GET /monitoring/drift/{modelName}/baseline` → the stored baseline, without its statistics.
 * - `POST /monitoring/drift/{modelName}/check {modelVersion?, current?, labels?, from?, to?,
 *   alpha?, psiThreshold?, methods?, thresholds?, …}` checks `current` columns (with `labels`
 *   `{correct, total}` for concept drift), or the calls in the InferenceEvent table between
 *   `from` and `to` (default: the last HARPER_EDGE_DRIFT_WINDOW_MS), and writes DriftMetrics and
 *   DataQualityMetrics rows. Answers the check (`report`, `quality`, `concept`, `rows`,
 *   `drifted`).
 * - `POST /monitoring/drift/{modelName}/segments {segment, modelVersion?, current?, from?, to?,
 *   minRows?, maxSegments?, alpha?, correction?, …}` → the check split by `segment`
 *   (`SegmentedDriftReport`): per-segment reports with the error rate controlled across all
 *   segments; each segment against its own reference segment when the baseline has segments by
 *   that key, else the whole baseline. `current` columns, or the calls of the InferenceEvent
 *   table in `[from, to)` — with `segment: 'modelVersion'`, the calls of every version against
 *   this version's baseline (a canary). Nothing is stored.
 * - `GET /monitoring/drift/{modelName}?modelVersion=&driftType=&from=&to=&limit=` → the stored
 *   DriftMetrics rows, newest first (default limit 100), with the newest check's summary.
 */
class MonitoringDrift extends Resource {
  static loadAsInstance = false

  get(target) {
    return respond(async () => {
      const segments = driftPath(target, 'GET')
      if (segments.length === 2) return storedBaseline(segments[0], target.get('modelVersion') ?? undefined)
      return driftRows(segments[0], target)
    })
  }

  post(target, data) {
    return respond(async () => {
      const [modelName, action] = driftPath(target, 'POST')
      const body = (await data) ?? {}
      if (typeof body !== 'object' || Array.isArray(body)) {
        throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: the body must be a JSON object')
      }
      if (action === 'baseline') return setBaseline(modelName, body)
      if (action === 'check') return checkDrift(modelName, body)
      if (action === 'segments') return checkSegments(modelName, body)
      throw new HttpError(
        'HARPER_EDGE_NOT_FOUND',
        `no such endpoint: POST /monitoring/drift${target.pathname} (try /monitoring/drift/{modelName}/check, /segments or /baseline)`,
      )
    })
  }
}

// `[modelName]` or `[modelName, action]` from the path after /monitoring/drift.
function driftPath(target, method) {
  const segments = target.pathname.split('/').filter(Boolean).map(decodeURIComponent)
  const ok =
    segments.length === 1 ? method === 'GET' : segments.length === 2 && (segments[1] === 'baseline' || method === 'POST')
  if (!ok) {
    throw new HttpError(
      'HARPER_EDGE_NOT_FOUND',
      `no such endpoint: ${method} /monitoring/drift${target.pathname} (try /monitoring/drift/{modelName})`,
    )
  }
  return segments
}

// The model version a request means: the one it names, else the newest registered.
function versionOf(modelName, modelVersion) {
  return modelVersion ?? engine.model(modelName).modelVersion
}

// The successful and failed calls of name:version (every version when `modelVersion` is
// undefined) in [from, to) from the InferenceEvent table.
async function tableEvents(modelName, modelVersion, from, to) {
  const conditions = [
    { attribute: 'modelName', value: modelName },
    { attribute: 'timestamp', comparator: 'between', value: [from, to - 1] },
  ]
  if (modelVersion !== undefined) conditions.push({ attribute: 'modelVersion', value: modelVersion })
  const events = []
  for await (const row of tables.InferenceEvent.search({ conditions })) events.push({ ...row })
  return events
}

function period(body) {
  const now = Date.now()
  const to = body.to === undefined ? now : time(String(body.to), 'to')
  const from = body.from === undefined ? to - DRIFT_WINDOW_MS : time(String(body.from), 'from')
  return [from, to]
}

// A table record as a plain object (a record from `get` exposes its fields through its
// prototype, which spreading does not copy).
function plain(record) {
  return JSON.parse(JSON.stringify(record))
}

// What this worker's engine has loaded: baseline id → the createdAt of the stored row.
const loadedBaselines = new Map()

async function setBaseline(modelName, body) {
  const modelVersion = versionOf(modelName, body.modelVersion)
  const ref = `${modelName}:${modelVersion}`
  let stored
  if (body.reference !== undefined) {
    if (body.segmentBy !== undefined) {
      throw new HttpError(
        'HARPER_EDGE_INVALID_INPUT',
        'invalid input: segmentBy fits segments from the stored calls: leave out reference',
      )
    }
    const baseline = Baseline.fit(body.reference, { categorical: body.categorical, bins: body.bins })
    stored = engine.setBaseline(ref, baseline, {
      predictionFeatures: body.predictionFeatures,
      accuracy: body.accuracy,
      source: body.source ?? 'reference data',
    })
  } else {
    const [from, to] = period(body)
    const events = await tableEvents(modelName, modelVersion, from, to)
    stored = engine.fitBaselineFromEvents(ref, events, { bins: body.bins, segmentBy: body.segmentBy })
  }
  loadedBaselines.set(stored.id, stored.createdAt)
  await drainOutbox()
  return stored
}

// Loads the stored baseline of name:version into this worker's engine when it changed.
async function syncBaseline(modelName, modelVersion) {
  const id = `${modelName}:${modelVersion}`
  const row = await tables.DriftBaseline.get(id)
  if (!row) {
    throw new HttpError(
      'HARPER_EDGE_NOT_FOUND',
      `not found: no drift baseline for '${id}': POST /monitoring/drift/${modelName}/baseline first`,
    )
  }
  if (loadedBaselines.get(id) !== row.createdAt) {
    engine.restoreBaseline(plain(row))
    loadedBaselines.set(id, row.createdAt)
  }
  return row
}

async function storedBaseline(modelName, modelVersion) {
  const row = await syncBaseline(modelName, versionOf(modelName, modelVersion))
  const { baseline, ...record } = plain(row)
  return { ...record, features: engine.baseline(row.id).features }
}

async function checkDrift(modelName, body) {
  const modelVersion = versionOf(modelName, body.modelVersion)
  const ref = `${modelName}:${modelVersion}`
  await syncBaseline(modelName, modelVersion)
  const { current, from, to, modelVersion: _v, ...options } = body
  let result
  if (current !== undefined) {
    result = engine.checkDrift(ref, current, options)
  } else {
    const [start, end] = period(body)
    result = engine.checkDriftEvents(ref, await tableEvents(modelName, modelVersion, start, end), options)
  }
  await drainOutbox()
  return result
}

async function checkSegments(modelName, body) {
  const modelVersion = versionOf(modelName, body.modelVersion)
  const ref = `${modelName}:${modelVersion}`
  await syncBaseline(modelName, modelVersion)
  const { current, from, to, modelVersion: _v, ...options } = body
  if (typeof options.segment !== 'string') {
    throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: segment must be a string (the key to split by)')
  }
  if (current !== undefined) return engine.checkDriftSegments(ref, current, options)
  const [start, end] = period(body)
  const everyVersion = options.segment === 'modelVersion' ? undefined : modelVersion
  const events = await tableEvents(modelName, everyVersion, start, end)
  return engine.checkDriftSegmentsEvents(ref, events, options)
}

async function driftRows(modelName, target) {
  const param = (name) => target.get(name) ?? undefined
  const options = metricsOptions(target)
  const driftType = param('driftType')
  // The engine checks the reference, the drift type and the limit as it would for its own rows.
  engine.driftMetrics(modelRef(modelName, options.version), { driftType, limit: 0 })
  const conditions = [{ attribute: 'modelName', value: modelName }]
  if (options.version !== undefined) conditions.push({ attribute: 'modelVersion', value: options.version })
  if (driftType !== undefined) conditions.push({ attribute: 'driftType', value: driftType })
  if (options.from !== undefined) {
    conditions.push({ attribute: 'timestamp', comparator: 'greater_than_equal', value: options.from })
  }
  if (options.to !== undefined) conditions.push({ attribute: 'timestamp', comparator: 'less_than', value: options.to })
  const rows = []
  for await (const row of tables.DriftMetrics.search({ conditions })) rows.push({ ...row })
  rows.sort((a, b) => b.timestamp - a.timestamp || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const limited = rows.slice(0, options.limit ?? 100)
  const newest = rows[0]
  let latest = null
  if (newest) {
    const same = rows.filter((r) => r.timestamp === newest.timestamp && r.modelVersion === newest.modelVersion)
    const quality = await tables.DataQualityMetrics.get(`${modelName}:${newest.modelVersion}:${newest.timestamp}`)
    latest = {
      modelVersion: newest.modelVersion,
      timestamp: newest.timestamp,
      drifted: same.filter((r) => r.drifted).map((r) => r.featureName),
      checked: same.length,
      quality: quality ? plain(quality) : null,
    }
  }
  return { modelName, latest, rows: limited }
}


// ------------------------------------------------------------------------------------------
// Monitoring endpoints. They answer from this worker's engine (its Monitor): with one worker
// thread (or requests reaching worker 0, the scheduler) they see every alert and request. The
// tables hold every worker's records.

// The path segments after the resource's own path.
function segments(target) {
  return target.pathname.split('/').filter(Boolean).map(decodeURIComponent)
}

function noEndpoint(method, base, target, hint) {
  return new HttpError('HARPER_EDGE_NOT_FOUND', `no such endpoint: ${method} ${base}${target.pathname} (${hint})`)
}

async function jsonBody(data) {
  const body = (await data) ?? {}
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: the body must be a JSON object')
  }
  return body
}

function booleanParam(target, name) {
  const text = target.get(name) ?? undefined
  if (text === undefined) return undefined
  if (text === 'true' || text === 'false') return text === 'true'
  throw new HttpError('HARPER_EDGE_INVALID_INPUT', `invalid input: ${name} must be true or false, got '${text}'`)
}

function limitParam(target) {
  const text = target.get('limit') ?? undefined
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text)) {
    throw new HttpError('HARPER_EDGE_INVALID_INPUT', `invalid input: limit must be a non-negative integer, got '${text}'`)
  }
  return Number(text)
}

const param = (target, name) => target.get(name) ?? undefined

/**
 * - `GET /monitoring/alerts?modelName=&modelVersion=&severity=&status=&acknowledged=&ruleId=&limit=`
 *   → AlertEvent records, newest first.
 * - `GET /monitoring/alerts/{alertId}` → one AlertEvent.
 * - `POST /monitoring/alerts/{alertId}/acknowledge {acknowledgedBy}` → the acknowledged event.
 */
/**
 * Loads the mirrored row `id` of `table` into this worker's engine before acting on it: the
 * record may have been written by another worker thread (each has its own engine) or another
 * node. `restore` never moves a record backwards, so a stale row cannot undo a newer local
 * state.
 */
async function restoreRow(table, id) {
  const row = await tables[table].get(id)
  if (row) monitor.restore(table, plain(row))
}

/**
 * The rows of a mirrored monitoring table (cluster-wide: every worker and node mirrors into
 * it), filtered by `filters` (attribute → value; undefined ignored), newest `timeAttribute`
 * first, at most `limit`.
 */
async function monitoringRows(table, filters, timeAttribute, limit) {
  const wanted = Object.entries(filters).filter(([, value]) => value !== undefined)
  // The indexed modelName narrows the scan; the other filters are applied here.
  const query = filters.modelName === undefined ? {} : { conditions: [{ attribute: 'modelName', value: filters.modelName }] }
  const rows = []
  for await (const row of tables[table].search(query)) {
    const record = plain(row)
    if (wanted.every(([attribute, value]) => record[attribute] === value)) rows.push(record)
  }
  rows.sort((a, b) => b[timeAttribute] - a[timeAttribute] || (a.id < b.id ? 1 : -1))
  return limit === undefined ? rows : rows.slice(0, limit)
}

class MonitoringAlerts extends Resource {
  static loadAsInstance = false

  get(target) {
    return respond(async () => {
      const path = segments(target)
      if (path.length === 1) {
        await restoreRow('AlertEvent', path[0])
        return monitor.alert(path[0])
      }
      if (path.length > 0) throw noEndpoint('GET', '/monitoring/alerts', target, 'try /monitoring/alerts')
      // Validated by the engine's own query first (bad severity or status: 400), then read
      // from the replicated table, so alerts raised by any worker or node are listed.
      const filters = {
        modelName: param(target, 'modelName'),
        modelVersion: param(target, 'modelVersion'),
        severity: param(target, 'severity'),
        status: param(target, 'status'),
        acknowledged: booleanParam(target, 'acknowledged'),
        ruleId: param(target, 'ruleId'),
      }
      monitor.alerts({ ...filters, limit: 0 })
      return monitoringRows('AlertEvent', filters, 'timestamp', limitParam(target))
    })
  }

  post(target, data) {
    return respond(async () => {
      const path = segments(target)
      if (path.length !== 2 || path[1] !== 'acknowledge') {
        throw noEndpoint('POST', '/monitoring/alerts', target, 'try /monitoring/alerts/{alertId}/acknowledge')
      }
      const { acknowledgedBy } = await jsonBody(data)
      if (typeof acknowledgedBy !== 'string' || acknowledgedBy.trim() === '') {
        throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: acknowledgedBy must name who acknowledges')
      }
      await restoreRow('AlertEvent', path[0])
      const event = monitor.acknowledge(path[0], acknowledgedBy)
      await drainOutbox()
      return event
    })
  }
}

/**
 * - `GET /monitoring/retraining-requests?status=&modelName=` → RetrainingRequest records,
 *   newest first; `GET /monitoring/retraining-requests/{id}` → one.
 * - `POST /monitoring/retraining-requests {modelName, modelVersion?, requestedBy, details?}` → a
 *   manual request, `pending_approval` or `blocked` by its safety checks.
 * - `POST /monitoring/retraining-requests/{id}/approve {reviewedBy, reason?}` → approved, with
 *   its `trainingJobId`; `/reject {reviewedBy, reason?}` → rejected; `/complete` → completed.
 *   A request in another state answers 409 (`HARPER_EDGE_INVALID_TRANSITION`).
 */
class MonitoringRetrainingRequests extends Resource {
  static loadAsInstance = false

  get(target) {
    return respond(async () => {
      const path = segments(target)
      if (path.length === 1) {
        await restoreRow('RetrainingRequest', path[0])
        return monitor.retrainingRequest(path[0])
      }
      if (path.length > 0) {
        throw noEndpoint('GET', '/monitoring/retraining-requests', target, 'try /monitoring/retraining-requests')
      }
      const filters = { modelName: param(target, 'modelName'), status: param(target, 'status') }
      monitor.retrainingRequests(filters) // validates the status (400 for an unknown one)
      return monitoringRows('RetrainingRequest', filters, 'requestedAt', limitParam(target))
    })
  }

  post(target, data) {
    return respond(async () => {
      const path = segments(target)
      const body = await jsonBody(data)
      let result
      if (path.length === 0) {
        const { modelName, modelVersion, requestedBy, details } = body
        if (typeof modelName !== 'string') {
          throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: modelName must be a string')
        }
        result = monitor.requestRetraining(modelRef(modelName, modelVersion), { by: requestedBy, details })
      } else if (path.length === 2 && ['approve', 'reject'].includes(path[1])) {
        await restoreRow('RetrainingRequest', path[0])
        const { reviewedBy, reason } = body
        if (typeof reviewedBy !== 'string') {
          throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: reviewedBy must name the reviewer')
        }
        result = monitor[path[1]](path[0], reviewedBy, reason ?? undefined)
      } else if (path.length === 2 && path[1] === 'complete') {
        await restoreRow('RetrainingRequest', path[0])
        result = monitor.complete(path[0])
      } else {
        throw noEndpoint(
          'POST',
          '/monitoring/retraining-requests',
          target,
          'try /monitoring/retraining-requests/{id}/approve, /reject or /complete',
        )
      }
      await drainOutbox()
      return result
    })
  }
}

/**
 * - `GET /monitoring/rules` → the AlertRule records, oldest change first.
 * - `POST /monitoring/rules {ruleName, alertType, condition, modelName?, modelVersion?,
 *   severity?, notificationChannels?, noData?, cooldown?, requestRetraining?, enabled?, id?}` →
 *   the saved rule (an unknown metric or field is a 400 naming it).
 * - `DELETE /monitoring/rules/{id}` → `{ deleted: id }`.
 */
class MonitoringRules extends Resource {
  static loadAsInstance = false

  get(target) {
    return respond(async () => {
      const path = segments(target)
      if (path.length === 1) {
        const rule = monitor.rules().find((r) => r.id === path[0])
        if (!rule) throw new HttpError('HARPER_EDGE_NOT_FOUND', `not found: alert rule '${path[0]}'`)
        return rule
      }
      if (path.length > 0) throw noEndpoint('GET', '/monitoring/rules', target, 'try /monitoring/rules')
      return monitor.rules()
    })
  }

  post(target, data) {
    return respond(async () => {
      if (segments(target).length > 0) throw noEndpoint('POST', '/monitoring/rules', target, 'try /monitoring/rules')
      const rule = monitor.putRule(await jsonBody(data))
      deletedHere.AlertRule.delete(rule.id)
      await drainOutbox()
      return rule
    })
  }

  delete(target) {
    return respond(async () => {
      const path = segments(target)
      if (path.length !== 1) throw noEndpoint('DELETE', '/monitoring/rules', target, 'try /monitoring/rules/{id}')
      monitor.deleteRule(path[0])
      deletedHere.AlertRule.add(path[0])
      await drainOutbox()
      return { deleted: path[0] }
    })
  }
}

/**
 * - `GET /monitoring/config?modelName=&modelVersion=` → the configuration in effect for that
 *   scope (defaults, then the global, model and version layers), with the scope's own `layer`.
 * - `PUT /monitoring/config?modelName=&modelVersion= {…fields}` → sets the scope's layer (no
 *   `modelName`: the global one); an invalid field is a 400 naming it
 *   (`aggregation.driftCheck`).
 * - `DELETE /monitoring/config?modelName=&modelVersion=` → removes the scope's layer.
 */
class MonitoringConfigResource extends Resource {
  static loadAsInstance = false

  get(target) {
    return respond(async () => {
      const scope = configScope(target, 'GET')
      return { ...monitor.config(scope), layer: monitor.configLayer(scope) }
    })
  }

  put(target, data) {
    return respond(async () => {
      const scope = configScope(target, 'PUT')
      const stored = monitor.setConfig(await jsonBody(data), scope)
      deletedHere.MonitoringConfig.delete(stored.id)
      await drainOutbox()
      return stored
    })
  }

  delete(target) {
    return respond(async () => {
      const scope = configScope(target, 'DELETE')
      const cleared = monitor.clearConfig(scope)
      const id = scope.modelName === undefined ? 'global' : ['model', scope.modelName, scope.modelVersion].filter(Boolean).join(':')
      deletedHere.MonitoringConfig.add(id)
      await drainOutbox()
      return { cleared }
    })
  }
}

function configScope(target, method) {
  if (segments(target).length > 0) throw noEndpoint(method, '/monitoring/config', target, 'try /monitoring/config?modelName=')
  const [modelName, modelVersion] = [param(target, 'modelName'), param(target, 'modelVersion')]
  if (modelName === undefined && modelVersion !== undefined) {
    throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: modelVersion needs modelName')
  }
  return scopeOf({ modelName, modelVersion })
}

export const monitoring = {
  metrics: MonitoringMetrics,
  telemetry: MonitoringTelemetry,
  drift: MonitoringDrift,
  alerts: MonitoringAlerts,
  'retraining-requests': MonitoringRetrainingRequests,
  rules: MonitoringRules,
  config: MonitoringConfigResource,
}

// ------------------------------------------------------------------------------------------
// The live dashboard (dashboard.js): HTML pages rendered by harper-edge's report renderer from
// the replicated tables, so every worker and node's records are shown.

/**
 * - `GET /dashboard[?granularity=&from=&to=&model=&refresh=]` → an HTML page (text/html): one
 *   section per registered model version (the Model table; `model` = a name or name:version
 *   keeps those), traffic, drift, data quality, alerts and pending retraining requests, with
 *   approve / reject / acknowledge buttons that call the monitoring endpoints. `granularity`
 *   5min (default), hourly or daily; `from` / `to` epoch ms or ISO 8601 (default the 288
 *   periods before now); the page refreshes its sections every `refresh` seconds (default 10,
 *   0: never).
 * - `GET /dashboard/sections[?granularity=&from=&to=&model=]` → the sections alone (an HTML
 *   fragment), which the page fetches to refresh itself.
 *
 * A bad parameter is a 400 `{ error, code }` as elsewhere.
 */
class Dashboard extends Resource {
  static loadAsInstance = false

  get(target) {
    return respond(async () => {
      const path = segments(target)
      if (path.length > 1 || (path.length === 1 && path[0] !== 'sections')) {
        throw noEndpoint('GET', '/dashboard', target, 'try /dashboard or /dashboard/sections')
      }
      const query = dashboardQuery(target, time)
      const sections = await dashboardSections(tables, query, log())
      return htmlResponse(path.length === 1 ? sections : dashboardPage(sections, query, target))
    })
  }
}

export const dashboard = Dashboard


// ------------------------------------------------------------------------------------------
// Model fetching, the registry and profiles. Fetch jobs run on this worker's engine (its fetch
// queue, into HARPER_EDGE_DATA_DIR); their records reach the FetchJob table through the outbox
// like every other record, progress included.

// A source from a request: `hf:org/name[@rev]`, an http(s) URL, a path below MODELS_ROOT, or a
// SourceSpec object (JSON). Filesystem sources are rewritten to `{kind: 'fs', root: MODELS_ROOT,
// path}`: the engine refuses a path that leaves its root (`..`), and absolute paths are refused
// here.
function confinedSource(source) {
  let spec = source
  if (typeof source === 'string' && source.trim().startsWith('{')) {
    try {
      spec = JSON.parse(source)
    } catch {
      throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: source is not valid JSON')
    }
  }
  if (typeof spec === 'string') {
    const text = spec.trim()
    if (/^hf:/.test(text) || /^https?:\/\//.test(text)) return text
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
      throw new HttpError('HARPER_EDGE_INVALID_INPUT', `invalid input: unsupported source '${text}' (hf:org/name, an http(s) URL, or a path below the models root)`)
    }
    spec = { kind: 'fs', path: text }
  }
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: source must be a string or a SourceSpec object')
  }
  if (spec.kind !== 'fs') return spec
  if (typeof spec.path !== 'string' || spec.path === '') {
    throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: source.path must name a file or directory below the models root')
  }
  if (isAbsolute(spec.path)) {
    throw new HttpError('HARPER_EDGE_INVALID_INPUT', `invalid input: path '${spec.path}' must be relative to the models root`)
  }
  return { kind: 'fs', root: MODELS_ROOT, path: spec.path }
}

const FETCH_KEYS = ['variant', 'sha256', 'files', 'revision', 'framework', 'stage', 'metadata', 'mainFile']

/**
 * `POST /FetchModel {modelName, modelVersion, source, variant?, sha256?, files?, revision?,
 * framework?, stage?, metadata?, mainFile?}` → 202 and the FetchJob (queued). The job runs in
 * the background and registers the model once its files are verified; follow it with
 * `GET /ModelFetchJobs/{id}`.
 */
export class FetchModel extends Resource {
  static loadAsInstance = false

  post(target, data) {
    return respond(async () => {
      const body = await jsonBody(data)
      const { modelName, modelVersion, source } = body
      if (typeof modelName !== 'string' || typeof modelVersion !== 'string') {
        throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: modelName and modelVersion must be strings')
      }
      if (source === undefined) throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: source is required')
      const options = Object.fromEntries(FETCH_KEYS.filter((k) => body[k] != null).map((k) => [k, body[k]]))
      const job = await engine.fetchModel(modelName, modelVersion, confinedSource(source), options)
      await drainOutbox()
      return { status: 202, headers: { 'Content-Type': 'application/json' }, data: job }
    })
  }
}

/**
 * - `GET /ModelFetchJobs[?modelName=&state=&limit=]` → FetchJob records, newest first, from the
 *   FetchJob table (every worker's jobs).
 * - `GET /ModelFetchJobs/{id}` → one job (`name:version`): this worker's engine's copy when it
 *   runs the job (the freshest progress), else the table row.
 * - `POST /ModelFetchJobs {action: 'retry' | 'cancel', id}` → the job, `queued` or `cancelled`
 *   (409 when the job cannot move so).
 */
export class ModelFetchJobs extends Resource {
  static loadAsInstance = false

  get(target) {
    return respond(async () => {
      const path = segments(target)
      if (path.length === 1) {
        try {
          return engine.fetchJob(path[0])
        } catch (e) {
          if (e.code !== 'HARPER_EDGE_NOT_FOUND') throw e
          const row = await tables.FetchJob.get(path[0])
          if (!row) throw e
          return plain(row)
        }
      }
      if (path.length > 0) throw noEndpoint('GET', '/ModelFetchJobs', target, 'try /ModelFetchJobs/{id}')
      const filters = { modelName: param(target, 'modelName'), state: param(target, 'state') }
      engine.fetchJobs({ ...filters, limit: 0 }) // validates the state (400 for an unknown one)
      await drainOutbox()
      return monitoringRows('FetchJob', filters, 'createdAt', limitParam(target))
    })
  }

  post(target, data) {
    return respond(async () => {
      if (segments(target).length > 0) throw noEndpoint('POST', '/ModelFetchJobs', target, 'try POST /ModelFetchJobs {action, id}')
      const { action, id } = await jsonBody(data)
      if (typeof id !== 'string') throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: id must be a string')
      let job
      if (action === 'retry') job = engine.retryJob(id)
      else if (action === 'cancel') job = engine.cancelJob(id)
      else throw new HttpError('HARPER_EDGE_INVALID_INPUT', "invalid input: action must be 'retry' or 'cancel'")
      await drainOutbox()
      return job
    })
  }
}

/**
 * Benchmarks of equivalent models (same metadata `taskType` and `equivalenceGroup`):
 *
 * - `POST /Benchmark {group, batchSizes?, concurrency?, iterations?, warmup?, inputs?, reference?,
 *   minCosine?, maxAbsDiff?, minLabelAgreement?, notes?}` → the `BenchmarkResult` (this worker's
 *   engine runs it off the event loop: fresh loads, agreement with the reference, latency
 *   percentiles, throughput, a winner), stored and mirrored into the BenchmarkResult table. An
 *   unknown group is 404; bad options or a group that cannot be compared 400.
 * - `GET /Benchmark[?group=&limit=]` → stored results, newest first, from the BenchmarkResult
 *   table (every worker's and node's runs).
 * - `GET /Benchmark/groups` → the equivalence groups of the registered models.
 * - `GET /Benchmark/{id}` → one stored result.
 */
export class Benchmark extends Resource {
  static loadAsInstance = false

  get(target) {
    return respond(async () => {
      const path = segments(target)
      if (path.length === 1 && path[0] === 'groups') return engine.benchmarkGroups()
      if (path.length === 1) {
        const row = await tables.BenchmarkResult.get(path[0])
        if (!row) throw new HttpError('HARPER_EDGE_NOT_FOUND', `not found: benchmark result '${path[0]}'`)
        return plain(row)
      }
      if (path.length > 0) throw noEndpoint('GET', '/Benchmark', target, 'try /Benchmark, /Benchmark/groups or /Benchmark/{id}')
      await drainOutbox()
      return monitoringRows('BenchmarkResult', { equivalenceGroup: param(target, 'group') }, 'timestamp', limitParam(target))
    })
  }

  post(target, data) {
    return respond(async () => {
      if (segments(target).length > 0) throw noEndpoint('POST', '/Benchmark', target, 'try POST /Benchmark {group, ...options}')
      const { group, ...options } = await jsonBody(data)
      if (typeof group !== 'string') throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: group must be a string')
      const result = await engine.benchmark(group, { runBy: 'POST /Benchmark', ...options })
      await drainOutbox()
      return result
    })
  }
}

/**
 * `GET /InspectModel?source=&variant=&revision=&files=a,b` → what the source holds (files and
 * sizes, which a fetch would take, framework, revision, suggested name), without downloading
 * model files.
 */
export class InspectModel extends Resource {
  static loadAsInstance = false

  get(target) {
    return respond(async () => {
      const source = param(target, 'source')
      if (source === undefined) throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: source is required')
      const files = param(target, 'files')
      return inspectSource(confinedSource(source), {
        variant: param(target, 'variant'),
        revision: param(target, 'revision'),
        files: files === undefined ? undefined : files.split(',').filter(Boolean),
      })
    })
  }
}

/**
 * - `GET /ModelList[?name=&framework=&taskType=&stage=]` → this worker's registered models,
 *   oldest first, with `provenance` and `files` for fetched ones.
 * - `DELETE /ModelList/{name:version}` → the removed Model (its fetch job and unused files go
 *   too; its table rows are deleted). 409 while its fetch job runs.
 */
export class ModelList extends Resource {
  static loadAsInstance = false

  get(target) {
    return respond(async () => {
      if (segments(target).length > 0) throw noEndpoint('GET', '/ModelList', target, 'try /ModelList?framework=')
      return engine.listModels({
        name: param(target, 'name') ?? param(target, 'modelName'),
        framework: param(target, 'framework'),
        taskType: param(target, 'taskType'),
        stage: param(target, 'stage'),
      })
    })
  }

  delete(target) {
    return respond(async () => {
      const path = segments(target)
      if (path.length !== 1) throw noEndpoint('DELETE', '/ModelList', target, 'try /ModelList/{name:version}')
      const removed = engine.removeModel(path[0])
      await drainOutbox()
      return removed
    })
  }
}

/**
 * - `POST /Profile/deploy {profile, dryRun?}` (or the profile itself as the body) → the
 *   DeployReport: each model `already_registered`, `registered`, `would_register` or `failed`
 *   with its error. Filesystem paths are read from HARPER_EDGE_MODELS_ROOT and must stay inside
 *   it. Waits for the fetches (at most HARPER_EDGE_DEPLOY_TIMEOUT_MS).
 * - `POST /Profile/validate {profile}` → `{valid, name, models, problems}`, each problem naming
 *   its model and field.
 */
class ProfileResource extends Resource {
  static loadAsInstance = false

  post(target, data) {
    return respond(async () => {
      const path = segments(target)
      const body = await jsonBody(data)
      const profile = body.profile ?? body
      if (profile === null || typeof profile !== 'object' || Array.isArray(profile)) {
        throw new HttpError('HARPER_EDGE_INVALID_INPUT', 'invalid input: profile must be a JSON object')
      }
      if (path.length === 1 && path[0] === 'validate') return validateProfile(profile)
      if (path.length !== 1 || path[0] !== 'deploy') {
        throw noEndpoint('POST', '/Profile', target, 'try /Profile/deploy or /Profile/validate')
      }
      const report = await engine.deployProfile(profile, {
        root: MODELS_ROOT,
        dryRun: body.dryRun === true,
        timeoutMs: DEPLOY_TIMEOUT_MS,
      })
      await drainOutbox()
      return report
    })
  }
}

export const Profile = ProfileResource
