#!/usr/bin/env node
// Fails when the committed index.js / index.d.ts differ from what `napi build` generates from
// the Rust sources now. Needs the devDependencies (`npm install`); the first run compiles the
// crate for an explicit --target (napi-rs always passes one), later runs only the binding.
'use strict'

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const packageDir = path.resolve(__dirname, '..')
const GENERATED = ['index.js', 'index.d.ts']

const napi = path.join(packageDir, 'node_modules', '.bin', 'napi')
if (!fs.existsSync(napi)) {
  console.error('check-generated: @napi-rs/cli is missing: run `npm install` first')
  process.exit(2)
}

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'harper-edge-generated-'))
try {
  const args = ['build', '--platform', '--release', '-p', 'harper-edge-node']
  args.push('--output-dir', out, '--js', 'index.js', '--dts', 'index.d.ts')
  const built = spawnSync(napi, args, { cwd: packageDir, stdio: 'inherit' })
  if (built.status !== 0) {
    console.error(`check-generated: napi build failed (${built.status ?? built.signal})`)
    process.exit(2)
  }
  const stale = GENERATED.filter((name) => {
    const fresh = fs.readFileSync(path.join(out, name), 'utf8')
    const committed = fs.readFileSync(path.join(packageDir, name), 'utf8')
    if (fresh === committed) return false
    spawnSync('diff', ['-u', path.join(packageDir, name), path.join(out, name)], {
      stdio: 'inherit',
    })
    return true
  })
  if (stale.length) {
    console.error(`check-generated: ${stale.join(', ')} out of date: run \`npm run generate\``)
    process.exit(1)
  }
  console.error(`check-generated: ${GENERATED.join(', ')} are current`)
} finally {
  fs.rmSync(out, { recursive: true, force: true })
}
