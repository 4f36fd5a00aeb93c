'use strict'
// Batch forms: results in input order, a failed item's slot holds its Error, batch == one by one.
const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const { Keyring } = require('./helpers')

async function both(ring, name, items, check) {
  await check(await ring[name](items), 'async')
  await check(ring[`${name}Sync`](items), 'sync')
}

describe('batch forms', () => {
  const ring = new Keyring({ threads: 2, maxBatchItems: 5000 })
  before(() => {
    ring.createKeySync({ keyId: 'a' })
    ring.createKeySync({ keyId: 'b', alias: 'alias/b' })
    ring.createKeySync({ keyId: 'mac', keySpec: 'HMAC_256' })
    ring.createKeySync({ keyId: 'ec', keySpec: 'ECC_NIST_P256' })
  })

  it('encryptMany / decryptMany / reEncryptMany with a failed item in its slot', async () => {
    const shared = { tenant: 't' }
    const items = Array.from({ length: 300 }, (_, i) => ({
      keyId: i % 2 ? 'a' : 'alias/b',
      plaintext: Buffer.from(`item ${i}`),
      context: i % 3 ? shared : { n: String(i) },
    }))
    items[7] = { keyId: 'missing', plaintext: Buffer.from('x') }
    items[8] = { keyId: 'a', plaintext: Buffer.from('x'), context: { '': 'empty key' } }
    await both(ring, 'encryptMany', items, async (out) => {
      assert.equal(out.length, items.length)
      assert.ok(out[7] instanceof Error)
      assert.equal(out[7].code, 'KP_NOT_FOUND')
      assert.equal(out[8].code, 'KP_INVALID_INPUT')
      const back = await ring.decryptMany(out.map((blob, i) => ({ blob: blob instanceof Error ? Buffer.alloc(3) : blob, context: items[i].context })))
      back.forEach((p, i) => {
        if (i === 7) assert.equal(p.code, 'KP_INVALID_CIPHERTEXT')
        else if (i === 8) assert.equal(p.code, 'KP_INVALID_INPUT') // its context is refused
        else assert.equal(p.toString(), `item ${i}`, `item ${i}`)
      })
      const moved = ring.reEncryptManySync(out.slice(0, 5).map((blob, i) => ({ blob, sourceContext: items[i].context, destinationKeyId: 'a', destinationContext: { moved: 'yes' } })))
      moved.forEach((b, i) => assert.equal(ring.decryptSync(b, { moved: 'yes' }).toString(), `item ${i}`))
    })
  })

  it('batch equals one by one for MACs and verification', async () => {
    const msgs = Array.from({ length: 50 }, (_, i) => Buffer.from(`m${i}`))
    await both(ring, 'generateMacMany', msgs.map((message) => ({ keyId: 'mac', message, macAlgorithm: 'HMAC_SHA_256' })), (macs) => {
      macs.forEach((m, i) => assert.deepEqual(m, ring.generateMacSync('mac', msgs[i], 'HMAC_SHA_256')))
    })
    const macs = ring.generateMacManySync(msgs.map((message) => ({ keyId: 'mac', message, macAlgorithm: 'HMAC_SHA_256' })))
    const checks = msgs.map((message, i) => ({ keyId: 'mac', message, macAlgorithm: 'HMAC_SHA_256', mac: i === 3 ? macs[4] : macs[i] }))
    checks.push({ keyId: 'mac', message: msgs[0], macAlgorithm: 'HMAC_SHA_999', mac: macs[0] })
    await both(ring, 'verifyMacMany', checks, (ok) => {
      assert.deepEqual(ok.slice(0, 50), msgs.map((_, i) => i !== 3))
      assert.equal(ok[50].code, 'KP_INVALID_INPUT')
    })
  })

  it('signMany / verifyMany', async () => {
    const msgs = Array.from({ length: 20 }, (_, i) => Buffer.from(`s${i}`))
    await both(ring, 'signMany', msgs.map((message) => ({ keyId: 'ec', message, signingAlgorithm: 'ECDSA_SHA_256' })), async (sigs) => {
      const ok = await ring.verifyMany(msgs.map((message, i) => ({ keyId: 'ec', message, signingAlgorithm: 'ECDSA_SHA_256', signature: sigs[(i + (i === 0 ? 1 : 0)) % 20] })))
      assert.deepEqual(ok, msgs.map((_, i) => i !== 0))
    })
    const wrong = ring.signManySync([{ keyId: 'mac', message: msgs[0], signingAlgorithm: 'ECDSA_SHA_256' }])
    assert.equal(wrong[0].code, 'KP_INVALID_KEY_USAGE')
  })

  it('generateDataKeyMany / generateDataKeyWithoutPlaintextMany', async () => {
    const items = [{ keyId: 'a' }, { keyId: 'alias/b', keySpec: 'AES_128', context: { x: 'y' } }, { keyId: 'a', numberOfBytes: 7 }, { keyId: 'zzz' }]
    await both(ring, 'generateDataKeyMany', items, (dks) => {
      assert.deepEqual(dks.slice(0, 3).map((d) => d.plaintext.length), [32, 16, 7])
      assert.equal(dks[1].keyId, 'b')
      assert.deepEqual(ring.decryptSync(dks[1].ciphertextBlob, { x: 'y' }), dks[1].plaintext)
      assert.equal(dks[3].code, 'KP_NOT_FOUND')
    })
    await both(ring, 'generateDataKeyWithoutPlaintextMany', items, (blobs) => {
      assert.equal(ring.decryptSync(blobs[0]).length, 32)
      assert.equal(blobs[3].code, 'KP_NOT_FOUND')
    })
  })

  it('the same-key forms: encryptMany(keyId, plaintexts, context) and decryptMany(blobs, context)', async () => {
    const rows = Array.from({ length: 257 }, (_, i) => Buffer.from(`row ${i}`))
    rows[5] = rows[4] // the same Buffer twice in a row
    rows[9] = new Uint8Array(0)
    const context = { tenant: 'acme' }
    for (const mode of ['async', 'sync']) {
      const blobs = mode === 'async' ? await ring.encryptMany('alias/b', rows, context) : ring.encryptManySync('b', rows, context)
      assert.equal(blobs.length, rows.length)
      blobs.forEach((b, i) => assert.deepEqual(ring.decryptSync(b, context), Buffer.from(rows[i])))
      assert.notDeepEqual(blobs[4], blobs[5]) // fresh nonces
      const back = mode === 'async' ? await ring.decryptMany([...blobs, Buffer.from('junk')], context) : ring.decryptManySync([...blobs, Buffer.from('junk')], context)
      back.slice(0, -1).forEach((p, i) => assert.deepEqual(p, Buffer.from(rows[i])))
      assert.equal(back.at(-1).code, 'KP_INVALID_CIPHERTEXT')
      // Without a context the blobs form is chosen by its first element.
      const plain = ring.encryptManySync('a', rows.slice(0, 3))
      assert.deepEqual(ring.decryptManySync(plain), rows.slice(0, 3))
    }
    const failed = ring.encryptManySync('missing', rows.slice(0, 2))
    assert.deepEqual(failed.map((e) => e.code), ['KP_NOT_FOUND', 'KP_NOT_FOUND'])
    // One context for the whole call: a bad one fails the call.
    assert.throws(() => ring.encryptManySync('a', [Buffer.alloc(1)], { '': 'x' }), { code: 'KP_INVALID_INPUT' })
  })

  it('decryptMany gives every plaintext a buffer of its own, so .buffer shows no other item', async () => {
    const pts = Array.from({ length: 20 }, (_, i) => Buffer.from(`secret ${i}`))
    const blobs = ring.encryptManySync('a', pts)
    const forms = [
      ring.decryptManySync(blobs),
      await ring.decryptMany(blobs),
      ring.decryptManySync(blobs.map((blob) => ({ blob }))),
      await ring.decryptMany(blobs.map((blob) => ({ blob }))),
    ]
    for (const out of forms) {
      out.forEach((p, i) => {
        assert.deepEqual(p, pts[i])
        assert.equal(p.byteOffset, 0)
        assert.equal(p.buffer.byteLength, p.length, `item ${i} sees ${p.buffer.byteLength} bytes`)
      })
    }
    for (const dk of ring.generateDataKeyManySync([{ keyId: 'a' }, { keyId: 'a' }])) {
      assert.equal(dk.plaintext.buffer.byteLength, dk.plaintext.length)
    }
  })

  it('values shared by items that are not next to each other are read right', async () => {
    const ctxA = { t: 'a' }
    const ctxB = { t: 'b' }
    const p = Buffer.from('shared')
    const items = Array.from({ length: 40 }, (_, i) => ({
      keyId: ['a', 'alias/b', 'a', 'a'][i % 4],
      plaintext: i % 3 ? p : Buffer.from(`own ${i}`),
      context: i % 5 ? (i % 2 ? ctxA : ctxB) : undefined,
    }))
    const blobs = ring.encryptManySync(items)
    blobs.forEach((b, i) => {
      assert.deepEqual(ring.decryptSync(b, items[i].context), Buffer.from(items[i].plaintext), `item ${i}`)
    })
    const back = await ring.decryptMany(blobs.map((blob, i) => ({ blob, context: items[i].context })))
    back.forEach((x, i) => assert.deepEqual(x, Buffer.from(items[i].plaintext)))
  })

  it('getters run once per item and field, and their exceptions propagate unchanged', async () => {
    let reads = 0
    const item = { keyId: 'a', get plaintext() { reads++; return Buffer.from('x') } }
    ring.encryptManySync([item, item, item])
    assert.equal(reads, 3)
    const boom = new Error('getter')
    const bad = [{ keyId: 'a', plaintext: Buffer.alloc(1) }, { keyId: 'a', get plaintext() { throw boom } }]
    assert.throws(() => ring.encryptManySync(bad), (e) => e === boom)
    assert.throws(() => ring.encryptMany(bad), (e) => e === boom)
  })

  it('an empty batch, and one above maxBatchItems', async () => {
    assert.deepEqual(await ring.encryptMany([]), [])
    assert.deepEqual(ring.encryptManySync('a', []), [])
    assert.deepEqual(ring.decryptManySync([], {}), [])
    const tooMany = Array.from({ length: 5001 }, () => ({ keyId: 'a', plaintext: Buffer.alloc(1) }))
    assert.throws(() => ring.encryptManySync(tooMany), { code: 'KP_LIMIT_EXCEEDED' })
    await assert.rejects(ring.encryptMany(tooMany), { code: 'KP_LIMIT_EXCEEDED' })
  })
})
