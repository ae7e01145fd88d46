// Browser tests of the reports: headless Chromium (Debian's `chromium`, `make browser-setup`)
// driven by playwright-core opens (1) a report file written by harper-edge's renderer and (2)
// the live dashboard served by a real HarperDB on 127.0.0.1 (its own instance, ports and home,
// as in integration.test.mjs), checks what the pages show, clicks their buttons, and saves
// screenshots under test-artifacts/harper-component/ at the repository's root (outside the
// component's folder: Harper reloads the component when a file in its folder changes). No
// request leaves 127.0.0.1.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'

import { Baseline, Engine, Monitor } from 'harper-edge'
import { chromium } from 'playwright-core'

const HOST = '127.0.0.1'
const HTTP_PORT = 19936
const OPERATIONS_PORT = 19935
const BASE = `http://${HOST}:${HTTP_PORT}`
const START_TIMEOUT_MS = 90_000
const STOP_TIMEOUT_MS = 15_000
const TICK_MS = 100
const MONITOR_MS = 200
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const componentDir = fileURLToPath(new URL('..', import.meta.url))
const harperBin = fileURLToPath(new URL('../node_modules/harperdb/bin/harperdb.js', import.meta.url))
const artifacts =
  process.env.HARPER_EDGE_TEST_ARTIFACTS ?? fileURLToPath(new URL('../../../test-artifacts/harper-component/', import.meta.url))
const dataDir = new URL('../../../tests/data/', import.meta.url)
const MODEL_PATH = fileURLToPath(new URL('iris_logreg.onnx', dataDir))
const MODEL_BYTES = readFileSync(MODEL_PATH)
const REFERENCE = JSON.parse(readFileSync(new URL('iris_logreg.reference.json', dataDir), 'utf8'))

let harper
let exited
let home
let browser
let failed = false
const logLines = []

function record(chunk) {
  logLines.push(...chunk.toString().split('\n'))
  if (logLines.length > 400) logLines.splice(0, logLines.length - 400)
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
  return { status: response.status, body: json, type: response.headers.get('content-type') }
}

const post = (path, body) => request('POST', path, body)
const put = (path, body) => request('PUT', path, body)
const get = (path) => request('GET', path)

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

const ok = (r) => assert.equal(r.status, 200, JSON.stringify(r.body))

before(async () => {
  // A missing browser is a failure with the fix, not a skipped test.
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: run \`make browser-setup\` (installs Debian's chromium) or set CHROMIUM_PATH`)
  }
  mkdirSync(artifacts, { recursive: true })
  for (const port of [HTTP_PORT, OPERATIONS_PORT]) {
    assert.equal(await portAnswers(port), false, `port ${port} on ${HOST} is already in use`)
  }
  home = mkdtempSync(join(tmpdir(), 'harper-edge-dashboard-'))
  mkdirSync(join(home, 'home'))
  const env = {
    ...process.env,
    HOME: join(home, 'home'),
    ROOTPATH: join(home, 'hdb-root'),
    TC_AGREEMENT: 'yes',
    HDB_ADMIN_USERNAME: 'admin',
    HDB_ADMIN_PASSWORD: 'dashboard-test-password',
    DEFAULTS_MODE: 'dev',
    REPLICATION_HOSTNAME: 'localhost',
    HARPER_EDGE_TICK_MS: String(TICK_MS),
    HARPER_EDGE_TICK_FLUSH: '1',
    HARPER_EDGE_SAMPLE_RATE: '1',
    HARPER_EDGE_MONITOR_MS: String(MONITOR_MS),
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
  for (const name of ['HARPER_EDGE_MODEL_PATH', 'HARPER_EDGE_MODEL_NAME', 'HARPER_EDGE_MODEL_VERSION']) {
    delete env[name]
  }
  const started = performance.now()
  harper = spawn(process.execPath, [harperBin, 'run', componentDir], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  harper.stdout.on('data', record)
  harper.stderr.on('data', record)
  exited = new Promise((resolve) => harper.once('exit', (code, signal) => resolve({ code, signal })))
  let gone
  exited.then((how) => (gone = how))
  // The browser starts while Harper does.
  const launched = chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  while (true) {
    if (gone) throw new Error(`harperdb exited (${JSON.stringify(gone)}) before serving:\n${logLines.slice(-60).join('\n')}`)
    if (performance.now() - started > START_TIMEOUT_MS) {
      throw new Error(`harperdb did not serve within ${START_TIMEOUT_MS} ms:\n${logLines.slice(-60).join('\n')}`)
    }
    const ready = await get('/Model/iris:1').catch(() => undefined)
    if (ready?.status === 200) break
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  console.log(`harperdb served the component after ${Math.round(performance.now() - started)} ms`)
  browser = await launched
})

after(async () => {
  if (failed) console.log(`end of harperdb's log:\n${logLines.slice(-60).join('\n')}`)
  await browser?.close()
  if (harper && harper.exitCode === null && harper.signalCode === null) {
    harper.kill('SIGTERM')
    const timeout = new Promise((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS, 'timeout'))
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      harper.kill('SIGKILL')
      await exited
    }
  }
  if (home) rmSync(home, { recursive: true, force: true })
})

// A page that fails the test on a script error and records every URL it requests.
async function openPage(viewport = { width: 1280, height: 900 }) {
  const page = await browser.newPage({ viewport })
  const requests = []
  const errors = []
  page.on('request', (r) => requests.push(r.url()))
  page.on('pageerror', (e) => errors.push(e))
  page.on('console', (m) => m.type() === 'error' && errors.push(new Error(m.text())))
  return { page, requests, errors }
}

// The rows of a table as arrays of cell texts (header row included).
const tableRows = (table) =>
  table.evaluate((t) => Array.from(t.rows, (r) => Array.from(r.cells, (c) => c.textContent.trim())))

// Every chart is an <svg role=img> whose accessible name (computed by the browser) is its
// <title>, described by a non-empty <desc>.
async function assertChartsLabelled(page) {
  // Collapsed charts (in closed <details>) are hidden from the accessibility tree: open them.
  await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)))
  const charts = page.locator('svg[role=img]')
  const n = await charts.count()
  assert.ok(n > 0, 'the page has charts')
  for (let i = 0; i < n; i++) {
    const chart = charts.nth(i)
    const snapshot = await chart.ariaSnapshot()
    const name = /^- img "(.+)"/.exec(snapshot)?.[1]
    assert.ok(name && name.trim(), `chart ${i} has an accessible name: ${snapshot}`)
    const title = await chart.evaluate((svg) => svg.querySelector('title')?.textContent)
    assert.equal(name, title, `chart ${i} is named by its <title>`)
    const desc = await chart.evaluate((svg) => document.getElementById(svg.getAttribute('aria-describedby'))?.textContent ?? '')
    assert.ok(desc.length > 20, `chart '${name}' is described: '${desc}'`)
  }
  return n
}

// The drift table of a section (or page) as { feature → cells by header }.
async function driftTable(scope) {
  const [header, ...body] = await tableRows(scope.locator('table.he-drift').first())
  return new Map(body.map((cells) => [cells[0], Object.fromEntries(header.map((h, i) => [h, cells[i]]))]))
}

// A number as the report prints it (`0.3334`, `8.6e-15`: a few significant digits) is `value`
// rounded: within half a unit of its last digit.
function assertShown(text, value, what) {
  const m = /^-?\d+(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(text.trim())
  assert.ok(m, `${what}: '${text}' is a number`)
  const unit = 10 ** (Number(m[2] ?? 0) - (m[1]?.length ?? 0))
  assert.ok(Math.abs(Number(text) - value) <= (unit / 2) * (1 + 1e-9), `${what}: shown ${text}, value ${value}`)
}

// Iris-like rows from a fixed LCG; `shift` lengthens the petals (input[2]).
function rows(seed) {
  const u = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
  return (shift) => [4.5 + 3 * u(), 2 + 2 * u(), 1 + 5 * u() + shift, 0.1 + 2.4 * u()]
}

harperTest('a report file written by the core: drift table, numbers, labelled charts', async () => {
  // An engine of this process: a day of calls of iris:1 (recorded with past times, slower in
  // one hour), a baseline, a drifted check, an alert and a pending retraining request.
  const engine = Engine.inMemory({ tickIntervalMs: null })
  await engine.registerModel({ name: 'iris', version: '1', path: MODEL_PATH })
  const now = Date.now()
  const row = rows(7)
  for (let minutes = 24 * 60; minutes > 0; minutes -= 5) {
    // A daily cycle of traffic; calls are slower from 6 to 5 hours ago.
    const calls = Math.round(7 + 5 * Math.sin((2 * Math.PI * minutes) / (24 * 60)))
    const slow = minutes > 300 && minutes <= 360 ? 4 : 1
    for (let i = 0; i < calls; i++) {
      const features = row(0)
      engine.recordEvent({
        modelName: 'iris',
        modelVersion: '1',
        latencyMs: slow * (0.4 + ((i * 37 + minutes) % 10) / 20),
        timestamp: now - minutes * 60_000 + i * 1000,
        featuresIn: features,
        prediction: features[2] > 3 ? 1 : 0,
        error: (minutes / 5) % 41 === 0 && i === 0 ? 'shape mismatch' : null,
      })
    }
  }
  engine.flush()
  const reference = { 'input[0]': [], 'input[2]': [], segment: [] }
  const current = { 'input[0]': [], 'input[2]': [], segment: [] }
  for (let i = 0; i < 400; i++) {
    const [a, , c] = row(0)
    const [x, , z] = row(2)
    reference['input[0]'].push(a)
    reference['input[2]'].push(c)
    reference.segment.push(i % 3 === 0 ? 'web' : 'app')
    current['input[0]'].push(x)
    current['input[2]'].push(z)
    current.segment.push(i % 2 === 0 ? 'web' : i % 5 === 0 ? 'kiosk' : 'app')
  }
  engine.setBaseline('iris:1', Baseline.fit(reference, { categorical: ['segment'] }))
  const check = engine.checkDrift('iris:1', current)
  const monitor = new Monitor(engine, {})
  monitor.putRule({
    ruleName: 'slow calls',
    modelName: 'iris',
    alertType: 'latency',
    severity: 'warning',
    condition: { metric: 'maxLatency', operator: '>=', threshold: 0 },
  })
  for (let i = 0; i < 3; i++) {
    engine.recordEvent({ modelName: 'iris', modelVersion: '1', latencyMs: 0.5, featuresIn: row(0) })
  }
  await monitor.tick()
  monitor.setConfig({ retrainingTriggers: { minNewLabeledSamples: 0 } }, { modelName: 'iris' })
  const request = monitor.requestRetraining('iris:1', { by: 'data-team' })
  assert.equal(request.status, 'pending_approval', JSON.stringify(request.safetyChecks))
  const html = engine.reportHtml(['iris:1'], undefined, { title: 'iris:1 health' })
  const file = join(artifacts, 'report.html')
  writeFileSync(file, html)

  const { page, requests, errors } = await openPage({ width: 1100, height: 1400 })
  await page.goto(pathToFileURL(file).href)
  assert.equal(await page.title(), 'iris:1 health')
  assert.deepEqual(await page.locator('section.he-model').evaluateAll((s) => s.map((e) => `${e.dataset.model}:${e.dataset.version}`)), ['iris:1'])

  // The drift table: every feature of the check, its statistic and p-value, its verdict in words.
  const table = await driftTable(page)
  assert.deepEqual([...table.keys()].sort(), check.report.features.map((f) => f.featureName).sort())
  for (const f of check.report.features) {
    const cells = table.get(f.featureName)
    assertShown(cells.statistic, f.driftScore, `${f.featureName} statistic`)
    if (f.pValue != null && f.pValue > 1e-300) assertShown(cells['p-value'], f.pValue, `${f.featureName} p-value`)
    assert.equal(cells.verdict, f.drifted ? '▲ drifted' : '✓ no drift', f.featureName)
  }
  assert.equal(table.get('input[2]').verdict, '▲ drifted')
  assert.equal(table.get('input[0]').verdict, '✓ no drift')
  assert.equal(table.get('segment').kind, 'categorical')
  // The summary counts what was recorded.
  const summary = Object.fromEntries(
    await page.locator('dl.he-summary > div').evaluateAll((ds) => ds.map((d) => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])),
  )
  const calls = engine.modelHealth('iris:1').rollups.reduce((n, r) => n + r.requestCount, 0)
  assert.equal(Number(summary.Requests.replace(/[^\d]/g, '')), calls)
  assert.equal(summary['Pending retraining'], '1')
  assert.equal(summary.Drift, '▲ drifted')
  await page.screenshot({ path: join(artifacts, 'report.png'), fullPage: true })
  await page.screenshot({ path: join(artifacts, 'report-top.png') })
  // Labelled charts, a data table under each, no request outside the file.
  const charts = await assertChartsLabelled(page)
  assert.ok(charts >= 5, `${charts} charts`)
  assert.ok(await page.getByText(request.id).count(), 'the pending request is listed')
  assert.ok((await page.getByText('slow calls').count()) > 0, 'the alert is listed')
  assert.deepEqual(requests.filter((u) => !u.startsWith('file:')), [])
  assert.deepEqual(errors, [])
  await page.close()
})

harperTest('the live dashboard: models, numbers, drift, alerts; approve, reject and acknowledge in the browser', async () => {
  // Traffic: iris:1 (registered by the component) and an uploaded model with a drifted check.
  const irisCalls = 2 * REFERENCE.inputs.length
  for (let i = 0; i < irisCalls; i++) {
    ok(await post('/Predict', { modelName: 'iris', modelVersion: '1', features: REFERENCE.inputs[i % REFERENCE.inputs.length] }))
  }
  ok(await post('/UploadModel', { modelName: 'drifty', modelVersion: '1', bytes: MODEL_BYTES.toString('base64') }))
  const row = rows(11)
  const predict = async (n, shift) => {
    for (let i = 0; i < n; i++) ok(await post('/Predict', { modelName: 'drifty', features: row(shift) }))
  }
  const inTable = (from, n) =>
    eventually(async () => {
      const { body } = await get('/InferenceEvent/?modelName=drifty')
      assert.ok(body.filter((e) => e.timestamp >= from).length >= n)
    })
  const t0 = Date.now()
  await predict(150, 0)
  await inTable(t0, 150)
  ok(await post('/monitoring/drift/drifty/baseline', { from: t0 }))
  const t1 = Date.now() + 1
  await new Promise((resolve) => setTimeout(resolve, 5))
  await predict(150, 2)
  await inTable(t1, 150)
  const check = await post('/monitoring/drift/drifty/check', { from: t1 })
  ok(check)
  assert.equal(check.body.drifted, true)

  // An alert every call of iris:1 raises, and three retraining requests waiting for approval.
  const rule = await post('/monitoring/rules', {
    ruleName: 'every call',
    modelName: 'iris',
    modelVersion: '1',
    alertType: 'latency',
    severity: 'critical',
    condition: { metric: 'maxLatency', operator: '>=', threshold: 0 },
  })
  ok(rule)
  const alert = await eventually(async () => {
    const r = await get(`/monitoring/alerts?modelName=iris&ruleId=${rule.body.id}`)
    assert.equal(r.body.length, 1)
    return r.body[0]
  })
  // Safety checks loose enough for several manual requests (one pending per model at a time).
  ok(
    await put('/monitoring/config', {
      retrainingTriggers: { minNewLabeledSamples: 0, minDaysBetweenRetraining: 0, maxRequestsPerWindow: 100 },
    }),
  )
  const requestRetraining = async (modelName, requestedBy) => {
    const r = await post('/monitoring/retraining-requests', { modelName, requestedBy })
    ok(r)
    assert.equal(r.body.status, 'pending_approval', JSON.stringify(r.body.safetyChecks))
    return r.body.id
  }
  const toApprove = await requestRetraining('iris', 'data-team')
  const approvedElsewhere = await requestRetraining('drifty', 'nightly-job')
  // Every call is in the cluster's rollups.
  const metrics = await eventually(async () => {
    const r = await get('/monitoring/metrics/iris?version=1')
    assert.equal(r.body.reduce((n, m) => n + m.requestCount, 0), irisCalls)
    const d = await get('/monitoring/metrics/drifty?version=1')
    assert.equal(d.body.reduce((n, m) => n + m.requestCount, 0), 300)
    return r.body
  })
  assert.ok(metrics.length >= 1)
  await eventually(async () => assert.equal((await get(`/AlertEvent/${alert.id}`)).status, 200))

  // The endpoints: HTML, and 400s for bad parameters.
  const sections = await get('/dashboard/sections?model=drifty')
  ok(sections)
  assert.match(sections.type, /^text\/html/)
  assert.match(sections.body, /^<section class="he-model he-report"[^>]* data-model="drifty" data-version="1"/)
  assert.doesNotMatch(sections.body, /<html|<style/)
  for (const bad of ['granularity=weekly', 'refresh=-1', 'from=yesterday', 'model=a:b:c']) {
    const r = await get(`/dashboard?${bad}`)
    assert.equal(r.status, 400, `${bad}: ${JSON.stringify(r.body)}`)
    assert.equal(r.body.code, 'HARPER_EDGE_INVALID_INPUT')
  }
  assert.equal((await get('/dashboard/nothing')).status, 404)

  // The page, without automatic refresh.
  const { page, requests: urls, errors } = await openPage()
  const response = await page.goto(`${BASE}/dashboard?refresh=0`)
  assert.equal(response.status(), 200)
  assert.match(response.headers()['content-type'], /^text\/html/)
  assert.match(response.headers()['content-security-policy'], /default-src 'none'/)
  assert.equal(await page.title(), 'harper-edge: model health')
  const sectionIds = await page.locator('#he-sections > section.he-model').evaluateAll((s) => s.map((e) => `${e.dataset.model}:${e.dataset.version}`))
  assert.deepEqual(sectionIds, ['drifty:1', 'iris:1'])
  const iris = page.locator('section[data-model=iris][data-version="1"]')
  const drifty = page.locator('section[data-model=drifty][data-version="1"]')

  // Request counts and rates: the summary, and the request-rate chart's data table (calls per
  // second of each 5-minute period) adding up to the calls sent.
  const summaryOf = async (section) =>
    Object.fromEntries(await section.locator('dl.he-summary > div').evaluateAll((ds) => ds.map((d) => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])))
  const rateCalls = async (section) => {
    const table = section.locator('details.he-data', { hasText: 'Data table: Request rate' }).locator('table')
    const [, ...body] = await tableRows(table)
    assert.ok(body.length >= 1)
    return Math.round(body.reduce((n, [, rate]) => n + Number.parseFloat(rate) * 300, 0))
  }
  assert.equal((await summaryOf(iris)).Requests, String(irisCalls))
  assert.equal((await summaryOf(drifty)).Requests, '300')
  assert.equal(await rateCalls(iris), irisCalls)
  assert.equal(await rateCalls(drifty), 300)
  assert.equal((await summaryOf(iris))['Alerts firing'], '1')
  assert.equal((await summaryOf(drifty)).Drift, '▲ drifted')
  assert.equal((await summaryOf(iris)).Drift, 'not checked')

  // The drifted feature, named in the drift table with the check's numbers.
  const drift = await driftTable(drifty)
  assert.deepEqual([...drift.keys()].sort(), check.body.report.features.map((f) => f.featureName).sort())
  for (const f of check.body.report.features) {
    const cells = drift.get(f.featureName)
    assertShown(cells.statistic, f.driftScore, `${f.featureName} statistic`)
    assertShown(cells['p-value'], f.pValue, `${f.featureName} p-value`)
    assert.equal(cells.verdict, f.drifted ? '▲ drifted' : '✓ no drift', f.featureName)
  }
  assert.equal(drift.get('input[2]').verdict, '▲ drifted')
  assert.equal(drift.get('input[0]').verdict, '✓ no drift')
  assert.ok(await drifty.locator('svg[role=img]', { has: page.locator('title', { hasText: 'input[2]' }) }).count(), 'input[2] has a chart')

  // The alert row and the pending requests, each with its buttons.
  const alertRow = iris.locator('tr', { has: page.locator(`button[data-action=acknowledge][data-id="${alert.id}"]`) })
  assert.equal(await alertRow.count(), 1)
  const alertText = await alertRow.textContent()
  assert.match(alertText, /every call/)
  assert.match(alertText, /critical/)
  assert.match(alertText, /firing/)
  for (const [section, id, by] of [
    [iris, toApprove, 'data-team'],
    [drifty, approvedElsewhere, 'nightly-job'],
  ]) {
    const requestRow = section.locator('tr', { has: page.locator(`button[data-action=approve][data-id="${id}"]`) })
    assert.equal(await requestRow.count(), 1, id)
    assert.match(await requestRow.textContent(), new RegExp(`manual.*${by}`))
    assert.equal(await requestRow.locator(`button[data-action=reject][data-id="${id}"]`).count(), 1)
  }
  assert.equal((await summaryOf(iris))['Pending retraining'], '1')
  assert.equal((await summaryOf(drifty))['Pending retraining'], '1')
  await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true })

  // Approve: the request leaves "waiting for approval", and the endpoint says approved.
  await page.fill('#he-reviewer', 'browser-test')
  await page.fill('#he-reason', 'looks good')
  await iris.locator(`button[data-action=approve][data-id="${toApprove}"]`).click()
  await page.locator(`button[data-id="${toApprove}"]`).first().waitFor({ state: 'detached' })
  await page.locator('#he-message[data-kind=ok]', { hasText: `retraining request ${toApprove} approved by browser-test` }).waitFor()
  const approved = await get(`/monitoring/retraining-requests/${toApprove}`)
  assert.equal(approved.body.status, 'approved')
  assert.equal(approved.body.reviewedBy, 'browser-test')
  assert.equal(approved.body.reviewReason, 'looks good')
  assert.match(await page.locator('#he-message').textContent(), new RegExp(`training job ${approved.body.trainingJobId}`))
  assert.equal((await summaryOf(iris))['Pending retraining'], '0')
  assert.match(await iris.textContent(), /Retraining requests waiting for approval\s*None\./)

  // Reject a request made since the page was loaded: "Refresh now" shows it.
  const toReject = await requestRetraining('iris', 'on-call')
  await page.click('#he-refresh')
  await page.fill('#he-reason', '')
  await iris.locator(`button[data-action=reject][data-id="${toReject}"]`).click()
  await page.locator(`button[data-id="${toReject}"]`).first().waitFor({ state: 'detached' })
  const rejected = await get(`/monitoring/retraining-requests/${toReject}`)
  assert.equal(rejected.body.status, 'rejected')
  assert.equal(rejected.body.reviewedBy, 'browser-test')

  // A request approved elsewhere while the page still shows it: the click's 409 is reported
  // in the live region, and the section is refreshed without it.
  ok(await post(`/monitoring/retraining-requests/${approvedElsewhere}/approve`, { reviewedBy: 'someone-else' }))
  await drifty.locator(`button[data-action=reject][data-id="${approvedElsewhere}"]`).click()
  const error = page.locator('#he-message[data-kind=error]')
  await error.waitFor()
  assert.match(await error.textContent(), new RegExp(`^Error: could not reject retraining request ${approvedElsewhere}: .+`))
  assert.equal(await page.locator('#he-message').getAttribute('aria-live'), 'polite')
  await page.locator(`button[data-id="${approvedElsewhere}"]`).first().waitFor({ state: 'detached' })
  assert.equal((await get(`/monitoring/retraining-requests/${approvedElsewhere}`)).body.reviewedBy, 'someone-else')
  assert.equal((await summaryOf(drifty))['Pending retraining'], '0')

  // Acknowledge the alert: its row says who, the endpoint agrees, no button is left.
  await iris.locator(`button[data-action=acknowledge][data-id="${alert.id}"]`).click()
  await page.locator(`button[data-action=acknowledge][data-id="${alert.id}"]`).waitFor({ state: 'detached' })
  const acknowledged = await get(`/monitoring/alerts/${alert.id}`)
  assert.equal(acknowledged.body.acknowledged, true)
  assert.equal(acknowledged.body.acknowledgedBy, 'browser-test')
  const ackRow = iris.locator('table tr', { hasText: 'every call' }).first()
  assert.match(await ackRow.textContent(), /browser-test/)
  await page.screenshot({ path: join(artifacts, 'dashboard-after-actions.png'), fullPage: true })
  await assertChartsLabelled(page)
  // The one failed request was the deliberate 409 (Chromium logs it in the console).
  assert.deepEqual(errors.map(String).filter((e) => !/status of 409 \(Conflict\)/.test(e)), [])
  assert.deepEqual(urls.filter((u) => !u.startsWith(`${BASE}/`)), [], 'nothing requested outside the component')
  await page.close()
})

harperTest('the dashboard refreshes itself in place, keeping the scroll position', async () => {
  const { page, errors, requests: urls } = await openPage({ width: 1000, height: 600 })
  await page.goto(`${BASE}/dashboard?model=iris&refresh=1`)
  assert.deepEqual(await page.locator('section.he-model').evaluateAll((s) => s.map((e) => e.dataset.model)), ['iris'])
  await page.evaluate(() => {
    window.notReloaded = true
    window.scrollTo(0, 700)
  })
  const y = await page.evaluate(() => window.scrollY)
  assert.ok(y > 0)
  const created = await post('/monitoring/retraining-requests', { modelName: 'iris', requestedBy: 'late-arrival' })
  ok(created)
  assert.equal(created.body.status, 'pending_approval', JSON.stringify(created.body.safetyChecks))
  // Within a few refreshes (1 s apart) the new request's row appears, on the same document.
  await page.locator(`button[data-action=approve][data-id="${created.body.id}"]`).waitFor({ timeout: 15_000 })
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'refreshed in place, not reloaded')
  assert.ok(Number(await page.locator('#he-sections').getAttribute('data-refreshed')) >= 1)
  assert.equal(await page.evaluate(() => window.scrollY), y, 'scroll position kept')
  assert.deepEqual(errors.map(String), [])
  assert.ok(urls.some((u) => u.startsWith(`${BASE}/dashboard/sections?model=iris`)), urls.join('\n'))
  await page.close()
})
