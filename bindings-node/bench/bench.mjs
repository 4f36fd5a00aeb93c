// Keyplane from Node beside node:crypto, and the batch forms beside a per-call loop.
//
//   node bench/bench.mjs           full run (about a minute)
//   node bench/bench.mjs --quick   a few rounds, to check that it runs (scripts/test)
//
// Each pair (A = Keyplane, B = the alternative) is measured in interleaved rounds: A for a
// slice of time, then B, and so on; the reported time is the median per-call time over the
// rounds, and the ratio is the median of the per-round ratios B/A (so > 1 means Keyplane is
// faster), which cancels most of the drift of a shared machine.
import crypto from 'node:crypto'
import os from 'node:os'
import { promisify } from 'node:util'
import { createRequire } from 'node:module'

const { EncryptionContext, Keyring } = createRequire(import.meta.url)('..')
const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 3 : 21
const SLICE_NS = quick ? 5e6 : 40e6

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]

/** Calls `f` repeatedly for about `SLICE_NS` and returns ns per call. */
function slice(f, batch) {
  let calls = 0
  const start = process.hrtime.bigint()
  let elapsed = 0
  while (elapsed < SLICE_NS) {
    for (let i = 0; i < batch; i++) f()
    calls += batch
    elapsed = Number(process.hrtime.bigint() - start)
  }
  return elapsed / calls
}

async function sliceAsync(f) {
  let calls = 0
  const start = process.hrtime.bigint()
  let elapsed = 0
  while (elapsed < SLICE_NS) {
    await f()
    calls++
    elapsed = Number(process.hrtime.bigint() - start)
  }
  return elapsed / calls
}

/** Interleaved rounds of `a` and `b`; per-call times and the median ratio b/a. */
async function pair(a, b, { batch = 1, async = false } = {}) {
  const run = (f) => (async ? sliceAsync(f) : slice(f, batch))
  await run(a)
  await run(b) // warm-up
  const ta = []
  const tb = []
  for (let r = 0; r < ROUNDS; r++) {
    ta.push(await run(a))
    tb.push(await run(b))
  }
  return { a: median(ta), b: median(tb), ratio: median(ta.map((x, i) => tb[i] / x)) }
}

const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`)
const rows = []
function row(name, r, target, what = ['Keyplane', 'node:crypto']) {
  rows.push({ name, a: fmt(r.a), b: fmt(r.b), ratio: r.ratio.toFixed(2), target, what })
  console.log(`${name.padEnd(44)} ${what[0]} ${fmt(r.a).padStart(10)}   ${what[1]} ${fmt(r.b).padStart(10)}   ratio ${r.ratio.toFixed(2)}${target ? ` (target ${target})` : ''}`)
}

const ring = new Keyring()
const { keyId } = ring.createKeySync({ alias: 'alias/bench' })
const aesKey = crypto.randomBytes(32)

// ----- AES-256-GCM encryption -------------------------------------------------------------
for (const [size, label, target] of [[64, '64 B', '≥ 5'], [1024, '1 KiB', null], [65536, '64 KiB', null], [1 << 20, '1 MiB', '≥ 3']]) {
  const plaintext = crypto.randomBytes(size)
  const batch = size >= 65536 ? 1 : 100
  const r = await pair(
    () => ring.encryptSync(keyId, plaintext),
    () => {
      const iv = crypto.randomBytes(12)
      const c = crypto.createCipheriv('aes-256-gcm', aesKey, iv)
      c.update(plaintext)
      c.final()
      c.getAuthTag()
    },
    { batch },
  )
  row(`encryptSync ${label} vs createCipheriv`, r, target)
}
{
  // The same 1 MiB into one reused output Buffer: no fresh output memory to fault in.
  const plaintext = crypto.randomBytes(1 << 20)
  const output = Buffer.alloc(ring.ciphertextLength(keyId, plaintext.length))
  const r = await pair(
    () => ring.encryptIntoSync(keyId, plaintext, output),
    () => {
      const iv = crypto.randomBytes(12)
      const c = crypto.createCipheriv('aes-256-gcm', aesKey, iv)
      c.update(plaintext)
      c.final()
      c.getAuthTag()
    },
  )
  row('encryptIntoSync 1 MiB (reused output) vs createCipheriv', r, null)
}
{
  const plaintext = crypto.randomBytes(64)
  const r = await pair(() => ring.encrypt(keyId, plaintext), async () => {
    const iv = crypto.randomBytes(12)
    const c = crypto.createCipheriv('aes-256-gcm', aesKey, iv)
    c.update(plaintext)
    c.final()
    c.getAuthTag()
  }, { async: true })
  row('encrypt (Promise, awaited) 64 B vs createCipheriv', r, null)
  // The libuv thread-pool round trip itself: node:crypto's own asynchronous randomFill.
  const randomFill = promisify(crypto.randomFill)
  const small = Buffer.alloc(16)
  const rt = await pair(() => ring.encrypt(keyId, plaintext), () => randomFill(small), { async: true })
  row('encrypt (Promise, awaited) 64 B vs randomFill (Promise) 16 B', rt, null, ['Keyplane', 'thread pool'])
}

// ----- encryption contexts -----------------------------------------------------------------
// A 2-pair context passed as a plain object (read on every call) or as a prebuilt
// EncryptionContext, beside node:crypto with the context as AAD: serialized (JSON) on every
// call for the plain object, serialized once for the prebuilt context.
{
  const pairs = { tenant: 'acme', purpose: 'billing' }
  const prebuilt = new EncryptionContext(pairs)
  const aadOnce = Buffer.from(JSON.stringify(pairs))
  const gcmEncrypt = (plaintext, aad) => {
    const iv = crypto.randomBytes(12)
    const c = crypto.createCipheriv('aes-256-gcm', aesKey, iv)
    c.setAAD(aad)
    const ct = Buffer.concat([c.update(plaintext), c.final()])
    return { iv, ct, tag: c.getAuthTag() }
  }
  const gcmDecrypt = ({ iv, ct, tag }, aad) => {
    const d = crypto.createDecipheriv('aes-256-gcm', aesKey, iv)
    d.setAAD(aad)
    d.setAuthTag(tag)
    d.update(ct)
    d.final()
  }
  {
    const plaintext = crypto.randomBytes(64)
    const none = await pair(() => ring.encryptSync(keyId, plaintext), () => ring.encryptSync(keyId, plaintext, pairs), { batch: 100 })
    row(`encryptSync 64 B, no context vs plain-object context (+${(none.b - none.a).toFixed(0)} ns)`, none, null, ['none', 'object'])
    const pre = await pair(() => ring.encryptSync(keyId, plaintext), () => ring.encryptSync(keyId, plaintext, prebuilt), { batch: 100 })
    row(`encryptSync 64 B, no context vs EncryptionContext (+${(pre.b - pre.a).toFixed(0)} ns)`, pre, null, ['none', 'prebuilt'])
  }
  for (const [size, label, targets] of [[64, '64 B', ['≥ 5', '≥ 6']], [4096, '4 KiB', [null, null]]]) {
    const plaintext = crypto.randomBytes(size)
    const blob = ring.encryptSync(keyId, plaintext, pairs)
    const sealed = gcmEncrypt(plaintext, aadOnce)
    const object = await pair(
      () => ring.encryptSync(keyId, plaintext, pairs),
      () => gcmEncrypt(plaintext, Buffer.from(JSON.stringify(pairs))),
      { batch: 100 },
    )
    row(`encryptSync ${label}, plain-object context vs createCipheriv+setAAD`, object, targets[0])
    const pre = await pair(() => ring.encryptSync(keyId, plaintext, prebuilt), () => gcmEncrypt(plaintext, aadOnce), { batch: 100 })
    row(`encryptSync ${label}, EncryptionContext vs createCipheriv+setAAD`, pre, targets[1])
    const dobject = await pair(
      () => ring.decryptSync(blob, pairs),
      () => gcmDecrypt(sealed, Buffer.from(JSON.stringify(pairs))),
      { batch: 100 },
    )
    row(`decryptSync ${label}, plain-object context vs createDecipheriv+setAAD`, dobject, null)
    const dpre = await pair(() => ring.decryptSync(blob, prebuilt), () => gcmDecrypt(sealed, aadOnce), { batch: 100 })
    row(`decryptSync ${label}, EncryptionContext vs createDecipheriv+setAAD`, dpre, null)
  }
}

// ----- ECDSA P-256 signing ----------------------------------------------------------------
{
  const ec = ring.createKeySync({ keySpec: 'ECC_NIST_P256' })
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const message = crypto.randomBytes(64)
  const r = await pair(
    () => ring.signSync(ec.keyId, message, 'ECDSA_SHA_256'),
    () => crypto.sign('sha256', message, privateKey),
    { batch: 10 },
  )
  row('signSync ECDSA P-256 vs crypto.sign', r, '≥ 1.0')
}

// ----- batch of 10,000 x 64 B ---------------------------------------------------------------
{
  const plaintext = crypto.randomBytes(64)
  const items = Array.from({ length: 10000 }, () => ({ keyId, plaintext }))
  const perCall = () => {
    for (let i = 0; i < items.length; i++) ring.encryptSync(items[i].keyId, items[i].plaintext)
  }
  const r = await pair(() => ring.encryptManySync(items), perCall)
  row('encryptManySync 10,000 x 64 B vs encryptSync loop', r, '≥ 3', ['batch', 'loop'])
  const plaintexts = items.map((it) => it.plaintext)
  const rk = await pair(() => ring.encryptManySync(keyId, plaintexts), perCall)
  row('encryptManySync(keyId, plaintexts) 10,000 x 64 B vs loop', rk, null, ['batch', 'loop'])
  const rows = Array.from({ length: 10000 }, () => crypto.randomBytes(64))
  const rd = await pair(() => ring.encryptManySync(keyId, rows), () => {
    for (let i = 0; i < rows.length; i++) ring.encryptSync(keyId, rows[i])
  })
  row('encryptManySync(keyId, 10,000 distinct 64 B) vs loop', rd, null, ['batch', 'loop'])
  const ra = await pair(() => ring.encryptMany(items), () => Promise.all(items.map((it) => ring.encrypt(it.keyId, it.plaintext))), { async: true })
  row('encryptMany 10,000 x 64 B vs Promise.all(encrypt)', ra, null, ['batch', 'Promise.all'])
}

console.log(`\n${quick ? 'quick' : 'full'} run, Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`)
console.log('\n| operation | Keyplane | alternative | ratio | target |\n|---|---|---|---|---|')
for (const r of rows) console.log(`| ${r.name} | ${r.a} | ${r.b} | ${r.ratio} | ${r.target ?? '—'} |`)
