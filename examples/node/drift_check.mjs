// Check a batch of data for drift against a saved baseline, then let the engine check its own
// recent calls.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'

import { Baseline, Engine, checkDrift } from 'harper-edge'

let seed = 7
const u = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
const age = (n, shift) => Float64Array.from({ length: n }, () => 20 + 40 * u() + shift)
const plan = (n) => Array.from({ length: n }, () => (u() < 0.6 ? 'free' : u() < 0.75 ? 'pro' : 'team'))

const baseline = Baseline.fit({ age: age(5000, 0), plan: plan(5000) })
const saved = baseline.toJson() // keep it: no need to ship the reference data again

const result = checkDrift(Baseline.fromJson(saved), { age: age(2000, 5), plan: plan(2000) })
for (const f of result.report.features) {
  console.log(f.featureName, f.driftMethod, f.driftScore.toFixed(4), f.pValue?.toExponential(2), f.drifted)
}
assert.deepEqual(
  result.report.features.filter((f) => f.drifted).map((f) => f.featureName),
  ['age'],
)

// The engine samples the calls of every model version with a baseline and checks them.
const engine = Engine.inMemory()
await engine.registerModel({
  name: 'iris',
  version: '1',
  path: fileURLToPath(new URL('../../tests/data/iris_logreg.onnx', import.meta.url)),
})
const row = (shift) => new Float32Array([4.5 + 3 * u(), 2 + 2 * u(), 1 + 5 * u() + shift, 0.1 + 2.4 * u()])
for (let i = 0; i < 300; i++) await engine.infer('iris:1', row(0))
engine.fitBaseline('iris:1') // from the calls stored so far
for (let i = 0; i < 300; i++) await engine.infer('iris:1', row(2)) // longer petals
const check = engine.checkDrift('iris:1') // the calls since the baseline; rows stored
const drifted = check.report.features.filter((f) => f.drifted).map((f) => f.featureName)
console.log('drifted:', drifted.join(', '))
assert.ok(drifted.includes('input[2]'))
assert.equal(engine.driftMetrics('iris').length, check.rows.length)
