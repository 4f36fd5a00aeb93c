'use strict'
// Every operation's happy path, through both its Promise form and its `…Sync` twin.
const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const { Keyring } = require('./helpers')

/** Runs `check` on the result of `ring[name](...args)` (awaited) and of `ring[name + 'Sync']`. */
async function both(ring, name, args, check) {
  const promise = ring[name](...args())
  assert.ok(promise instanceof Promise, `${name} returns a Promise`)
  await check(await promise, 'async')
  await check(ring[`${name}Sync`](...args()), 'sync')
}

describe('Keyring operations, async and sync', () => {
  const ring = new Keyring()
  let sym, hmac, ec, rsaSign, rsaOaep

  before(() => {
    sym = ring.createKeySync({ keyId: 'sym', alias: 'alias/sym', description: 'test key' })
    hmac = ring.createKeySync({ keySpec: 'HMAC_256', keyId: 'hmac' })
    ec = ring.createKeySync({ keySpec: 'ECC_NIST_P256', keyId: 'ec' })
    rsaSign = ring.createKeySync({ keySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY', keyId: 'rsa-sign' })
    rsaOaep = ring.createKeySync({ keySpec: 'RSA_2048', keyUsage: 'ENCRYPT_DECRYPT', keyId: 'rsa-oaep' })
  })

  it('createKey returns plain metadata', async () => {
    let n = 0
    await both(ring, 'createKey', () => [{ keySpec: 'SYMMETRIC_DEFAULT', keyId: `made-${n++}`, rotateOnBudget: false }], (m) => {
      assert.match(m.keyId, /^made-\d$/)
      assert.equal(m.keySpec, 'SYMMETRIC_DEFAULT')
      assert.equal(m.keyUsage, 'ENCRYPT_DECRYPT')
      assert.equal(m.keyState, 'Enabled')
      assert.equal(m.origin, 'KEYPLANE')
      assert.ok(m.creationDate instanceof Date)
      assert.equal(m.rotateOnBudget, false)
      assert.deepEqual(m.encryptionAlgorithms, ['SYMMETRIC_DEFAULT'])
      assert.equal(m.currentVersion, 1)
      assert.equal(m.versions.length, 1)
      assert.equal(Object.getPrototypeOf(m), Object.prototype)
    })
    const generated = await ring.createKey()
    assert.match(generated.keyId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    const rotating = ring.createKeySync({ rotationPeriod: { days: 90 } })
    assert.equal(rotating.rotationPeriodSeconds, 90 * 86400)
    assert.ok(rotating.nextRotationDate instanceof Date)
  })

  it('describeKey and listKeys', async () => {
    await both(ring, 'describeKey', () => ['alias/sym'], (m) => {
      assert.equal(m.keyId, 'sym')
      assert.equal(m.description, 'test key')
      assert.deepEqual(m.aliases, ['alias/sym'])
    })
    await both(ring, 'listKeys', () => [], (ids) => {
      assert.ok(Array.isArray(ids))
      for (const id of ['sym', 'hmac', 'ec', 'rsa-sign', 'rsa-oaep']) assert.ok(ids.includes(id))
      assert.deepEqual([...ids].sort(), ids)
    })
  })

  it('disableKey / enableKey', async () => {
    const k = ring.createKeySync({ keyId: 'state' })
    for (const mode of ['async', 'sync']) {
      const call = (name, ...a) => (mode === 'async' ? ring[name](...a) : ring[`${name}Sync`](...a))
      assert.equal(await call('disableKey', k.keyId), undefined)
      assert.equal(ring.describeKeySync(k.keyId).keyState, 'Disabled')
      assert.equal(await call('enableKey', k.keyId), undefined)
      assert.equal(ring.describeKeySync(k.keyId).keyState, 'Enabled')
    }
  })

  it('scheduleKeyDeletion / cancelKeyDeletion', async () => {
    ring.createKeySync({ keyId: 'doomed' })
    for (const mode of ['async', 'sync']) {
      const call = (name, ...a) => (mode === 'async' ? ring[name](...a) : ring[`${name}Sync`](...a))
      const date = await call('scheduleKeyDeletion', 'doomed', { days: 7 })
      assert.ok(date instanceof Date)
      const days = (date.getTime() - Date.now()) / 86400e3
      assert.ok(days > 6.9 && days <= 7.01, `about 7 days, got ${days}`)
      assert.equal(ring.describeKeySync('doomed').keyState, 'PendingDeletion')
      await call('cancelKeyDeletion', 'doomed')
      assert.equal(ring.describeKeySync('doomed').keyState, 'Disabled')
    }
    // A zero window deletes at the next look-up.
    ring.scheduleKeyDeletionSync('doomed', { seconds: 0 })
    assert.ok(!ring.listKeysSync().includes('doomed'))
  })

  it('createAlias / updateAlias / deleteAlias / listAliases', async () => {
    for (const mode of ['async', 'sync']) {
      const call = (name, ...a) => (mode === 'async' ? ring[name](...a) : ring[`${name}Sync`](...a))
      await call('createAlias', `alias/${mode}`, 'sym')
      assert.deepEqual(
        (await call('listAliases')).find((a) => a.aliasName === `alias/${mode}`),
        { aliasName: `alias/${mode}`, targetKeyId: 'sym' },
      )
      await call('updateAlias', `alias/${mode}`, 'hmac')
      assert.equal(ring.describeKeySync(`alias/${mode}`).keyId, 'hmac')
      await call('deleteAlias', `alias/${mode}`)
      assert.ok(!(await call('listAliases')).some((a) => a.aliasName === `alias/${mode}`))
    }
  })

  it('rotation: rotateKey, enable/disableKeyRotation, setMinDecryptionVersion, setRotateOnBudget', async () => {
    const k = ring.createKeySync({ keyId: 'rot' })
    const old = ring.encryptSync('rot', Buffer.from('v1'))
    await both(ring, 'rotateKey', () => ['rot'], (v) => assert.ok(v === 2 || v === 3))
    assert.equal(ring.describeKeySync('rot').currentVersion, 3)
    assert.deepEqual(ring.decryptSync(old), Buffer.from('v1'))
    await both(ring, 'enableKeyRotation', () => ['rot', { days: 100 }], (r) => assert.equal(r, undefined))
    assert.equal(ring.describeKeySync('rot').rotationPeriodSeconds, 100 * 86400)
    await both(ring, 'disableKeyRotation', () => ['rot'], (r) => assert.equal(r, undefined))
    assert.equal(ring.describeKeySync('rot').rotationPeriodSeconds, undefined)
    await both(ring, 'setMinDecryptionVersion', () => ['rot', 2], (r) => assert.equal(r, undefined))
    assert.throws(() => ring.decryptSync(old), { code: 'KP_VERSION_RETIRED' })
    await both(ring, 'setRotateOnBudget', () => [k.keyId, false], (r) => assert.equal(r, undefined))
    assert.equal(ring.describeKeySync('rot').rotateOnBudget, false)
  })

  it('a key rotates by itself at its encryption budget, or refuses', () => {
    const small = new Keyring({ encryptionBudget: 2 })
    small.createKeySync({ keyId: 'b' })
    for (let i = 0; i < 3; i++) small.encryptSync('b', Buffer.from('x'))
    assert.equal(small.describeKeySync('b').currentVersion, 2)
    small.setRotateOnBudgetSync('b', false)
    small.encryptSync('b', Buffer.from('x'))
    assert.throws(() => small.encryptSync('b', Buffer.from('x')), { code: 'KP_LIMIT_EXCEEDED' })
  })

  it('encrypt / decrypt with and without a context', async () => {
    const plaintext = Buffer.from('card 4111')
    const context = { tenant: 'acme', table: 'orders' }
    await both(ring, 'encrypt', () => ['alias/sym', plaintext, context], async (blob) => {
      assert.ok(Buffer.isBuffer(blob))
      assert.equal(blob.length, 2 + 3 + 4 + 12 + plaintext.length + 16)
      assert.deepEqual(await ring.decrypt(blob, { table: 'orders', tenant: 'acme' }), plaintext)
      assert.deepEqual(ring.decryptSync(blob, context), plaintext)
    })
    const blob = ring.encryptSync('sym', new Uint8Array([1, 2, 3]))
    await both(ring, 'decrypt', () => [blob], (p) => {
      assert.ok(Buffer.isBuffer(p))
      assert.deepEqual([...p], [1, 2, 3])
    })
    // null means no context; an empty plaintext is fine; a Uint8Array view at an offset works.
    assert.equal(ring.decryptSync(ring.encryptSync('sym', Buffer.alloc(0), null), null).length, 0)
    const backing = new Uint8Array(100).map((_, i) => i)
    const view = backing.subarray(10, 20)
    assert.deepEqual([...ring.decryptSync(ring.encryptSync('sym', view))], [...view])
    // Large inputs go through both paths.
    const big = Buffer.alloc(1 << 20, 7)
    assert.ok(ring.decryptSync(await ring.encrypt('sym', big)).equals(big))
  })

  it('encryptIntoSync / decryptIntoSync and the size helpers', () => {
    const plaintext = Buffer.from('into a buffer of my own')
    const n = ring.ciphertextLength('alias/sym', plaintext.length)
    assert.equal(n, ring.encryptSync('sym', plaintext).length)
    const out = Buffer.alloc(n + 10, 0xee)
    assert.equal(ring.encryptIntoSync('alias/sym', plaintext, out, { a: 'b' }), n)
    assert.ok(out.subarray(n).every((x) => x === 0xee)) // only the blob's bytes are written
    const blob = out.subarray(0, n)
    assert.equal(ring.plaintextLength(blob), plaintext.length)
    const back = new Uint8Array(plaintext.length)
    assert.equal(ring.decryptIntoSync(blob, back, { a: 'b' }), plaintext.length)
    assert.deepEqual(Buffer.from(back), plaintext)
    // In place: the output overlaps the input.
    const buf = Buffer.alloc(ring.ciphertextLength('sym', 5))
    buf.write('hello')
    const m = ring.encryptIntoSync('sym', buf.subarray(0, 5), buf)
    assert.equal(ring.decryptSync(buf.subarray(0, m)).toString(), 'hello')
    const k = ring.decryptIntoSync(buf.subarray(0, m), buf.subarray(m - 5))
    assert.equal(buf.subarray(m - 5, m - 5 + k).toString(), 'hello')
    // Too small: the needed size is on the error; a failed decrypt leaves the output zeroed.
    assert.throws(() => ring.encryptIntoSync('sym', plaintext, Buffer.alloc(n - 1)), (e) => e.code === 'KP_BUFFER_TOO_SMALL' && e.needed === n)
    assert.throws(() => ring.decryptIntoSync(blob, Buffer.alloc(3), { a: 'b' }), (e) => e.code === 'KP_BUFFER_TOO_SMALL' && e.needed === plaintext.length)
    const dirty = Buffer.alloc(64, 1)
    assert.throws(() => ring.decryptIntoSync(blob, dirty, { a: 'other' }), { code: 'KP_INVALID_CIPHERTEXT' })
    assert.ok(dirty.every((x) => x === 0))
    assert.throws(() => ring.plaintextLength(Buffer.from('xx')), { code: 'KP_INVALID_CIPHERTEXT' })
    assert.throws(() => ring.ciphertextLength('missing', 1), { code: 'KP_NOT_FOUND' })
    assert.throws(() => ring.ciphertextLength('sym', -1), { code: 'ERR_OUT_OF_RANGE' })
    assert.throws(() => ring.encryptIntoSync('sym', plaintext, 'out'), { code: 'ERR_INVALID_ARG_TYPE', message: /output must be a Buffer or Uint8Array/ })
    assert.throws(() => ring.decryptIntoSync(blob, new Uint16Array(64)), { code: 'ERR_INVALID_ARG_TYPE' })
  })

  it('many small ciphertexts stay independent (pooled Buffers)', () => {
    const blobs = []
    for (let i = 0; i < 2000; i++) blobs.push([i, ring.encryptSync('sym', Buffer.from(`message ${i}`))])
    for (const [i, b] of blobs) assert.equal(ring.decryptSync(b).toString(), `message ${i}`)
  })

  it('reEncrypt', async () => {
    const blob = ring.encryptSync('sym', Buffer.from('move me'), { a: '1' })
    ring.createKeySync({ keyId: 'sym2' })
    await both(ring, 'reEncrypt', () => [blob, 'sym2', { sourceContext: { a: '1' }, destinationContext: { b: '2' } }], (nb) => {
      assert.deepEqual(ring.decryptSync(nb, { b: '2' }), Buffer.from('move me'))
    })
  })

  it('generateDataKey / generateDataKeyWithoutPlaintext', async () => {
    await both(ring, 'generateDataKey', () => ['alias/sym', { context: { p: 'q' } }], (dk) => {
      assert.equal(dk.keyId, 'sym')
      assert.equal(dk.plaintext.length, 32)
      assert.deepEqual(ring.decryptSync(dk.ciphertextBlob, { p: 'q' }), dk.plaintext)
    })
    await both(ring, 'generateDataKey', () => ['sym', { keySpec: 'AES_128' }], (dk) => assert.equal(dk.plaintext.length, 16))
    await both(ring, 'generateDataKey', () => ['sym', { numberOfBytes: 100 }], (dk) => assert.equal(dk.plaintext.length, 100))
    await both(ring, 'generateDataKeyWithoutPlaintext', () => ['sym'], (blob) => {
      assert.equal(ring.decryptSync(blob).length, 32)
    })
  })

  it('generateDataKeyPair / generateDataKeyPairWithoutPlaintext', async () => {
    await both(ring, 'generateDataKeyPair', () => ['sym', 'ECC_NIST_P256', { k: 'v' }], (p) => {
      assert.equal(p.keyId, 'sym')
      assert.equal(p.keyPairSpec, 'ECC_NIST_P256')
      assert.equal(p.publicKey.length, 91)
      assert.deepEqual(ring.decryptSync(p.privateKeyCiphertextBlob, { k: 'v' }), p.privateKeyPlaintext)
    })
    await both(ring, 'generateDataKeyPairWithoutPlaintext', () => ['sym', 'ECC_NIST_P384'], (p) => {
      assert.equal(p.keyPairSpec, 'ECC_NIST_P384')
      assert.equal(p.privateKeyPlaintext, undefined)
      assert.ok(ring.decryptSync(p.privateKeyCiphertextBlob).length > 100)
    })
  })

  it('generateRandom', async () => {
    await both(ring, 'generateRandom', () => [48], (b) => {
      assert.equal(b.length, 48)
      assert.ok(b.some((x) => x !== 0))
    })
  })

  it('generateMac / verifyMac', async () => {
    const msg = Buffer.from('session=42')
    await both(ring, 'generateMac', () => ['hmac', msg, 'HMAC_SHA_256'], async (mac) => {
      assert.equal(mac.length, 32)
      assert.equal(await ring.verifyMac('hmac', msg, 'HMAC_SHA_256', mac), true)
    })
    const mac = ring.generateMacSync('hmac', msg, 'HMAC_SHA_256')
    await both(ring, 'verifyMac', () => ['hmac', msg, 'HMAC_SHA_256', mac], (ok) => assert.equal(ok, true))
    const bad = Buffer.from(mac)
    bad[0] ^= 1
    await both(ring, 'verifyMac', () => ['hmac', msg, 'HMAC_SHA_256', bad], (ok) => assert.equal(ok, false))
    await both(ring, 'verifyMac', () => ['hmac', msg, 'HMAC_SHA_256', bad.subarray(0, 5)], (ok) => assert.equal(ok, false))
  })

  it('sign / verify (ECDSA and RSA, raw and digest)', async () => {
    const msg = Buffer.from('release v1.2')
    for (const [key, alg] of [['ec', 'ECDSA_SHA_256'], ['rsa-sign', 'RSASSA_PSS_SHA_256'], ['rsa-sign', 'RSASSA_PKCS1_V1_5_SHA_256']]) {
      await both(ring, 'sign', () => [key, msg, alg], async (sig) => {
        assert.equal(await ring.verify(key, msg, alg, sig), true)
        assert.equal(ring.verifySync(key, Buffer.from('other'), alg, sig), false)
      })
    }
    const digest = require('node:crypto').createHash('sha256').update(msg).digest()
    const sig = ring.signSync('ec', digest, 'ECDSA_SHA_256', 'DIGEST')
    await both(ring, 'verify', () => ['ec', msg, 'ECDSA_SHA_256', sig], (ok) => assert.equal(ok, true))
    await both(ring, 'verify', () => ['ec', digest, 'ECDSA_SHA_256', sig, 'DIGEST'], (ok) => assert.equal(ok, true))
    await both(ring, 'verify', () => ['ec', msg, 'ECDSA_SHA_256', Buffer.from('garbage')], (ok) => assert.equal(ok, false))
  })

  it('getPublicKey', async () => {
    await both(ring, 'getPublicKey', () => ['ec'], (pk) => {
      assert.equal(pk.keyId, 'ec')
      assert.equal(pk.keySpec, 'ECC_NIST_P256')
      assert.equal(pk.keyUsage, 'SIGN_VERIFY')
      assert.deepEqual(pk.signingAlgorithms, ['ECDSA_SHA_256'])
      assert.deepEqual(pk.encryptionAlgorithms, [])
      assert.ok(pk.publicKeyPem.startsWith('-----BEGIN PUBLIC KEY-----\n'))
      assert.equal(pk.publicKey.length, 91)
    })
    await both(ring, 'getPublicKey', () => ['rsa-oaep'], (pk) => {
      assert.deepEqual(pk.encryptionAlgorithms, ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'])
    })
  })

  it('encryptAsymmetric / decryptAsymmetric', async () => {
    const msg = Buffer.from('wrapped secret')
    for (const alg of ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1']) {
      await both(ring, 'encryptAsymmetric', () => ['rsa-oaep', msg, alg], async (ct) => {
        assert.equal(ct.length, 256)
        assert.deepEqual(await ring.decryptAsymmetric('rsa-oaep', ct, alg), msg)
      })
      const ct = ring.encryptAsymmetricSync('rsa-oaep', msg, alg)
      await both(ring, 'decryptAsymmetric', () => ['rsa-oaep', ct, alg], (p) => assert.deepEqual(p, msg))
    }
  })

  it('metadata of every key spec', () => {
    for (const [keySpec, keyUsage] of [
      ['HMAC_224'], ['HMAC_384'], ['HMAC_512'], ['ECC_NIST_P384'], ['ECC_NIST_P521'], ['ECC_SECG_P256K1'],
      ['RSA_3072', 'SIGN_VERIFY'],
    ]) {
      const m = ring.createKeySync({ keySpec, keyUsage })
      assert.equal(m.keySpec, keySpec)
      assert.equal(ring.describeKeySync(m.keyId).keySpec, keySpec)
    }
  })
})
