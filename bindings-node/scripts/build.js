#!/usr/bin/env node
// Builds the native addon with cargo and installs it where index.js looks for it.
//
// Dependency-free on purpose: `npm install <path-to-this-folder>` runs this script without
// installing this package's own devDependencies, so the napi CLI is not available here.
'use strict'

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')

const CRATE = 'harper-edge-node'
const LIB_TARGET = 'harper_edge_node'
const BINARY_NAME = 'harper-edge'
const packageDir = path.resolve(__dirname, '..')

// The platform suffix of the generated loader (index.js) for this machine.
function platformSuffix() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const glibc = process.report?.getReport?.()?.header?.glibcVersionRuntime
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function fail(message) {
  console.error(`harper-edge: ${message}`)
  process.exit(1)
}

function build() {
  const args = [
    'build',
    '--release',
    '-p',
    CRATE,
    '--lib',
    '--message-format=json-render-diagnostics',
  ]
  const cargo = process.env.CARGO || 'cargo'
  const child = spawn(cargo, args, { cwd: packageDir, stdio: ['ignore', 'pipe', 'inherit'] })
  const artifacts = []
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    let message
    try {
      message = JSON.parse(line)
    } catch {
      return
    }
    if (message.reason === 'compiler-message' && message.message?.rendered) {
      process.stderr.write(message.message.rendered)
    }
    if (
      message.reason === 'compiler-artifact' &&
      message.target?.name === LIB_TARGET &&
      message.target.kind.includes('cdylib')
    ) {
      artifacts.push(...message.filenames)
    }
  })
  child.on('error', (e) =>
    fail(`cannot run '${cargo}' (${e.message}): install Rust from https://rustup.rs`),
  )
  child.on('close', (code) => {
    if (code !== 0) fail(`cargo build failed with exit code ${code}`)
    const library = artifacts.find((f) => /\.(so|dylib|dll)$/.test(f))
    if (!library) fail(`cargo reported no cdylib for ${LIB_TARGET}`)
    install(library)
  })
}

// Copy, then rename: a process that loads the addon meanwhile sees the old file or the new one,
// never half of one.
function install(library) {
  const dest = path.join(packageDir, `${BINARY_NAME}.${platformSuffix()}.node`)
  const tmp = `${dest}.${process.pid}.tmp`
  try {
    fs.copyFileSync(library, tmp)
    fs.renameSync(tmp, dest)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    fail(`cannot install ${dest}: ${e.message}`)
  }
  console.error(`harper-edge: built ${path.relative(packageDir, dest)}`)
}

build()
