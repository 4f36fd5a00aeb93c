'use strict'
// The audit trail: events to a callback on the JavaScript thread, withCaller, flushAudit,
// keyLastUsage, back pressure, a callback that throws, the file log and verifyAuditLog.
const { describe, it, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { Keyring, throwsCode, rejectsCode } = require('./helpers')
const { verifyAuditLog, verifyAuditLogSync } = require('..')

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'keyplane-audit-test-'))
after(() => fs.rmSync(scratch, { recursive: true, force: true }))
let n = 0
const freshDir = () => path.join(scratch, `log-${n++}`)
const addon = JSON.stringify(path.join(__dirname, '..'))

function audited(options = {}) {
  const events = []
  const ring = new Keyring({ audit: { callback: (e) => events.push(e), ...options } })
  return { ring, events }
}

describe('audit events to a callback', () => {
  it('one event per operation, in order, on the JavaScript thread (flushAudit and flushAuditSync)', async () => {
    const { ring, events } = audited()
    ring.createKeySync({ keyId: 'k', alias: 'alias/k' })
    const blob = await ring.encrypt('alias/k', Buffer.from('secret'), { tenant: 'acme' })
    assert.throws(() => ring.decryptSync(blob, { tenant: 'other' }), { code: 'KP_INVALID_CIPHERTEXT' })
    await ring.flushAudit()
    // Each thread's events arrive in the order they happened; the awaited encrypt ran on a
    // libuv thread, so only the JavaScript thread's CreateKey and Decrypt have an order.
    assert.deepEqual(events.map((e) => e.operation).sort(), ['CreateKey', 'Decrypt', 'Encrypt'])
    const byOperation = (op) => events.find((e) => e.operation === op)
    const [created, encrypted, failed] = ['CreateKey', 'Encrypt', 'Decrypt'].map(byOperation)
    assert.ok(created.sequence < failed.sequence)
    assert.deepEqual(Object.keys(encrypted).sort(), ['caller', 'context', 'errorCode', 'keyId', 'keyVersion', 'operation', 'requestId', 'sequence', 'time'])
    assert.deepEqual(events.map((e) => e.sequence), [1, 2, 3]) // numbered as delivered
    assert.ok(encrypted.time instanceof Date && Math.abs(encrypted.time - Date.now()) < 60e3)
    assert.equal(typeof encrypted.requestId, 'string')
    assert.equal(encrypted.keyId, 'k') // the id, not the alias
    assert.equal(encrypted.keyVersion, 1)
    assert.equal(created.keyVersion, null)
    assert.equal(encrypted.caller, null)
    assert.deepEqual(encrypted.context, { tenant: 'acme' })
    assert.equal(encrypted.errorCode, null)
    assert.equal(failed.errorCode, 'KP_INVALID_CIPHERTEXT')
    assert.deepEqual(failed.context, { tenant: 'other' })

    // The sync form: the callback has run for everything before it returns.
    ring.generateRandomSync(8)
    ring.flushAuditSync()
    assert.equal(events.at(-1).operation, 'GenerateRandom')
    assert.equal(ring.auditFailures, 0)
    assert.equal(ring.auditDropped, 0)
  })

  it('a failed sync encrypt or decrypt is recorded like its Promise form (unknown key, malformed blob)', async () => {
    const { ring, events } = audited()
    ring.createKeySync({ keyId: 'k' })
    for (const sync of [true, false]) {
      const call = (name, ...args) => (sync ? ring[`${name}Sync`](...args) : ring[name](...args))
      for (const [name, args, code] of [
        ['encrypt', ['missing', Buffer.from('x')], 'KP_NOT_FOUND'],
        ['encrypt', ['alias/missing', Buffer.from('x')], 'KP_NOT_FOUND'],
        ['decrypt', [Buffer.from('not a blob')], 'KP_INVALID_CIPHERTEXT'],
        ['decrypt', [Buffer.alloc(0)], 'KP_INVALID_CIPHERTEXT'],
      ]) {
        await assert.rejects(async () => call(name, ...args), { code })
      }
    }
    await ring.flushAudit()
    const failed = events.filter((e) => e.errorCode !== null).map((e) => `${e.operation} ${e.errorCode}`)
    const once = ['Encrypt KP_NOT_FOUND', 'Encrypt KP_NOT_FOUND', 'Decrypt KP_INVALID_CIPHERTEXT', 'Decrypt KP_INVALID_CIPHERTEXT']
    assert.deepEqual(failed.sort(), [...once, ...once].sort())
  })

  it('events arrive by themselves when the loop is free, and never carry secrets', async () => {
    const { ring, events } = audited()
    ring.createKeySync({ keyId: 'k' })
    const plaintext = Buffer.from('the plaintext 0123456789')
    const blob = ring.encryptSync('k', plaintext, { tenant: 'acme' })
    const dk = ring.generateDataKeySync('k')
    ring.decryptSync(dk.ciphertextBlob)
    assert.throws(() => ring.generateMacSync('k', plaintext, 'HMAC_SHA_256'), { code: 'KP_INVALID_KEY_USAGE' })
    // Waits for the events, not for a time: bounded at 30 s for a loaded machine.
    for (let i = 0; i < 6000 && events.length < 5; i++) await new Promise((r) => setTimeout(r, 5))
    assert.equal(events.length, 5)
    const text = JSON.stringify(events)
    for (const secret of [plaintext, blob, dk.plaintext, dk.ciphertextBlob]) {
      for (const encoding of ['hex', 'base64', 'latin1']) assert.ok(!text.includes(secret.toString(encoding)), encoding)
    }
  })

  it('withCaller: same keys, attributed events', async () => {
    const { ring, events } = audited()
    const billing = ring.withCaller('billing')
    assert.ok(billing instanceof Keyring)
    assert.equal(billing.caller, 'billing')
    assert.equal(ring.caller, null)
    billing.createKeySync({ keyId: 'inv' })
    ring.encryptSync('inv', Buffer.from('x'))
    await billing.flushAudit()
    assert.deepEqual(events.map((e) => [e.operation, e.caller]), [['CreateKey', 'billing'], ['Encrypt', null]])
    throwsCode(() => ring.withCaller(7), 'ERR_INVALID_ARG_TYPE', 'TypeError')
  })

  it('context logging: keysOnly and none', async () => {
    for (const [context, expected] of [['keysOnly', { tenant: '' }], ['none', {}]]) {
      const { ring, events } = audited({ context })
      ring.createKeySync({ keyId: 'k' })
      ring.encryptSync('k', Buffer.from('x'), { tenant: 'acme' })
      ring.flushAuditSync()
      assert.deepEqual(events[1].context, expected)
    }
  })

  it('keyLastUsage, async and sync', async () => {
    const { ring } = audited()
    ring.createKeySync({ keyId: 'k', alias: 'alias/k' })
    for (let i = 0; i < 3; i++) ring.encryptSync('k', Buffer.from('x'))
    await ring.flushAudit()
    for (const usage of [await ring.keyLastUsage('alias/k'), ring.keyLastUsageSync('k')]) {
      assert.ok(usage.lastUsed instanceof Date)
      assert.equal(usage.lastOperation, 'Encrypt')
      assert.deepEqual(usage.counts, { CreateKey: 1, Encrypt: 3 })
    }
    ring.createKeySync({ keyId: 'unused' })
    // Not flushed yet: the writer may not have seen it.
    const fresh = ring.keyLastUsageSync('unused')
    assert.ok(fresh.lastUsed === null || fresh.lastOperation === 'CreateKey')
    throwsCode(() => ring.keyLastUsageSync('missing'), 'KP_NOT_FOUND')
    throwsCode(() => new Keyring().keyLastUsageSync('k'), 'KP_INVALID_INPUT')
    await rejectsCode(new Keyring().keyLastUsage('k'), 'KP_INVALID_INPUT')
  })

  it('a busy event loop: events wait, in order, and are all delivered by flushAudit', async () => {
    const { ring, events } = audited()
    ring.createKeySync({ keyId: 'k' })
    const pt = Buffer.alloc(16)
    for (let i = 0; i < 20000; i++) ring.encryptSync('k', pt)
    assert.ok(events.length < 20001) // the loop has not yielded: nothing can have run yet
    await ring.flushAudit()
    assert.equal(events.length, 20001)
    assert.ok(events.every((e, i) => e.sequence === i + 1))
  })

  it("backPressure 'drop' bounds what waits and counts the rest in auditDropped", async () => {
    const { ring, events } = audited({ backPressure: 'drop', queueCapacity: 8 })
    ring.createKeySync({ keyId: 'k' })
    for (let i = 0; i < 2000; i++) ring.encryptSync('k', Buffer.alloc(1))
    await ring.flushAudit()
    assert.ok(ring.auditDropped > 0)
    assert.equal(events.length + ring.auditDropped, 2001)
  })

  it('a callback that throws or rejects is a warning and an auditFailure; the process carries on', async () => {
    const warnings = []
    const onWarning = (w) => warnings.push(w)
    process.on('warning', onWarning)
    try {
      const seen = []
      const ring = new Keyring({
        audit: {
          callback: (e) => {
            seen.push(e.operation)
            if (e.operation === 'Encrypt') throw new Error('callback bug')
            if (e.operation === 'Decrypt') return Promise.reject(new Error('async callback bug'))
            if (e.operation === 'GenerateRandom') throw 'not an Error' // eslint-disable-line no-throw-literal
          },
        },
      })
      ring.createKeySync({ keyId: 'k' })
      const blob = ring.encryptSync('k', Buffer.from('x'))
      ring.decryptSync(blob)
      ring.generateRandomSync(4)
      ring.describeKeySync('k')
      await ring.flushAudit()
      await new Promise((r) => setImmediate(r))
      await new Promise((r) => setImmediate(r))
      assert.deepEqual(seen, ['CreateKey', 'Encrypt', 'Decrypt', 'GenerateRandom', 'DescribeKey'])
      assert.equal(ring.auditFailures, 3)
      const ours = warnings.filter((w) => w.name === 'KeyplaneAuditWarning')
      assert.equal(ours.length, 3)
      assert.match(ours.map((w) => w.detail).join('\n'), /callback bug/)
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('a callback may use the keyring, flush included, without deadlock', async () => {
    const events = []
    let ring
    ring = new Keyring({
      audit: {
        callback: (e) => {
          events.push(e.operation)
          if (e.operation === 'Encrypt') {
            ring.describeKeySync('k')
            ring.flushAuditSync()
          }
        },
      },
    })
    ring.createKeySync({ keyId: 'k' })
    ring.encryptSync('k', Buffer.from('x'))
    await ring.flushAudit()
    assert.deepEqual(events, ['CreateKey', 'Encrypt', 'DescribeKey'])
  })

  it('a pending delivery does not keep the process alive, and a throwing callback does not crash it', () => {
    const out = execFileSync(process.execPath, ['-e', `
      const { Keyring } = require(${addon})
      const ring = new Keyring({ audit: { callback: () => { throw new Error('boom') } } })
      ring.createKeySync({ keyId: 'k' })
      for (let i = 0; i < 1000; i++) ring.encryptSync('k', Buffer.alloc(1))
      // Report once every delivery has run (bounded at 15 s), then let the process end by itself.
      const started = Date.now()
      const poll = setInterval(() => {
        if (ring.auditFailures >= 1000 || Date.now() - started > 15000) {
          clearInterval(poll)
          console.log('failures', ring.auditFailures)
        }
      }, 5)
    `], { encoding: 'utf8', timeout: 20000, stdio: ['ignore', 'pipe', 'ignore'] })
    assert.match(out, /failures 100\d/)
  })

  it('bad options', () => {
    const cases = [
      [{ audit: 'yes' }, 'ERR_INVALID_ARG_TYPE'],
      [{ audit: {} }, 'KP_INVALID_INPUT'],
      [{ audit: { callback: 'log' } }, 'ERR_INVALID_ARG_TYPE'],
      [{ audit: { callback() {}, logDir: freshDir(), auditKey: Buffer.alloc(32) } }, 'KP_INVALID_INPUT'],
      [{ audit: { callback() {}, auditKey: Buffer.alloc(32) } }, 'KP_INVALID_INPUT'],
      [{ audit: { callback() {}, maxFileBytes: 10 } }, 'KP_INVALID_INPUT'],
      [{ audit: { logDir: freshDir() } }, 'KP_INVALID_INPUT'],
      [{ audit: { logDir: freshDir(), auditKey: Buffer.alloc(31) } }, 'KP_INVALID_INPUT'],
      [{ audit: { logDir: freshDir(), auditKey: 'k'.repeat(32) } }, 'ERR_INVALID_ARG_TYPE'],
      [{ audit: { callback() {}, context: 'some' } }, 'KP_INVALID_INPUT'],
      [{ audit: { callback() {}, backPressure: 'wait' } }, 'KP_INVALID_INPUT'],
      [{ audit: { callback() {}, queueCapacity: 0 } }, 'ERR_OUT_OF_RANGE'],
      [{ audit: { logDir: freshDir(), auditKey: Buffer.alloc(32), checkpointEvery: -1 } }, 'ERR_OUT_OF_RANGE'],
    ]
    for (const [options, code] of cases) {
      assert.throws(() => new Keyring(options), (e) => e.code === code, JSON.stringify(options))
    }
  })
})

describe('the file log and verifyAuditLog', () => {
  const key = crypto.randomBytes(32)

  /** A log written by a child process that exits (which closes the log). */
  function childLog(dir, body) {
    execFileSync(process.execPath, ['-e', `
      const { Keyring } = require(${addon})
      const ring = new Keyring({ audit: { logDir: ${JSON.stringify(dir)}, auditKey: Buffer.from(${JSON.stringify(key.toString('hex'))}, 'hex'), checkpointEvery: 3 } })
      ${body}`], { timeout: 20000 })
  }

  it('a log closed at exit verifies, async and sync, from the directory, a file or a list', async () => {
    const dir = freshDir()
    childLog(dir, `
      const billing = ring.withCaller('billing')
      billing.createKeySync({ keyId: 'k' })
      for (let i = 0; i < 5; i++) billing.encryptSync('k', Buffer.from('row ' + i), { tenant: 'acme' })`)
    const file = path.join(dir, 'audit-000001.jsonl')
    for (const report of [await verifyAuditLog(dir, key), verifyAuditLogSync(file, key), verifyAuditLogSync([file], key)]) {
      assert.equal(report.records, 6)
      assert.equal(report.closed, true)
      assert.equal(report.incompleteTail, false)
      assert.equal(report.lastCheckpoint.file, file)
      assert.ok(report.lastCheckpoint.time instanceof Date)
      assert.deepEqual(report.endsAt, { file, line: report.lastCheckpoint.line })
      assert.match(report.summary, /^intact, 6 records/)
    }
    const text = fs.readFileSync(file, 'utf8')
    assert.ok(!text.includes('row '))
    assert.match(text, /"caller":"billing"/)
  })

  it('a tampered line is found, with its file and line', async () => {
    const dir = freshDir()
    childLog(dir, `
      ring.createKeySync({ keyId: 'k' })
      for (let i = 0; i < 4; i++) ring.encryptSync('k', Buffer.from('x'))`)
    const file = path.join(dir, 'audit-000001.jsonl')
    const lines = fs.readFileSync(file, 'utf8').split('\n')
    assert.match(lines[1], /"operation":"Encrypt"/)
    lines[1] = lines[1].replace('"operation":"Encrypt"', '"operation":"Decrypt"')
    fs.writeFileSync(file, lines.join('\n'))
    const broken = (e) => {
      assert.equal(e.code, 'KP_AUDIT_LOG_BROKEN')
      assert.ok(e instanceof Error)
      assert.equal(e.file, file)
      assert.equal(e.line, 3) // the line after the edit no longer chains to it
      assert.match(e.reason, /chain broken/)
      assert.equal(e.message, `${file}:3: ${e.reason}`)
      return true
    }
    assert.throws(() => verifyAuditLogSync(dir, key), broken)
    await assert.rejects(verifyAuditLog(dir, key), broken)
    // A deleted line, and the wrong key.
    const dir2 = freshDir()
    childLog(dir2, `ring.createKeySync(); ring.createKeySync(); ring.createKeySync(); ring.createKeySync()`)
    const file2 = path.join(dir2, 'audit-000001.jsonl')
    assert.throws(() => verifyAuditLogSync(dir2, crypto.randomBytes(32)), (e) => e.code === 'KP_AUDIT_LOG_BROKEN' && /MAC/.test(e.reason))
    const kept = fs.readFileSync(file2, 'utf8').split('\n')
    kept.splice(1, 1)
    fs.writeFileSync(file2, kept.join('\n'))
    assert.throws(() => verifyAuditLogSync(file2, key), (e) => e.code === 'KP_AUDIT_LOG_BROKEN' && e.line === 2)
  })

  it('an open log (flushed, not closed) verifies as not closed; a used directory is refused', () => {
    const dir = freshDir()
    const ring = new Keyring({ audit: { logDir: dir, auditKey: key } })
    ring.createKeySync()
    ring.flushAuditSync()
    const report = verifyAuditLogSync(dir, key)
    assert.equal(report.records, 1)
    assert.equal(report.closed, false)
    assert.equal(report.lastCheckpoint, null)
    throwsCode(() => new Keyring({ audit: { logDir: dir, auditKey: key } }), 'KP_STORAGE')
  })

  it('bad arguments', async () => {
    throwsCode(() => verifyAuditLogSync(freshDir(), Buffer.alloc(5)), 'KP_INVALID_INPUT')
    throwsCode(() => verifyAuditLogSync(42, key), 'ERR_INVALID_ARG_TYPE', 'TypeError')
    throwsCode(() => verifyAuditLogSync([42], key), 'ERR_INVALID_ARG_TYPE', 'TypeError')
    await rejectsCode(verifyAuditLog(freshDir(), 'key'), 'ERR_INVALID_ARG_TYPE', 'TypeError')
    // A file that does not exist is a broken link at line 0.
    assert.throws(() => verifyAuditLogSync([path.join(scratch, 'missing.jsonl')], key), (e) => e.code === 'KP_AUDIT_LOG_BROKEN' && e.line === 0)
  })
})
