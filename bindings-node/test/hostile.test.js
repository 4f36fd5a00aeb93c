'use strict'
// Hostile input: what a caller (or code it loaded) can do to the addon's memory, threads and
// process. Every case ends in a result or a clear error, never a crash, a hang or an abort.
// Cases that need a fresh process (no result pool yet), `--expose-gc` or an exit run in a child
// process, bounded by a timeout after which the parent kills it.
const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const { Keyring, throwsCode } = require('./helpers')

const PKG = path.join(__dirname, '..')

/**
 * Runs `source` (CommonJS, `Keyring` and `assert` in scope) in a child `node` with `flags`,
 * killed after `ms`; asserts that it exited with status 0 and printed `done`.
 */
function inChild(source, { flags = [], ms = 60_000 } = {}) {
  const prelude = `const assert = require('node:assert/strict'); const { Keyring } = require(${JSON.stringify(PKG)});\n`
  const body = `(async () => {\n${source}\n})().then(() => console.log('done'), (e) => { console.error(e); process.exit(1) })`
  const r = spawnSync(process.execPath, [...flags, '-e', prelude + body], {
    cwd: PKG,
    encoding: 'utf8',
    timeout: ms,
    killSignal: 'SIGKILL',
  })
  const report = `status ${r.status}, signal ${r.signal}, error ${r.error}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`
  assert.equal(r.error, undefined, `the child did not finish within ${ms} ms: ${report}`)
  assert.equal(r.signal, null, report)
  assert.equal(r.status, 0, report)
  assert.match(r.stdout, /^done$/m, report)
  return r
}

describe('a result buffer detached by the caller', () => {
  it('transfer, structuredClone and postMessage of a pooled result: later results still round-trip (with GC)', () => {
    inChild(
      `
      const { MessageChannel } = require('node:worker_threads')
      const ring = new Keyring()
      const k = ring.createKeySync().keyId
      const mac = ring.createKeySync({ keySpec: 'HMAC_256' }).keyId
      const ec = ring.createKeySync({ keySpec: 'ECC_NIST_P256' }).keyId
      const detachers = [
        (ab) => structuredClone(ab, { transfer: [ab] }),
        (ab) => (typeof ab.transfer === 'function' ? ab.transfer() : structuredClone(ab, { transfer: [ab] })),
        (ab) => { const { port1, port2 } = new MessageChannel(); port1.postMessage(ab, [ab]); port1.close(); port2.close() },
      ]
      for (let round = 0; round < 30; round++) {
        const results = [
          ring.encryptSync(k, Buffer.from('r' + round)),
          ring.generateMacSync(mac, Buffer.from('m'), 'HMAC_SHA_256'),
          ring.signSync(ec, Buffer.from('s'), 'ECDSA_SHA_256'),
        ]
        const victim = results[round % results.length]
        let moved = detachers[round % detachers.length](victim.buffer)
        assert.equal(victim.length, 0, 'the view is detached with its buffer')
        moved = null
        global.gc()
        for (let i = 0; i < 300; i++) {
          const pt = Buffer.from('item ' + round + ' ' + i)
          const blob = ring.encryptSync(k, pt)
          assert.deepEqual(ring.decryptSync(blob), pt)
          const tag = ring.generateMacSync(mac, pt, 'HMAC_SHA_256')
          assert.equal(ring.verifyMacSync(mac, pt, 'HMAC_SHA_256', tag), true)
          if (i % 60 === 0) {
            const sig = ring.signSync(ec, pt, 'ECDSA_SHA_256')
            assert.equal(ring.verifySync(ec, pt, 'ECDSA_SHA_256', sig), true)
            global.gc()
          }
        }
      }
      `,
      { flags: ['--expose-gc'] },
    )
  })

  it('in this process too: a detached pool is replaced, not written through', async () => {
    const ring = new Keyring()
    const k = ring.createKeySync().keyId
    for (let round = 0; round < 5; round++) {
      const b = ring.encryptSync(k, Buffer.from('x'))
      structuredClone(b.buffer, { transfer: [b.buffer] })
      const pt = Buffer.from(`after ${round}`)
      assert.deepEqual(ring.decryptSync(ring.encryptSync(k, pt)), pt)
      assert.deepEqual(await ring.decrypt(await ring.encrypt(k, pt)), pt)
    }
  })
})

describe('garbage collection and exit', () => {
  it('a keyring and an audit callback that references it (a cycle) are collected without a crash', () => {
    inChild(
      `
      let delivered = 0
      let collected = 0
      const registry = new FinalizationRegistry(() => collected++)
      for (let i = 0; i < 40; i++) {
        let ring = new Keyring({ audit: { callback: (e) => { delivered++; ring.caller } } })
        registry.register(ring, i)
        const k = ring.createKeySync().keyId
        for (let j = 0; j < 20; j++) ring.encryptSync(k, Buffer.from('x'))
        if (i % 2) await ring.flushAudit()
        ring = null
        global.gc()
        await new Promise((resolve) => setImmediate(resolve))
      }
      // Until every keyring was collected (the cycle does not keep them), at most 1,000 rounds.
      for (let i = 0; i < 1000 && collected < 40; i++) {
        global.gc()
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
      assert.equal(collected, 40, 'every keyring in a cycle with its callback is collected')
      assert.ok(delivered > 0)
      `,
      { flags: ['--expose-gc'] },
    )
  })

  it('a process exits promptly with 2,000 audit events still queued for a callback', () => {
    inChild(
      `
      const ring = new Keyring({ audit: { callback: () => {} } })
      const k = ring.createKeySync().keyId
      for (let i = 0; i < 2000; i++) ring.encryptSync(k, Buffer.from('x'))
      `,
      { ms: 60_000 },
    )
  })
})

describe('huge counts', () => {
  const ring = new Keyring({ maxBatchItems: 5 })
  const k = ring.createKeySync().keyId

  it('refused before anything is allocated for them', async () => {
    throwsCode(() => ring.generateRandomSync(2 ** 40), 'KP_INVALID_INPUT')
    await assert.rejects(ring.generateRandom(2 ** 40), { code: 'KP_INVALID_INPUT' })
    throwsCode(() => ring.generateRandomSync(2 ** 60), 'ERR_OUT_OF_RANGE', 'RangeError')
    throwsCode(() => ring.generateDataKeySync(k, { numberOfBytes: 1e12 }), 'KP_INVALID_INPUT')
    throwsCode(() => ring.generateDataKeyManySync(k, 1e12), 'ERR_INVALID_ARG_TYPE', 'TypeError')
    // Sparse arrays cost the caller nothing; the limit is checked on their length.
    for (const n of [6, 1e9, 2 ** 32 - 1]) {
      const sparse = new Array(n)
      throwsCode(() => ring.encryptManySync(sparse), 'KP_LIMIT_EXCEEDED')
      throwsCode(() => ring.encryptManySync(k, sparse), 'KP_LIMIT_EXCEEDED')
      throwsCode(() => ring.decryptManySync(sparse, {}), 'KP_LIMIT_EXCEEDED')
      throwsCode(() => ring.generateDataKeyManySync(sparse), 'KP_LIMIT_EXCEEDED')
      await assert.rejects(ring.signMany(sparse), { code: 'KP_LIMIT_EXCEEDED' })
    }
    throwsCode(() => require('..').verifyAuditLogSync(new Array(2 ** 32 - 1), Buffer.alloc(32)), 'ERR_OUT_OF_RANGE', 'RangeError')
    // A context with more keys than its 8192 bytes can hold.
    const wide = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, '']))
    throwsCode(() => ring.encryptSync(k, Buffer.alloc(1), wide), 'KP_LIMIT_EXCEEDED')
    throwsCode(() => ring.encryptSync(k, Buffer.alloc(1), { a: 'x'.repeat(1 << 24) }), 'KP_LIMIT_EXCEEDED')
  })

  it('a batch whose bytes add up past what one Buffer can hold is refused before the copy', async () => {
    // 100 views of one 256 MiB buffer (its pages never touched) add up to 25 GiB: more than
    // Node's largest Buffer (4 GiB) and than this machine could allocate.
    const big = new Uint8Array(new ArrayBuffer(256 << 20))
    const views = [big.subarray(0), big.subarray(1)]
    const list = Array.from({ length: 100 }, (_, i) => views[i % 2])
    const roomy = new Keyring()
    const key = roomy.createKeySync().keyId
    throwsCode(() => roomy.encryptManySync(key, list), 'KP_LIMIT_EXCEEDED')
    await assert.rejects(roomy.encryptMany(list.map((plaintext) => ({ keyId: key, plaintext }))), { code: 'KP_LIMIT_EXCEEDED' })
    throwsCode(() => roomy.generateMacManySync(list.map((message) => ({ keyId: key, message, macAlgorithm: 'HMAC_SHA_256' }))), 'KP_LIMIT_EXCEEDED')
  })

  it('maxBatchItems counts every item, also those whose values are refused', async () => {
    const good = { keyId: k, plaintext: Buffer.from('x') }
    const six = [good, { keyId: 42 }, 7, { keyId: k, plaintext: Buffer.from('y'), context: { '': 'x' } }, good, good]
    throwsCode(() => ring.encryptManySync(six), 'KP_LIMIT_EXCEEDED')
    await assert.rejects(ring.encryptMany(six), { code: 'KP_LIMIT_EXCEEDED' })
    const five = six.slice(0, 5)
    const out = ring.encryptManySync(five)
    assert.deepEqual(out.map((r) => (r instanceof Error ? r.code : 'ok')), ['ok', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE', 'KP_INVALID_INPUT', 'ok'])
  })

  it('threads above 1024 (or not a count at all) fail fast with KP_INVALID_INPUT', () => {
    for (const threads of [1e6, 1025, 2 ** 32, 2 ** 53, 2 ** 64, -1, NaN, Infinity, 1.5]) {
      throwsCode(() => new Keyring({ threads }), 'KP_INVALID_INPUT')
    }
    new Keyring({ threads: 1024 })
  })
})

describe('names of every length through an audited keyring', () => {
  it('lengths 0, 1, 255, 256 and 64 Ki: a result or a clear error, and the trail stays right', async () => {
    const events = []
    const ring = new Keyring({ audit: { callback: (e) => events.push(e) } })
    const k = ring.createKeySync().keyId
    for (const n of [0, 1, 255, 256, 65536]) {
      const name = 'k'.repeat(n)
      const alias = `alias/${'a'.repeat(n)}`
      const calls = {
        encrypt: (s) => ring[s ? 'encryptSync' : 'encrypt'](name, Buffer.from('x')),
        encryptByAlias: (s) => ring[s ? 'encryptSync' : 'encrypt'](alias, Buffer.from('x')),
        describeKey: (s) => ring[s ? 'describeKeySync' : 'describeKey'](name),
        generateMac: (s) => ring[s ? 'generateMacSync' : 'generateMac'](name, Buffer.from('x'), 'HMAC_SHA_256'),
        createKey: (s) => ring[s ? 'createKeySync' : 'createKey']({ keyId: `${name}${s ? 's' : 'a'}` }),
        createAlias: (s) => ring[s ? 'createAliasSync' : 'createAlias'](`${alias}${s ? 's' : 'a'}`, k),
        generateDataKey: (s) => ring[s ? 'generateDataKeySync' : 'generateDataKey'](name),
        context: (s) => ring[s ? 'encryptSync' : 'encrypt'](k, Buffer.from('x'), { [`c${name}`]: name }),
        encryptMany: (s) => ring[s ? 'encryptManySync' : 'encryptMany']([{ keyId: name, plaintext: Buffer.from('x') }]),
      }
      for (const [op, call] of Object.entries(calls)) {
        for (const sync of [true, false]) {
          try {
            const out = await call(sync)
            for (const r of Array.isArray(out) ? out : []) {
              if (r instanceof Error) assert.match(r.code, /^KP_(?!INTERNAL)/, `${op} ${n}: ${r.message}`)
            }
          } catch (e) {
            assert.match(String(e.code), /^KP_(?!INTERNAL)/, `${op} with a ${n}-byte name (${sync ? 'sync' : 'async'}): ${e.message}`)
          }
        }
      }
    }
    // The next real encryption is recorded under its own key (events of the Promise forms
    // come from other threads, so the order between threads is not fixed: look it up).
    await ring.flushAudit()
    const before = events.length
    const fresh = ring.createKeySync().keyId
    ring.encryptSync(fresh, Buffer.from('after'))
    await ring.flushAudit()
    assert.deepEqual(
      events.slice(before).map((e) => [e.operation, e.keyId, e.errorCode]),
      [['CreateKey', fresh, null], ['Encrypt', fresh, null]],
    )
    // A long name is recorded cut, never whole.
    assert.ok(events.every((e) => e.keyId === null || e.keyId.length < 1024))
  })
})

describe('strings that are not valid Unicode', () => {
  const ring = new Keyring()
  const k = ring.createKeySync().keyId
  const lone = ['a\uD800', 'a\uDBFF', '\uDC00', 'x\uDFFFy']

  it('lone surrogates are refused in contexts, key ids, aliases and every other string', async () => {
    // A real U+FFFD is a valid string, and only that exact context opens its blob.
    const blob = ring.encryptSync(k, Buffer.from('p'), { t: 'a\uFFFD' })
    assert.deepEqual(ring.decryptSync(blob, { t: 'a\uFFFD' }), Buffer.from('p'))
    for (const s of lone) {
      throwsCode(() => ring.encryptSync(k, Buffer.from('p'), { t: s }), 'KP_INVALID_INPUT')
      throwsCode(() => ring.encryptSync(k, Buffer.from('p'), { [s]: 'v' }), 'KP_INVALID_INPUT')
      throwsCode(() => ring.decryptSync(blob, { t: s }), 'KP_INVALID_INPUT')
      await assert.rejects(ring.encrypt(k, Buffer.from('p'), { t: s }), { code: 'KP_INVALID_INPUT' })
      throwsCode(() => ring.encryptSync(s, Buffer.from('p')), 'KP_INVALID_INPUT')
      throwsCode(() => ring.describeKeySync(s), 'KP_INVALID_INPUT')
      throwsCode(() => ring.createKeySync({ keyId: s }), 'KP_INVALID_INPUT')
      throwsCode(() => ring.createKeySync({ alias: `alias/${s}` }), 'KP_INVALID_INPUT')
      throwsCode(() => ring.createKeySync({ description: s }), 'KP_INVALID_INPUT')
      throwsCode(() => ring.createAliasSync(`alias/${s}`, k), 'KP_INVALID_INPUT')
      throwsCode(() => ring.withCaller(s), 'KP_INVALID_INPUT')
      throwsCode(() => ring.generateMacSync(k, Buffer.alloc(1), `HMAC_SHA_256${s}`), 'KP_INVALID_INPUT')
      // A long string takes the other path (read whole instead of into a stack buffer).
      throwsCode(() => ring.encryptSync('k'.repeat(600) + s, Buffer.from('p')), 'KP_INVALID_INPUT')
      throwsCode(() => ring.encryptSync(k, Buffer.from('p'), { t: 'v'.repeat(600) + s }), 'KP_INVALID_INPUT')
    }
    // Nothing was created under a replaced name.
    assert.equal(ring.listKeysSync().length, 1)
    assert.deepEqual(ring.listAliasesSync(), [])
  })

  it('in a batch, the item with the bad string fails in its slot', () => {
    const out = ring.encryptManySync([
      { keyId: k, plaintext: Buffer.from('a'), context: { t: 'a\uD800' } },
      { keyId: 'b\uDC00', plaintext: Buffer.from('b') },
      { keyId: k, plaintext: Buffer.from('c'), context: { t: 'a\uFFFD' } },
    ])
    assert.equal(out[0].code, 'KP_INVALID_INPUT')
    assert.equal(out[1].code, 'KP_INVALID_INPUT')
    assert.deepEqual(ring.decryptSync(out[2], { t: 'a\uFFFD' }), Buffer.from('c'))
  })
})

describe('inconsistent input', () => {
  it('a batch item whose getter answers differently when it is read again', () => {
    const ring = new Keyring()
    const k = ring.createKeySync().keyId
    let reads = 0
    const list = [{ keyId: k, plaintext: Buffer.from('x') }, null]
    Object.defineProperty(list, 1, {
      get: () => (reads++ === 0 ? 5 : { keyId: k, plaintext: Buffer.from('y') }),
    })
    const out = ring.encryptManySync(list)
    assert.equal(reads, 2)
    assert.deepEqual(ring.decryptSync(out[0]), Buffer.from('x'))
    assert.ok(out[1] instanceof TypeError)
    assert.equal(out[1].code, 'ERR_INVALID_ARG_TYPE')
    assert.match(out[1].message, /items\[1\] must be an object/)
  })
})

describe('re-entrancy', () => {
  it('a patched Buffer.from or ArrayBuffer byteLength getter that calls back into Keyplane never aborts', () => {
    // In a fresh process, so that the patched Buffer.from is the one the result pool finds.
    inChild(`
      const ring = new Keyring()
      const k = ring.createKeySync().keyId
      const mac = ring.createKeySync({ keySpec: 'HMAC_256' }).keyId
      const from = Buffer.from
      let inner = 0
      function reenter() {
        if (inner >= 200) return
        inner++
        const pt = from.call(Buffer, 'inner ' + inner)
        const blob = ring.encryptSync(k, pt)
        assert.deepEqual(ring.decryptSync(blob), pt)
        ring.generateMacSync(mac, pt, 'HMAC_SHA_256')
        ring.encryptManySync(k, [pt, pt])
      }
      function roundTrips(label) {
        for (let i = 0; i < 30; i++) {
          const pt = from.call(Buffer, label + ' ' + i)
          assert.deepEqual(ring.decryptSync(ring.encryptSync(k, pt)), pt)
          const tag = ring.generateMacSync(mac, pt, 'HMAC_SHA_256')
          assert.equal(ring.verifyMacSync(mac, pt, 'HMAC_SHA_256', tag), true)
          const blobs = ring.encryptManySync(k, [pt, pt])
          assert.deepEqual(ring.decryptManySync(blobs), [pt, pt])
        }
      }
      Buffer.from = function (...args) { reenter(); return from.apply(this, args) }
      try { roundTrips('patched from') } finally { Buffer.from = from }
      assert.ok(inner > 0, 'the patched Buffer.from was called')

      inner = 0
      const byteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')
      Object.defineProperty(ArrayBuffer.prototype, 'byteLength', {
        configurable: true,
        get() { reenter(); return byteLength.get.call(this) },
      })
      try { roundTrips('patched byteLength') } finally { Object.defineProperty(ArrayBuffer.prototype, 'byteLength', byteLength) }
      assert.ok(inner > 0, 'the patched getter was called')
    `)
  })

  it('a globalThis.Buffer getter that calls back into Keyplane while the result pool is made', () => {
    inChild(`
      const ring = new Keyring()
      const k = ring.createKeySync().keyId
      const RealBuffer = Buffer
      let calls = 0
      Object.defineProperty(globalThis, 'Buffer', {
        configurable: true,
        get() {
          if (calls++ < 20) ring.encryptSync(k, RealBuffer.alloc(4))
          return RealBuffer
        },
      })
      for (let i = 0; i < 10; i++) {
        const pt = RealBuffer.from('p' + i)
        assert.deepEqual(ring.decryptSync(ring.encryptSync(k, pt)), pt)
      }
      assert.ok(calls > 0)
    `)
  })

  it('decryptMany while a patched Uint8Array transfers the buffer its plaintexts are copied from', () => {
    inChild(
      `
      const ring = new Keyring()
      const k = ring.createKeySync().keyId
      const pts = Array.from({ length: 50 }, (_, i) => Buffer.from('plaintext ' + i))
      const blobs = ring.encryptManySync(k, pts)
      const RealUint8Array = Uint8Array
      let stolen = null
      globalThis.Uint8Array = function (ab, offset, length) {
        if (stolen === null && ab instanceof ArrayBuffer && ab.byteLength > 0) stolen = structuredClone(ab, { transfer: [ab] })
        return new RealUint8Array(ab, offset, length)
      }
      let outcome
      try {
        outcome = ring.decryptManySync(blobs)
      } catch (e) {
        outcome = e
      } finally {
        globalThis.Uint8Array = RealUint8Array
      }
      assert.ok(outcome instanceof TypeError, String(outcome)) // the copy from a detached buffer throws
      stolen = null
      global.gc()
      for (let i = 0; i < 20; i++) assert.deepEqual(ring.decryptManySync(blobs), pts)
      `,
      { flags: ['--expose-gc'] },
    )
  })

  it('a globalThis.Buffer getter that detaches the plaintext before the result pool is made', () => {
    inChild(`
      const ring = new Keyring()
      const k = ring.createKeySync().keyId
      const RealBuffer = Buffer
      const plaintext = new Uint8Array(new ArrayBuffer(16))
      let calls = 0
      Object.defineProperty(globalThis, 'Buffer', {
        configurable: true,
        get() {
          if (calls++ === 0) structuredClone(plaintext.buffer, { transfer: [plaintext.buffer] })
          return RealBuffer
        },
      })
      // The detached plaintext reads as empty, as a detached buffer does everywhere.
      const blob = ring.encryptSync(k, plaintext)
      assert.equal(plaintext.length, 0)
      assert.equal(ring.decryptSync(blob).length, 0)
      assert.ok(calls > 0)
    `)
  })
})
