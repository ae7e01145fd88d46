// Ollama models through the binding, against a loopback stand-in that speaks Ollama's documented
// HTTP API (no Ollama binary here): /api/embed (batched JSON), /api/chat and /api/generate
// (NDJSON streams with done, done_reason and token counts), a model the daemon lacks (404) and a
// daemon that is down. The stand-in runs on this event loop: every call must leave it free.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, beforeEach, test } from 'node:test'

import { ChatStream, Engine } from '../index.js'
import { rejectsWithCode } from './helpers.mjs'

const PIECES = ['Hel', 'lo', ' world']
const DIM = 4

let server
let host
const requests = []
const missing = new Set()
// Milliseconds between streamed lines (0: all at once).
let lineDelay = 0

before(async () => {
  server = createServer((req, res) => {
    let raw = ''
    req.on('data', (c) => (raw += c))
    req.on('end', async () => {
      const body = JSON.parse(raw || '{}')
      requests.push({ path: req.url, body })
      if (missing.has(body.model)) {
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: `model "${body.model}" not found, try pulling it first` }))
      } else if (req.url === '/api/embed') {
        const embeddings = body.input.map((t, i) => [i, 1, 0.5, t.length])
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ model: body.model, embeddings }))
      } else if (req.url === '/api/chat' || req.url === '/api/generate') {
        const chat = req.url === '/api/chat'
        const line = (piece, done) => {
          const v = { model: body.model, done }
          if (chat) v.message = { role: 'assistant', content: piece }
          else v.response = piece
          if (done) {
            Object.assign(v, { done_reason: 'stop', prompt_eval_count: 7, eval_count: 3, total_duration: 12_500_000 })
          }
          return `${JSON.stringify(v)}\n`
        }
        res.writeHead(200, { 'content-type': 'application/x-ndjson' })
        res.on('error', () => {})
        for (const p of PIECES) {
          if (res.destroyed) return
          res.write(line(p, false))
          if (lineDelay) await new Promise((r) => setTimeout(r, lineDelay))
        }
        res.end(line('', true))
      } else {
        res.writeHead(404).end('404 page not found')
      }
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  host = `127.0.0.1:${server.address().port}`
})

after(() => server.close())

beforeEach(() => {
  requests.length = 0
  missing.clear()
  lineDelay = 0
})

async function engineFor(mode = 'chat', model = 'llama3.2') {
  const engine = Engine.inMemory({ tickIntervalMs: null })
  await engine.registerOllama('llm', '1', model, { mode, host })
  return engine
}

test('registerOllama registers the manifest without asking the daemon', async () => {
  const engine = Engine.inMemory({ tickIntervalMs: null })
  const model = await engine.registerOllama('emb', '1', 'nomic-embed-text', {
    mode: 'embeddings',
    host,
    options: { temperature: 0 },
    readTimeoutMs: 5000,
    metadata: { taskType: 'text-embedding' },
  })
  assert.equal(model.framework, 'ollama')
  assert.equal(model.metadata.taskType, 'text-embedding')
  assert.equal(requests.length, 0)
  await rejectsWithCode(engine.registerOllama('x', '1', 'm', { mode: 'dance' }), 'HARPER_EDGE_INVALID_INPUT', /mode/)
  await rejectsWithCode(engine.registerOllama('x', '1', ' '), 'HARPER_EDGE_INVALID_INPUT')
})

test('embed sends the whole batch in one request', async () => {
  const engine = await engineFor('embeddings', 'nomic-embed-text')
  const e = await engine.embed('llm', ['a', 'bb', 'ccc'])
  assert.ok(e.data instanceof Float32Array)
  assert.equal(e.count, 3)
  assert.equal(e.dim, DIM)
  assert.deepEqual([...e.data.subarray(2 * DIM, 3 * DIM)], [2, 1, 0.5, 3])
  assert.equal(e.modelName, 'llm')
  assert.equal(e.modelVersion, '1')
  assert.equal(typeof e.latencyMs, 'number')
  assert.equal(requests.length, 1, 'one request for the batch')
  assert.deepEqual(requests[0], { path: '/api/embed', body: { model: 'nomic-embed-text', input: ['a', 'bb', 'ccc'] } })
  engine.flush()
  const [event] = engine.events({ modelName: 'llm' })
  assert.equal(event.id, e.inferenceId)
  assert.deepEqual(event.featuresIn, { texts: ['a', 'bb', 'ccc'] })
  await rejectsWithCode(engine.embed('llm', []), 'HARPER_EDGE_INVALID_INPUT')
  await rejectsWithCode(engine.embed('llm', 'one text'), 'HARPER_EDGE_INVALID_INPUT', /array of strings/)
  await rejectsWithCode(engine.embed('llm', ['a', 1]), 'HARPER_EDGE_INVALID_INPUT')
  await rejectsWithCode(engine.chat('llm', 'hi'), 'HARPER_EDGE_INVALID_INPUT', /embeddings/)
})

test('chat streams the pieces to onToken in order before resolving', async () => {
  const engine = await engineFor()
  const pieces = []
  lineDelay = 5
  const result = await engine.chat('llm', 'Say hello', { system: 'Be brief.', onToken: (p) => pieces.push(p) })
  assert.deepEqual(pieces, PIECES)
  assert.equal(result.text, 'Hello world')
  assert.equal(result.doneReason, 'stop')
  assert.equal(result.promptTokens, 7)
  assert.equal(result.completionTokens, 3)
  assert.equal(result.totalMs, 12.5)
  const { path, body } = requests[0]
  assert.equal(path, '/api/chat')
  assert.equal(body.stream, true)
  assert.deepEqual(body.messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Say hello' },
  ])
  engine.flush()
  const [event] = engine.events({ modelName: 'llm' })
  assert.equal(event.id, result.inferenceId)
  assert.equal(event.prediction, 'Hello world')
  assert.deepEqual(event.featuresIn, { messages: body.messages })
})

test('chat takes messages; generate uses /api/generate', async () => {
  const engine = await engineFor()
  const history = [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'hello' },
    { role: 'user', content: 'again' },
  ]
  assert.equal((await engine.chat('llm', history)).text, 'Hello world')
  assert.deepEqual(requests[0].body.messages, history)
  await rejectsWithCode(engine.chat('llm', [{ role: 'user' }]), 'HARPER_EDGE_INVALID_INPUT', /content/)
  await rejectsWithCode(engine.chat('llm', 42), 'HARPER_EDGE_INVALID_INPUT')
  await rejectsWithCode(engine.chat('llm', 'hi', { onToken: 'print' }), 'HARPER_EDGE_INVALID_INPUT', /onToken/)

  const gen = await engineFor('generate')
  const pieces = []
  const result = await gen.generate('llm', '2+2=', { onToken: (p) => pieces.push(p) })
  assert.deepEqual(pieces, PIECES)
  assert.equal(result.text, 'Hello world')
  assert.equal(requests.at(-1).path, '/api/generate')
  assert.equal(requests.at(-1).body.prompt, '2+2=')
})

test('onToken returning false cancels; throwing stops and rejects with what was thrown', async () => {
  const engine = await engineFor()
  lineDelay = 20
  const seen = []
  const cancelled = await engine.chat('llm', 'hi', {
    onToken: (p) => {
      seen.push(p)
      return false
    },
  })
  assert.equal(cancelled.doneReason, 'cancelled')
  assert.deepEqual(seen, ['Hel'], 'no piece is delivered after the stop')
  assert.ok(PIECES.join('').startsWith(cancelled.text))

  const thrown = []
  await assert.rejects(
    engine.chat('llm', 'hi', {
      onToken: (p) => {
        thrown.push(p)
        throw new RangeError('enough')
      },
    }),
    (e) => e instanceof RangeError && e.message === 'enough',
  )
  assert.deepEqual(thrown, ['Hel'])
})

test('chatStream is an async iterator of the pieces, with the result after', async () => {
  const engine = await engineFor()
  lineDelay = 5
  const stream = engine.chatStream('llm', 'Say hello', { system: 'Be brief.' })
  assert.ok(stream instanceof ChatStream)
  const pieces = []
  for await (const piece of stream) pieces.push(piece)
  assert.deepEqual(pieces, PIECES)
  const result = await stream.result
  assert.equal(result.text, 'Hello world')
  assert.equal(result.doneReason, 'stop')
  assert.deepEqual(await stream.next(), { value: null, done: true })

  // Leaving the loop early stops the answer.
  lineDelay = 30
  const early = engine.chatStream('llm', 'hi')
  for await (const piece of early) {
    assert.equal(piece, 'Hel')
    break
  }
  const stopped = await early.result
  assert.equal(stopped.doneReason, 'cancelled')
})

test('chatStream failures reject the iteration and the result', async () => {
  missing.add('llama3.2')
  const engine = await engineFor()
  const stream = engine.chatStream('llm', 'hi')
  await assert.rejects(
    (async () => {
      for await (const _ of stream) assert.fail('no piece')
    })(),
    (e) => e.code === 'HARPER_EDGE_NOT_FOUND' && e.message.includes('ollama pull llama3.2'),
  )
  await rejectsWithCode(stream.result, 'HARPER_EDGE_NOT_FOUND')
  const bad = engine.chatStream('llm', 42)
  await rejectsWithCode(bad.result, 'HARPER_EDGE_INVALID_INPUT')
})

test('a model the daemon lacks is HARPER_EDGE_NOT_FOUND with the pull command', async () => {
  missing.add('llama3.2')
  const engine = await engineFor()
  await rejectsWithCode(engine.chat('llm', 'hi'), 'HARPER_EDGE_NOT_FOUND', /ollama pull llama3\.2/)
  const emb = await engineFor('embeddings', 'llama3.2')
  await rejectsWithCode(emb.embed('llm', ['a']), 'HARPER_EDGE_NOT_FOUND', /ollama pull/)
  engine.flush()
  const [event] = engine.events({ modelName: 'llm' })
  assert.match(event.error, /ollama pull/)
})

test('a daemon that is down is HARPER_EDGE_NETWORK', async () => {
  const engine = Engine.inMemory({ tickIntervalMs: null })
  await engine.registerOllama('llm', '1', 'llama3.2', { host: '127.0.0.1:9' })
  await engine.registerOllama('emb', '1', 'nomic-embed-text', { mode: 'embeddings', host: '127.0.0.1:9' })
  await rejectsWithCode(engine.chat('llm', 'hi'), 'HARPER_EDGE_NETWORK', /ollama serve/)
  await rejectsWithCode(engine.embed('emb', ['a']), 'HARPER_EDGE_NETWORK')
  await rejectsWithCode(engine.chatStream('llm', 'hi').result, 'HARPER_EDGE_NETWORK')
})

test('concurrent answers do not block the event loop', async () => {
  const engine = await engineFor()
  lineDelay = 5
  const results = await Promise.all([1, 2, 3].map(() => engine.chat('llm', 'hi')))
  assert.deepEqual(results.map((r) => r.text), ['Hello world', 'Hello world', 'Hello world'])
})
