// Benchmark equivalent models: two iris classifiers in one equivalence group, compared on the
// same rows (latency percentiles, throughput, agreement with the reference, a winner), then the
// stored history.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { Engine, benchmarkMarkdown } from 'harper-edge'

const data = (file) => fileURLToPath(new URL(`../../tests/data/${file}`, import.meta.url))
const home = mkdtempSync(join(tmpdir(), 'harper-edge-benchmark-'))
try {
  const engine = Engine.open(home, { tickIntervalMs: null })
  // Models are equivalent when their metadata names the same taskType and equivalenceGroup.
  const group = { taskType: 'classification', equivalenceGroup: 'iris', outputDimensions: [3] }
  await engine.registerModel({ name: 'iris-logreg', version: '1', path: data('iris_logreg.onnx'), metadata: { ...group, benchmarkReference: true } })
  await engine.registerModel({ name: 'iris-forest', version: '1', path: data('sklearn_forest_classifier.onnx'), metadata: group })

  const result = await engine.benchmark(
    'iris',
    {
      batchSizes: [1, 16],
      concurrency: [1, 2],
      iterations: 100,
      inputs: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]],
    },
    (p) => p.phase === 'done' && console.error(`${p.model} done (${p.done}/${p.total} calls)`),
  )
  console.log(benchmarkMarkdown(result))

  const forest = result.results.find((r) => r.modelId === 'iris-forest:1')
  console.log(`forest vs logistic regression: ${forest.agreement.labelAgreement * 100}% of labels agree`)
  console.log(`winner: ${result.winner}`)
  assert.equal(result.referenceModel, 'iris-logreg:1')
  assert.ok(result.results.every((r) => r.errorCount === 0))

  // Stored: the history lists it.
  assert.equal(engine.benchmarkHistory({ group: 'iris' })[0].id, result.id)
} finally {
  rmSync(home, { recursive: true, force: true })
}
