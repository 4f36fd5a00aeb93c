'use strict'
// The embedded store: Keyring.open / openSync, persistence across processes, the lock, damaged
// records in loadProblems.
const { describe, it, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { Keyring, throwsCode, rejectsCode } = require('./helpers')
const { LocalRootKey } = require('..')

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'keyplane-store-test-'))
after(() => fs.rmSync(scratch, { recursive: true, force: true }))
let n = 0
const freshDir = () => path.join(scratch, `store-${n++}`)

const material = LocalRootKey.generateMaterial()
const root = new LocalRootKey('store-root', material)

/** Runs `body` in a child Node process with `ring` opened on `dir`; returns its stdout. */
function inChild(dir, body) {
  const script = `
    const { Keyring, LocalRootKey } = require(${JSON.stringify(path.join(__dirname, '..'))})
    const root = new LocalRootKey('store-root', Buffer.from(${JSON.stringify(material.toString('hex'))}, 'hex'))
    const ring = Keyring.openSync(${JSON.stringify(dir)}, root)
    ${body}`
  return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 })
}

describe('Keyring.open', () => {
  it('persists every change across processes (sync and async open)', async () => {
    const dir = freshDir()
    const blob = inChild(dir, `
      ring.createKeySync({ keyId: 'kept', alias: 'alias/kept' })
      ring.rotateKeySync('kept')
      ring.createKeySync({ keyId: 'off' })
      ring.disableKeySync('off')
      process.stdout.write(ring.encryptSync('alias/kept', Buffer.from('kept'), { a: 'b' }).toString('hex'))`)
    const ring = await Keyring.open(dir, root)
    assert.ok(ring instanceof Keyring)
    assert.deepEqual(ring.loadProblems, [])
    assert.deepEqual(ring.listKeysSync(), ['kept', 'off'])
    assert.equal(ring.describeKeySync('alias/kept').currentVersion, 2)
    assert.equal(ring.describeKeySync('off').keyState, 'Disabled')
    assert.equal(ring.decryptSync(Buffer.from(blob, 'hex'), { a: 'b' }).toString(), 'kept')

    const dir2 = freshDir()
    inChild(dir2, `ring.createKeySync({ keyId: 'sync' })`)
    const again = Keyring.openSync(dir2, root, { maxBatchItems: 10 })
    assert.deepEqual(again.listKeysSync(), ['sync'])
    throwsCode(() => again.encryptManySync(Array.from({ length: 11 }, () => ({ keyId: 'sync', plaintext: Buffer.alloc(1) }))), 'KP_LIMIT_EXCEEDED')
  })

  it('a store is locked while a keyring has it open: KP_STORAGE, in this process and others', async () => {
    const dir = freshDir()
    const ring = Keyring.openSync(dir, root)
    ring.createKeySync({ keyId: 'held' })
    throwsCode(() => Keyring.openSync(dir, root), 'KP_STORAGE')
    await rejectsCode(Keyring.open(dir, root), 'KP_STORAGE')
    assert.throws(() => inChild(dir, ''), /KP_STORAGE/)
    assert.deepEqual(ring.listKeysSync(), ['held'])
  })

  it('a damaged record is listed in loadProblems while the other keys load', () => {
    const dir = freshDir()
    inChild(dir, `for (const id of ['a', 'b', 'c']) ring.createKeySync({ keyId: id })`)
    const files = fs.readdirSync(path.join(dir, 'keys')).sort()
    assert.equal(files.length, 3)
    const damaged = path.join(dir, 'keys', files[1])
    const bytes = fs.readFileSync(damaged)
    bytes[bytes.length - 5] ^= 1
    fs.writeFileSync(damaged, bytes)
    fs.writeFileSync(path.join(dir, 'keys', 'ffff.kpr'), 'not a record')
    const ring = Keyring.openSync(dir, root)
    assert.equal(ring.listKeysSync().length, 2)
    const problems = ring.loadProblems
    assert.equal(problems.length, 2)
    const byPath = Object.fromEntries(problems.map((p) => [path.basename(p.path), p.error]))
    assert.ok(byPath[files[1]] instanceof Error)
    assert.equal(byPath[files[1]].code, 'KP_INVALID_CIPHERTEXT')
    assert.equal(byPath['ffff.kpr'].code, 'KP_INVALID_INPUT')
    // Handles from withCaller share the same list.
    assert.equal(ring.withCaller('ops').loadProblems.length, 2)
  })

  it('records sealed under another root do not load', () => {
    const dir = freshDir()
    inChild(dir, `ring.createKeySync({ keyId: 'x' })`)
    const other = new LocalRootKey('store-root', LocalRootKey.generateMaterial())
    const ring = Keyring.openSync(dir, other)
    assert.deepEqual(ring.listKeysSync(), [])
    assert.equal(ring.loadProblems[0].error.code, 'KP_INVALID_CIPHERTEXT')
  })

  it('bad arguments', async () => {
    throwsCode(() => Keyring.openSync(42, root), 'ERR_INVALID_ARG_TYPE', 'TypeError')
    throwsCode(() => Keyring.openSync(freshDir(), Buffer.alloc(32)), 'ERR_INVALID_ARG_TYPE', 'TypeError')
    await rejectsCode(Keyring.open(freshDir(), 'root'), 'ERR_INVALID_ARG_TYPE', 'TypeError')
    throwsCode(() => Keyring.openSync(freshDir(), root, { threads: -1 }), 'KP_INVALID_INPUT')
    // A path that cannot be a directory.
    const file = path.join(scratch, 'a-file')
    fs.writeFileSync(file, '')
    throwsCode(() => Keyring.openSync(path.join(file, 'store'), root), 'KP_STORAGE')
    await rejectsCode(Keyring.open(path.join(file, 'store'), root), 'KP_STORAGE')
  })
})
