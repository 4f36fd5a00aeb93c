#!/usr/bin/env node
// Builds the addon with plain `cargo build` and writes index.js / index.d.ts with napi-rs's own
// generators (from @napi-rs/cli).
//
// Why not `napi build`: it always passes `--target <host triple>`, which puts every artifact in
// target/<triple>/release and so builds aws-lc a second time beside the workspace's
// target/release. Here cargo builds into the shared target/release (or $CARGO_TARGET_DIR), and
// napi-derive writes its type definitions as it does under `napi build`.
//
//   node scripts/build.mjs                  release build -> keyplane.linux-x64-gnu.node, index.js, index.d.ts
//   node scripts/build.mjs --debug          the same from a dev build
//   node scripts/build.mjs --out DIR        the same, but index.js / index.d.ts go into DIR (drift check)
//   node scripts/build.mjs --hooks FILE     dev build with the insecure-test-hooks feature, copied to FILE
//                                           (the vectors replay only; no index.js / index.d.ts)
//
// Any other argument goes to cargo as it is, e.g. the FIPS build (README, "FIPS mode"):
//   CARGO_TARGET_DIR=$PWD/../target/fips npm run build -- --no-default-features --features fips
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { generateTypeDef, parseTriple, writeJsBinding } from '@napi-rs/cli'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const option = (name) => {
  const i = args.indexOf(name)
  return i === -1 ? undefined : args[i + 1]
}
const hooks = option('--hooks')
const debug = args.includes('--debug') || hooks !== undefined
const outDir = resolve(option('--out') ?? root)
// The arguments that are not this script's own, for cargo (features, --locked, -v, ...).
const cargoExtra = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--hooks' || args[i] === '--out') {
    if (args[i + 1] === undefined) {
      console.error(`${args[i]} needs a value`)
      process.exit(2)
    }
    i++
  } else if (args[i] !== '--debug') {
    cargoExtra.push(args[i])
  }
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const { binaryName, dtsHeaderFile } = pkg.napi

function run(cmd, argv, env = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } })
  if (r.status !== 0) {
    console.error(`${cmd} ${argv.join(' ')} failed`)
    process.exit(r.status ?? 1)
  }
}

function targetDir() {
  const r = spawnSync('cargo', ['metadata', '--format-version', '1', '--no-deps'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 })
  if (r.status !== 0) {
    console.error(r.stderr)
    process.exit(1)
  }
  return JSON.parse(r.stdout).target_directory
}

const profileDir = join(targetDir(), debug ? 'debug' : 'release')
const cargoArgs = ['build', '--locked', '-p', 'keyplane-node', '--lib']
if (!debug) cargoArgs.push('--release')
cargoArgs.push(...cargoExtra)

if (hooks !== undefined) {
  run('cargo', [...cargoArgs, '--features', 'insecure-test-hooks'])
  mkdirSync(dirname(resolve(hooks)), { recursive: true })
  copyFileSync(join(profileDir, 'libkeyplane_node.so'), resolve(hooks))
  console.log(`wrote ${resolve(hooks)}`)
  process.exit(0)
}

const typeDefDir = mkdtempSync(join(tmpdir(), 'keyplane-typedef-'))
try {
  // NAPI_FORCE_BUILD_* makes napi-build rerun this crate's compilation (only this crate), so that
  // napi-derive writes the type definitions into NAPI_TYPE_DEF_TMP_FOLDER.
  run('cargo', cargoArgs, {
    NAPI_TYPE_DEF_TMP_FOLDER: typeDefDir,
    NAPI_FORCE_BUILD_KEYPLANE_NODE: String(Date.now()),
  })
  const triple = parseTriple(process.env.CARGO_BUILD_TARGET ?? hostTriple())
  copyFileSync(join(profileDir, 'libkeyplane_node.so'), join(root, `${binaryName}.${triple.platformArchABI}.node`))
  const { exports, dts } = await generateTypeDef({
    typeDefDir,
    configDtsHeaderFile: dtsHeaderFile,
    cwd: root,
    declareBindingTarget: (idents) => idents.length > 0,
  })
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, 'index.d.ts'), dts)
  await writeJsBinding({
    platform: true,
    idents: exports,
    binaryName,
    packageName: pkg.name,
    version: pkg.version,
    outputDir: outDir,
    wasiFlavors: [],
  })
  console.log(`wrote ${join(outDir, 'index.js')} and index.d.ts (${exports.length} exports)`)
} finally {
  rmSync(typeDefDir, { recursive: true, force: true })
}

function hostTriple() {
  const r = spawnSync('rustc', ['-vV'], { encoding: 'utf8' })
  const line = r.stdout.split('\n').find((l) => l.startsWith('host: '))
  return line.slice('host: '.length).trim()
}
