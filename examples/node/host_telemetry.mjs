// Monitoring a model you run yourself: count its calls from typed arrays, keep a raw event for
// feedback, read the real-time view, and merge the rollups of two engines.
import assert from 'node:assert/strict'
import { Engine, combineMetrics } from 'harper-edge'

// A second engine stands for another process or HarperDB worker recording the same model.
// tickIntervalMs: null → no background thread; this script ticks (flushes) itself.
const engine = Engine.inMemory({ tickIntervalMs: null })
const other = Engine.inMemory({ tickIntervalMs: null })

// Columns, one entry per call, read in place: tens of millions of calls per second.
const latencyMs = new Float64Array([12.5, 8.1, 230.0, 9.7])
const errors = new Uint8Array([0, 0, 1, 0]) // non-zero = failed
const confidence = new Float64Array([0.91, 0.88, NaN, 0.97]) // NaN = none
assert.equal(engine.recordBatch('my-llm:2', latencyMs, { errors, confidence }), 4)
other.recordBatch('my-llm:2', new Float64Array([15.0, 11.0]))

// One call with its raw event, so that its ground truth can be recorded later.
const { inferenceId, admission } = engine.recordEvent({
  modelName: 'my-llm',
  modelVersion: '2',
  latencyMs: 14.2,
  featuresIn: { prompt: 'hello' },
  prediction: 'greeting',
  confidence: 0.93,
})
assert.equal(admission, 'buffered')
assert.equal(engine.feedback(inferenceId, 'greeting').correct, true)

const live = engine.realtime('my-llm:2') // a version the engine never registered
console.log(`${live.requestCount} calls, error rate ${live.errorRate.toFixed(2)}, max ${live.maxLatency} ms`)
assert.deepEqual([live.requestCount, live.errorCount, live.maxLatency, live.accuracy], [5, 1, 230, 1])

// Rollups of several producers merge exactly: counts, max and percentiles of all calls.
engine.flush()
other.flush()
const rows = combineMetrics([...engine.metrics('my-llm'), ...other.metrics('my-llm')])
const calls = rows.reduce((n, row) => n + row.requestCount, 0)
console.log(`${rows.length} five-minute row(s) combined, ${calls} calls`)
// Both engines' calls fell in one period unless a 5-minute boundary split them.
if (rows.length === 1) assert.equal(rows[0].maxLatency, 230)
assert.equal(calls, 7)

const stats = engine.telemetryStats()
console.log(`telemetry: ${stats.observations} calls counted, ${stats.eventsWritten} event(s) written`)
assert.deepEqual([stats.observations, stats.eventsWritten, stats.eventsDropped], [5, 1, 0])
