// One peer of the inference peer benchmark (benches/peers/inference), in Node.js: MiniLM-L6
// sentence vectors (tokenize, run, attention-masked mean, L2 normalise), timed, printed as one
// JSON object on stdout. run_peers.py runs each peer in a fresh process; see README.md.
//
//   node node_peer.mjs --peer NAME --model-dir DIR --sentences FILE \
//       --warmup W --runs N --batch 32 --batch-runs M
//
// Peers:
// - onnxruntime-node: onnxruntime-node 1.30.0 by hand, with the tokenizer of
//   @huggingface/transformers (AutoTokenizer from the local folder) and the pooling in JS;
//   intraOpNumThreads 2, interOpNumThreads 1.
// - transformers-js-4: @huggingface/transformers 4.3.1 `pipeline('feature-extraction')`, fp32,
//   { pooling: 'mean', normalize: true }; session_options { intraOpNumThreads: 2,
//   interOpNumThreads: 1 } (passed through to onnxruntime-node 1.30.0).
// - transformers-js-2.17: @xenova/transformers 2.17.2, the same pipeline, quantized: false. It
//   runs the onnxruntime-node 1.14.0 it bundles and takes no session options: ONNX Runtime's
//   default intra-op pool (one thread per physical core).
// - harper-edge-node-ort | harper-edge-node-tract: the harper-edge Node binding (../../../
//   bindings-node), `engine.embed` on the MiniLM directory fetched from the filesystem with
//   metadata.backend ort | tract. A binding that refuses a backend gives
//   {"peer", "skipped": "<error message>"}, never a crash.
//
// Transformers.js reads local models only (env.allowRemoteModels = false) from a folder this
// script lays out with symlinks in a temporary directory: <root>/minilm-l6/{tokenizer.json,
// tokenizer_config.json, config.json, special_tokens_map.json, onnx/model.onnx}.
//
// loadMs includes importing the library (importMs says how much of it); for harper-edge it is
// Engine.open + fetchModel + waitJob (copies the files into the engine's home) + one embed of
// one short sentence (the first embed loads the session).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, existsSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { parseArgs } from 'node:util'

const THREADS = 2
const DIM = 384
const PEERS = ['onnxruntime-node', 'transformers-js-4', 'transformers-js-2.17', 'harper-edge-node-ort', 'harper-edge-node-tract']
const LAYOUT_FILES = ['tokenizer.json', 'tokenizer_config.json', 'config.json', 'special_tokens_map.json']

const { values: args } = parseArgs({
  options: {
    peer: { type: 'string' },
    'model-dir': {
      type: 'string',
      default: process.env.HARPER_EDGE_MINILM_DIR || join(homedir(), '.cache', 'harper-edge', 'models', 'minilm-l6'),
    },
    sentences: { type: 'string', default: new URL('./sentences.json', import.meta.url).pathname },
    warmup: { type: 'string', default: '10' },
    runs: { type: 'string', default: '200' },
    batch: { type: 'string', default: '32' },
    'batch-runs': { type: 'string', default: '20' },
    'batch-warmup': { type: 'string', default: '2' },
  },
})
const peer = args.peer
if (!PEERS.includes(peer)) {
  console.error(`--peer must be one of ${PEERS.join(', ')}`)
  process.exit(2)
}
const modelDir = args['model-dir']
const [warmup, runs, batchSize, batchRuns, batchWarmup] = ['warmup', 'runs', 'batch', 'batch-runs', 'batch-warmup'].map(
  (k) => Number.parseInt(args[k], 10),
)
const sentences = JSON.parse(readFileSync(args.sentences, 'utf8')).sentences
if (sentences.length < 2 * batchSize) {
  console.error(`need at least ${2 * batchSize} sentences, ${args.sentences} has ${sentences.length}`)
  process.exit(2)
}
const batches = [sentences.slice(0, batchSize), sentences.slice(batchSize, 2 * batchSize)]

const now = () => process.hrtime.bigint()
const msSince = (t) => Number(process.hrtime.bigint() - t) / 1e6
const version = (pkgJson) => JSON.parse(readFileSync(new URL(pkgJson, import.meta.url), 'utf8')).version
const work = mkdtempSync(join(tmpdir(), 'harper-edge-inference-peer-'))

// <root>/minilm-l6/ as Transformers.js wants it, symlinked to the MiniLM files.
function transformersLayout() {
  const root = join(work, 'models')
  const dir = join(root, 'minilm-l6')
  mkdirSync(join(dir, 'onnx'), { recursive: true })
  for (const f of LAYOUT_FILES) if (existsSync(join(modelDir, f))) symlinkSync(join(modelDir, f), join(dir, f))
  symlinkSync(join(modelDir, 'model.onnx'), join(dir, 'onnx', 'model.onnx'))
  return { root, name: 'minilm-l6' }
}

// Rows of a [n × dim] Float32Array as arrays of numbers.
const rows = (data, n, dim) => Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * dim, (i + 1) * dim)))

async function onnxruntimeNode() {
  const t = now()
  const ort = await import('onnxruntime-node')
  const { AutoTokenizer, env } = await import('@huggingface/transformers')
  const importMs = msSince(t)
  const layout = transformersLayout()
  env.allowRemoteModels = false
  env.localModelPath = layout.root
  const tokenizer = await AutoTokenizer.from_pretrained(layout.name)
  const session = await ort.InferenceSession.create(join(modelDir, 'model.onnx'), {
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  })
  const embed = async (texts) => {
    // padding: true = to the longest of the batch; truncation at model_max_length (512).
    const enc = tokenizer(texts, { padding: true, truncation: true })
    const [n, seq] = enc.input_ids.dims
    const mask = enc.attention_mask.data
    const feeds = {
      input_ids: new ort.Tensor('int64', enc.input_ids.data, [n, seq]),
      attention_mask: new ort.Tensor('int64', mask, [n, seq]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(n * seq), [n, seq]),
    }
    const out = await session.run(feeds, ['last_hidden_state'])
    const hidden = out.last_hidden_state.data
    const dim = out.last_hidden_state.dims[2]
    const result = new Float32Array(n * dim)
    const acc = new Float64Array(dim)
    for (let i = 0; i < n; i++) {
      acc.fill(0)
      let count = 0
      for (let s = 0; s < seq; s++) {
        if (mask[i * seq + s] === 0n) continue
        count++
        const base = (i * seq + s) * dim
        for (let d = 0; d < dim; d++) acc[d] += hidden[base + d]
      }
      let norm = 0
      for (let d = 0; d < dim; d++) {
        acc[d] /= Math.max(count, 1e-9)
        norm += acc[d] * acc[d]
      }
      norm = Math.max(Math.sqrt(norm), 1e-12)
      for (let d = 0; d < dim; d++) result[i * dim + d] = acc[d] / norm
    }
    return { n, dim, data: result }
  }
  return {
    embed,
    importMs,
    runtime: `onnxruntime-node ${version('./node_modules/onnxruntime-node/package.json')}, tokenizer of @huggingface/transformers ${version('./node_modules/@huggingface/transformers/package.json')}`,
    threads: `intraOpNumThreads=${THREADS}, interOpNumThreads=1 (session options)`,
  }
}

async function transformersJs(pkg) {
  const t = now()
  const { pipeline, env } = await import(pkg)
  const importMs = msSince(t)
  const layout = transformersLayout()
  env.allowRemoteModels = false
  env.allowLocalModels = true
  env.localModelPath = layout.root
  const v4 = pkg === '@huggingface/transformers'
  const options = v4
    ? { dtype: 'fp32', device: 'cpu', session_options: { intraOpNumThreads: THREADS, interOpNumThreads: 1 } }
    : { quantized: false }
  const extractor = await pipeline('feature-extraction', layout.name, options)
  const embed = async (texts) => {
    const out = await extractor(texts, { pooling: 'mean', normalize: true })
    return { n: out.dims[0], dim: out.dims[1], data: out.data }
  }
  const ortPkg = v4
    ? './node_modules/onnxruntime-node/package.json'
    : './node_modules/@xenova/transformers/node_modules/onnxruntime-node/package.json'
  return {
    embed,
    importMs,
    runtime: `${pkg} ${version(`./node_modules/${pkg}/package.json`)} (onnxruntime-node ${version(ortPkg)})`,
    threads: v4
      ? `session_options intraOpNumThreads=${THREADS}, interOpNumThreads=1 (passed to onnxruntime-node)`
      : 'not settable (2.17 passes no session options): ONNX Runtime 1.14 default, one intra-op thread per physical core',
  }
}

async function harperEdgeNode(backend) {
  const t = now()
  const { Engine } = await import('../../../bindings-node/index.js')
  const importMs = msSince(t)
  const engine = Engine.open(join(work, 'home'), { tickIntervalMs: null })
  const source = { kind: 'fs', root: dirname(modelDir), path: basename(modelDir) }
  const t0 = now()
  const job = await engine.fetchModel('minilm', backend, source, {
    mainFile: 'model.onnx',
    metadata: { backend, taskType: 'embedding' },
  })
  const done = await engine.waitJob(job.id, { timeoutMs: 600_000 })
  if (done.state !== 'completed') throw new Error(`fetch job ${done.state}: ${JSON.stringify(done.error)}`)
  const fetchMs = msSince(t0)
  const ref = `minilm:${backend}`
  const t1 = now()
  await engine.embed(ref, ['Hello world.']) // the first embed loads the session
  const firstEmbedMs = msSince(t1)
  const embed = async (texts) => {
    const e = await engine.embed(ref, texts)
    return { n: e.count, dim: e.dim, data: e.data }
  }
  let runtime = `harper-edge ${version('../../../bindings-node/package.json')} (Node binding), backend ${backend}`
  if (backend === 'ort' && process.env.ORT_DYLIB_PATH) runtime += ` (ONNX Runtime from ORT_DYLIB_PATH=${process.env.ORT_DYLIB_PATH})`
  return {
    embed,
    importMs,
    runtime,
    fetchMs,
    firstEmbedMs,
    threads:
      backend === 'ort'
        ? "binding default (not settable): ONNX Runtime's default intra-op pool (one per physical core)"
        : "binding default (not settable): tract's default (harper-edge configures no thread pool)",
    loadNote:
      'loadMs = import + Engine.open + fetchModel + waitJob (copies the files into the home) + first embed of one sentence (loads the session)',
  }
}

async function main() {
  let peerImpl
  let loadMs
  try {
    const t = now()
    if (peer === 'onnxruntime-node') peerImpl = await onnxruntimeNode()
    else if (peer === 'transformers-js-4') peerImpl = await transformersJs('@huggingface/transformers')
    else if (peer === 'transformers-js-2.17') peerImpl = await transformersJs('@xenova/transformers')
    else peerImpl = await harperEdgeNode(peer === 'harper-edge-node-ort' ? 'ort' : 'tract')
    loadMs = msSince(t)
  } catch (e) {
    process.stdout.write(JSON.stringify({ peer, skipped: `${e?.code ? `${e.code}: ` : ''}${e?.message ?? e}` }) + '\n')
    return
  }
  const { embed, ...detail } = peerImpl
  let k = 0
  for (let i = 0; i < warmup; i++) await embed([sentences[k++ % sentences.length]])
  const b1Ms = []
  for (let i = 0; i < runs; i++) {
    const text = sentences[k++ % sentences.length]
    const t = now()
    await embed([text])
    b1Ms.push(msSince(t))
  }
  for (let j = 0; j < batchWarmup; j++) await embed(batches[j % 2])
  const b32Ms = []
  for (let j = 0; j < batchRuns; j++) {
    const batch = batches[j % 2]
    const t = now()
    const out = await embed(batch)
    b32Ms.push(msSince(t))
    if (out.n !== batchSize || out.dim !== DIM) throw new Error(`got [${out.n}, ${out.dim}] for a batch of ${batchSize}`)
  }
  const v = await embed(sentences.slice(0, 4))
  const vectors = rows(v.data, v.n, v.dim)
  process.stdout.write(JSON.stringify({ peer, runtime: detail.runtime, loadMs, b1Ms, b32Ms, vectors, ...detail }) + '\n')
}

try {
  await main()
} finally {
  rmSync(work, { recursive: true, force: true })
}
