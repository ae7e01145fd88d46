// The live dashboard of the component (`GET /dashboard`): one section per registered model
// version, rendered server-side by harper-edge's report renderer from the REPLICATED tables
// (ModelMetrics, DriftMetrics, DataQualityMetrics, AlertEvent, RetrainingRequest,
// MonitoringConfig), so a page shows what the whole cluster recorded, not one worker's engine.
// A small inline script refreshes the sections (`GET /dashboard/sections`) and wires the
// report's approve / reject / acknowledge buttons to the monitoring endpoints. The page loads
// nothing from anywhere else (no CDN, no font, no image): a Content-Security-Policy says so.
import { combineMetrics, driftSnapshotFromRows, renderHealthSection, reportScript, reportStyle } from 'harper-edge'

const PERIOD_MS = { '5min': 300_000, hourly: 3_600_000, daily: 86_400_000 }
// As the core's `HealthQuery`: the range is the 288 periods before now, at most 200 alerts.
const PERIODS = 288
const MAX_ALERTS = 200
export const DEFAULT_REFRESH_S = 10

function invalid(message) {
  const e = new Error(`invalid input: ${message}`)
  e.code = 'HARPER_EDGE_INVALID_INPUT'
  return e
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const esc = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c])

// A table record as a plain object (a record exposes its fields through its prototype).
const plain = (record) => JSON.parse(JSON.stringify(record))

async function rows(tables, table, conditions) {
  const found = []
  for await (const row of tables[table].search(conditions.length ? { conditions } : {})) found.push(plain(row))
  return found
}

const byVersion = (a, b) => a.localeCompare(b, 'en', { numeric: true })

/**
 * The dashboard's query parameters: `granularity` (`5min` default, `hourly`, `daily`), `from` /
 * `to` (epoch ms or ISO 8601 with a zone; default the 288 periods before now), `model` (a name,
 * or `name:version`; default every registered model) and `refresh` (seconds between refreshes,
 * default 10, 0 for none). `time(text, name)` parses a time as the other endpoints do.
 */
export function dashboardQuery(target, time) {
  const param = (name) => target.get(name) ?? undefined
  const granularity = param('granularity') ?? '5min'
  if (!(granularity in PERIOD_MS)) {
    throw invalid(`granularity must be 5min, hourly or daily, got '${granularity}'`)
  }
  const to = time(param('to'), 'to') ?? Date.now() + 1
  const from = time(param('from'), 'from') ?? to - PERIODS * PERIOD_MS[granularity]
  if (!(from < to)) throw invalid(`from must be before to, got ${from} and ${to}`)
  const refreshText = param('refresh') ?? String(DEFAULT_REFRESH_S)
  if (!/^\d{1,5}$/.test(refreshText)) {
    throw invalid(`refresh must be a whole number of seconds (0: no refresh), got '${refreshText}'`)
  }
  const model = param('model')
  if (model !== undefined && !/^[^:]+(:[^:]+)?$/.test(model)) {
    throw invalid(`model must be a name or name:version, got '${model}'`)
  }
  return { granularity, from, to, model, refresh: Number(refreshText) }
}

// Every registered model version (the Model table: every node's registrations), sorted.
async function modelVersions(tables, filter) {
  const [name, version] = filter === undefined ? [] : filter.split(':')
  const seen = new Map()
  for (const m of await rows(tables, 'Model', name === undefined ? [] : [{ attribute: 'modelName', value: name }])) {
    if (version !== undefined && m.modelVersion !== version) continue
    seen.set(`${m.modelName}:${m.modelVersion}`, { modelName: m.modelName, modelVersion: m.modelVersion })
  }
  return [...seen.values()].sort((a, b) => a.modelName.localeCompare(b.modelName) || byVersion(a.modelVersion, b.modelVersion))
}

// The drift correction in effect for name:version: the most specific MonitoringConfig layer
// (version, model, global) that sets `drift.correction`; undefined → the default (Holm).
async function correctionOf(tables, modelName, modelVersion) {
  for (const id of [`model:${modelName}:${modelVersion}`, `model:${modelName}`, 'global']) {
    const row = await tables.MonitoringConfig.get(id)
    const correction = row ? plain(row).config?.drift?.correction : undefined
    if (correction != null) return correction
  }
  return undefined
}

const newest = (list) => list.reduce((best, r) => (best === undefined || r.timestamp > best.timestamp ? r : best), undefined)

/**
 * One model version's `ModelHealth`, as `engine.modelHealth` collects it from an engine's store,
 * but read from the cluster's tables: the ModelMetrics rows of every origin in the range
 * combined per period (latency sketches merged), the newest drift check rebuilt from its
 * DriftMetrics rows, the newest DataQualityMetrics row, the alerts fired in the range (newest
 * first) and the given pending retraining requests.
 */
async function modelHealth(tables, { modelName, modelVersion }, query, retraining) {
  const { granularity, from, to } = query
  const periodMs = PERIOD_MS[granularity]
  const model = { attribute: 'modelName', value: modelName }
  const metricRows = await rows(tables, 'ModelMetrics', [
    model,
    { attribute: 'modelVersion', value: modelVersion },
    { attribute: 'granularity', value: granularity },
    // The period holding `from` counts, as in the core.
    { attribute: 'periodStart', comparator: 'between', value: [Math.floor(from / periodMs) * periodMs, to - 1] },
  ])
  const rollups = combineMetrics(metricRows).sort((a, b) => a.periodStart - b.periodStart)

  const driftRows = (await rows(tables, 'DriftMetrics', [model])).filter((r) => r.modelVersion === modelVersion)
  const newestCheck = newest(driftRows)?.timestamp
  const drift = driftSnapshotFromRows(
    driftRows.filter((r) => r.timestamp === newestCheck),
    { correction: await correctionOf(tables, modelName, modelVersion) },
  )
  const quality = newest((await rows(tables, 'DataQualityMetrics', [model])).filter((r) => r.modelVersion === modelVersion)) ?? null
  const alerts = (
    await rows(tables, 'AlertEvent', [model, { attribute: 'timestamp', comparator: 'between', value: [from, to - 1] }])
  )
    .filter((a) => a.modelVersion === modelVersion)
    .sort((a, b) => b.timestamp - a.timestamp || (a.id < b.id ? 1 : -1))
    .slice(0, MAX_ALERTS)
  return { modelName, modelVersion, generatedAt: Date.now(), from, to, granularity, rollups, drift, quality, alerts, retraining }
}

/**
 * The sections of the dashboard (HTML), one per model version. A pending retraining request is
 * shown in the section of its version (or, if that version is not registered here, in the
 * model's newest version), so each request has one pair of buttons on the page.
 */
export async function dashboardSections(tables, query, log) {
  const versions = await modelVersions(tables, query.model)
  if (versions.length === 0) {
    const which = query.model === undefined ? 'No model is registered yet.' : `No registered model matches '${query.model}'.`
    return `<p class="he-dash-empty">${esc(which)}</p>`
  }
  const pending = new Map()
  const names = [...new Set(versions.map((v) => v.modelName))]
  for (const modelName of names) {
    const requests = (
      await rows(tables, 'RetrainingRequest', [
        { attribute: 'modelName', value: modelName },
        { attribute: 'status', value: 'pending_approval' },
      ])
    ).sort((a, b) => b.requestedAt - a.requestedAt || (a.id < b.id ? 1 : -1))
    const mine = versions.filter((v) => v.modelName === modelName).map((v) => v.modelVersion)
    for (const r of requests) {
      const version = mine.includes(r.modelVersion) ? r.modelVersion : mine.at(-1)
      const key = `${modelName}:${version}`
      pending.set(key, [...(pending.get(key) ?? []), r])
    }
  }
  const sections = []
  for (const v of versions) {
    const key = `${v.modelName}:${v.modelVersion}`
    try {
      const health = await modelHealth(tables, v, query, pending.get(key) ?? [])
      sections.push(renderHealthSection(health, { actions: true }))
    } catch (e) {
      // One model's unreadable rows do not take the page down.
      log?.error?.(`harper-edge dashboard: ${key}:`, e)
      sections.push(
        `<section class="he-model he-report he-dash-failed" data-model="${esc(v.modelName)}" data-version="${esc(v.modelVersion)}">` +
          `<h2>Model ${esc(key)}</h2><p role="alert">Error: this model's health could not be shown: ${esc(e.message)}</p></section>`,
      )
    }
  }
  return sections.join('\n')
}

// The page's own few rules (the report's stylesheet is scoped to .he-report).
const PAGE_STYLE = `
body{margin:0;font:15px/1.45 system-ui,sans-serif;color:#1b1b1b;background:#fff}
.he-dash{max-width:1100px;margin:0 auto;padding:12px 20px 0}
.he-dash h1{font-size:1.5em;margin:.3em 0}
.he-dash p{margin:.3em 0}
.he-dash form{display:flex;flex-wrap:wrap;gap:6px 16px;align-items:center;margin:.6em 0}
.he-dash label{font-weight:600}
.he-dash input{font:inherit;padding:2px 6px;border:1px solid #767676;border-radius:3px}
#he-message{min-height:1.5em;padding:4px 8px;border-left:4px solid transparent}
#he-message[data-kind=error]{border-left-color:#b00020;background:#fdecee;font-weight:600}
#he-message[data-kind=ok]{border-left-color:#0072B2;background:#eef5fb}
#he-sections{max-width:1100px;margin:0 auto;padding:0 20px 24px}
#he-sections > section{margin-top:24px;padding-top:8px;border-top:2px solid #ddd}
.he-dash-empty{font-style:italic}
`

// The page's script: refreshes the sections in place (scroll position and open data tables
// kept), wires the buttons, reports results and errors in the aria-live region.
const PAGE_SCRIPT = `
(function () {
  var root = document.getElementById('he-sections')
  var message = document.getElementById('he-message')
  var reviewer = document.getElementById('he-reviewer')
  var reason = document.getElementById('he-reason')
  var updated = document.getElementById('he-updated')
  var every = Number(root.dataset.refresh)
  var latest = 0
  function say(text, kind) { message.dataset.kind = kind; message.textContent = text }
  async function problem(response) {
    var text = await response.text()
    try { return JSON.parse(text).error || text } catch (e) { return text || 'HTTP ' + response.status }
  }
  // Which data tables and charts are open, per section, so a refresh does not close them.
  function openState() {
    var open = {}
    root.querySelectorAll('section[data-model]').forEach(function (s) {
      open[s.dataset.model + ':' + s.dataset.version] = Array.from(s.querySelectorAll('details')).map(function (d) { return d.open })
    })
    return open
  }
  function restoreOpen(open) {
    root.querySelectorAll('section[data-model]').forEach(function (s) {
      var was = open[s.dataset.model + ':' + s.dataset.version]
      if (was) s.querySelectorAll('details').forEach(function (d, i) { if (i < was.length) d.open = was[i] })
    })
  }
  async function refresh() {
    var mine = ++latest
    root.setAttribute('aria-busy', 'true')
    try {
      var response = await fetch(root.dataset.src, { headers: { Accept: 'text/html, application/json' }, cache: 'no-store' })
      if (!response.ok) throw new Error(await problem(response))
      var html = await response.text()
      if (mine !== latest) return
      var x = window.scrollX, y = window.scrollY, open = openState()
      root.innerHTML = html
      restoreOpen(open)
      heSortable()
      window.scrollTo(x, y)
      var now = new Date()
      updated.dateTime = now.toISOString()
      updated.textContent = now.toLocaleTimeString()
      root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1)
      if (message.dataset.kind === 'refresh-error') say('', '')
    } catch (e) {
      if (mine === latest) say('Error: the page could not be refreshed: ' + e.message, 'refresh-error')
    } finally {
      if (mine === latest) root.setAttribute('aria-busy', 'false')
    }
  }
  var ACTIONS = {
    'retraining approve': { path: '/monitoring/retraining-requests/', verb: 'approve', done: 'approved' },
    'retraining reject': { path: '/monitoring/retraining-requests/', verb: 'reject', done: 'rejected' },
    'alert acknowledge': { path: '/monitoring/alerts/', verb: 'acknowledge', done: 'acknowledged' },
  }
  root.addEventListener('click', async function (event) {
    var button = event.target.closest('button[data-action]')
    if (!button || !root.contains(button)) return
    var id = button.dataset.id
    var action = ACTIONS[button.dataset.kind + ' ' + button.dataset.action]
    if (!action || !id) return
    var who = reviewer.value.trim() || 'dashboard'
    var body = button.dataset.kind === 'alert' ? { acknowledgedBy: who } : { reviewedBy: who }
    if (button.dataset.kind === 'retraining' && reason.value.trim()) body.reason = reason.value.trim()
    var what = button.dataset.kind === 'alert' ? 'alert ' + id : 'retraining request ' + id
    button.disabled = true
    say('Sending: ' + action.verb + ' ' + what + '…', 'pending')
    try {
      var response = await fetch(action.path + encodeURIComponent(id) + '/' + action.verb, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
      })
      if (!response.ok) throw new Error(await problem(response))
      var result = await response.json()
      var job = result.trainingJobId ? ' (training job ' + result.trainingJobId + ')' : ''
      say('Done: ' + what + ' ' + action.done + ' by ' + who + job + '.', 'ok')
    } catch (e) {
      say('Error: could not ' + action.verb + ' ' + what + ': ' + e.message, 'error')
      button.disabled = false
    }
    await refresh()
  })
  document.getElementById('he-refresh').addEventListener('click', function () { refresh() })
  heSortable()
  if (every > 0) {
    var loop = async function () {
      if (!document.hidden) await refresh()
      setTimeout(loop, every * 1000)
    }
    setTimeout(loop, every * 1000)
  }
})()
`

// `<script>` content must not close the element early.
const scriptText = (js) => js.replace(/<\/(script)/gi, '<\\/$1')

/** The whole page: style once, the sections, the refresh and button script. */
export function dashboardPage(sections, query, target) {
  // The sections' URL keeps the page's own parameters (not `refresh`, which is the page's).
  const params = new URLSearchParams()
  for (const name of ['granularity', 'from', 'to', 'model']) {
    const value = target.get(name) ?? undefined
    if (value !== undefined) params.set(name, value)
  }
  const src = `/dashboard/sections${params.size ? `?${params}` : ''}`
  const range = `${new Date(query.from).toISOString()} to ${new Date(query.to).toISOString()}`
  const refreshNote =
    query.refresh > 0
      ? `Refreshes every ${query.refresh} s (<code>?refresh=0</code> stops it).`
      : 'Automatic refresh is off (<code>?refresh=10</code> refreshes every 10 s).'
  const now = new Date()
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>harper-edge: model health</title>
<style>${reportStyle()}${PAGE_STYLE}</style>
</head>
<body>
<header class="he-dash">
<h1>harper-edge: model health</h1>
<p>Every registered model version${query.model === undefined ? '' : ` matching <code>${esc(query.model)}</code>`}, from the cluster's tables: ${esc(query.granularity)} periods, ${esc(range)}. ${refreshNote} Last updated <time id="he-updated" datetime="${now.toISOString()}">${esc(now.toISOString())}</time>. <button type="button" id="he-refresh">Refresh now</button></p>
<form id="he-controls" onsubmit="return false">
<label for="he-reviewer">Reviewer</label><input id="he-reviewer" name="reviewer" value="dashboard" autocomplete="username" aria-describedby="he-reviewer-help">
<span id="he-reviewer-help">named in approvals, rejections and acknowledgments</span>
<label for="he-reason">Reason (optional)</label><input id="he-reason" name="reason" size="30">
</form>
<p id="he-message" role="status" aria-live="polite" aria-atomic="true"></p>
</header>
<main id="he-sections" data-src="${esc(src)}" data-refresh="${query.refresh}" aria-busy="false">
${sections}
</main>
<script>function heSortable(){${scriptText(reportScript())}}
${scriptText(PAGE_SCRIPT)}</script>
</body>
</html>
`
}

// Only this origin; inline style and script (the page's own); SVG charts are inline.
export const DASHBOARD_CSP =
  "default-src 'none'; connect-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

/** An HTML answer in Harper's `{ status, headers, data }` form. */
export function htmlResponse(html) {
  return {
    status: 200,
    headers: { 'Cache-Control': 'no-store', 'Content-Security-Policy': DASHBOARD_CSP },
    data: { contentType: 'text/html; charset=utf-8', data: html },
  }
}
