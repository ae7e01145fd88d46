// Streaming drift detectors: Adwin and PageHinkley.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { Adwin, PageHinkley } from '../index.js'
import { throwsWithCode } from './helpers.mjs'

/** 4000 values, uniform on [0, 0.2), shifted by 0.5 from position 2000 (a fixed LCG). */
function shifted() {
  let seed = 5n
  const values = new Float64Array(4000)
  for (let i = 0; i < values.length; i++) {
    seed = (seed * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn
    const u = Number(seed >> 11n) / 2 ** 53
    values[i] = u * 0.2 + (i >= 2000 ? 0.5 : 0)
  }
  return values
}

test('Adwin finds the shift soon after it, and batches equal single updates', () => {
  const values = shifted()
  const one = new Adwin()
  const singles = []
  values.forEach((v, i) => {
    if (one.update(v)) singles.push(i)
  })
  const many = new Adwin({ delta: 0.002 })
  assert.deepEqual(many.updateMany(values), singles)
  assert.ok(singles[0] >= 2000 && singles[0] < 2100, `first cut at ${singles[0]}`)
  assert.equal(many.changes, one.changes)
  assert.equal(many.mean, one.mean)
  assert.ok(many.mean > 0.5 && many.width > 0 && many.variance >= 0)
})

test('PageHinkley looks in the direction asked', () => {
  const values = shifted()
  const up = new PageHinkley({ threshold: 5, direction: 'up' })
  const found = up.updateMany(values)
  assert.ok(found.length > 0 && found[0] >= 2000)
  const down = new PageHinkley({ threshold: 5, direction: 'down' })
  assert.deepEqual(down.updateMany(values), [])
  assert.equal(down.count, 4000)
})

test('a detector saves and resumes its whole state', () => {
  const values = shifted()
  const a = new Adwin()
  a.updateMany(values.subarray(0, 3000))
  const b = Adwin.restore(a.save())
  assert.deepEqual(a.updateMany(values.subarray(3000)), b.updateMany(values.subarray(3000)))
  assert.equal(a.mean, b.mean)
  assert.equal(PageHinkley.restore(new PageHinkley().save()).count, 0)
  throwsWithCode(() => Adwin.restore('{}'), 'HARPER_EDGE_INVALID_INPUT', /not a saved detector state/)
})

test('bad values and settings throw typed errors and change nothing', () => {
  const a = new Adwin()
  a.updateMany(new Float64Array([0.1, 0.2]))
  throwsWithCode(() => a.updateMany(new Float64Array([0.3, NaN])), 'HARPER_EDGE_INVALID_INPUT', /position 1/)
  assert.equal(a.width, 2)
  throwsWithCode(() => a.update(Infinity), 'HARPER_EDGE_INVALID_INPUT')
  throwsWithCode(() => a.updateMany([1, 2]), 'HARPER_EDGE_INVALID_INPUT', /Float64Array/)
  throwsWithCode(() => new Adwin({ delta: 0 }), 'HARPER_EDGE_INVALID_INPUT')
  throwsWithCode(() => new PageHinkley({ direction: 'sideways' }), 'HARPER_EDGE_INVALID_INPUT', /direction/)
})
