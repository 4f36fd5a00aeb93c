'use strict'
// The bad-input matrix: wrong types, strings instead of Buffers, tampered blobs, wrong context,
// unknown key, disabled key, wrong usage; sync forms throw, Promise forms reject.
const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const { Keyring, throwsCode, rejectsCode } = require('./helpers')

const TYPE = 'ERR_INVALID_ARG_TYPE'

describe('bad input', () => {
  const ring = new Keyring()
  let blob
  before(() => {
    ring.createKeySync({ keyId: 'sym' })
    ring.createKeySync({ keyId: 'off' })
    ring.disableKeySync('off')
    ring.createKeySync({ keyId: 'hmac', keySpec: 'HMAC_256' })
    ring.createKeySync({ keyId: 'ec', keySpec: 'ECC_NIST_P256' })
    blob = ring.encryptSync('sym', Buffer.from('secret'), { tenant: 'acme' })
  })

  /** Checks the sync form throws and the async form rejects, both with `code` / `name`. */
  async function bad(name, args, code, errorName = 'Error') {
    throwsCode(() => ring[`${name}Sync`](...args), code, errorName)
    await rejectsCode(ring[name](...args), code, errorName)
  }

  it('wrong argument types are TypeErrors with a clear message', async () => {
    const pt = Buffer.from('x')
    const cases = [
      ['encrypt', [42, pt], /keyId must be a string, got a number/],
      ['encrypt', ['sym', 'a string'], /plaintext must be a Buffer or Uint8Array, got a string/],
      ['encrypt', ['sym', [1, 2, 3]], /plaintext must be a Buffer or Uint8Array, got an array/],
      ['encrypt', ['sym', new Uint16Array(4)], /plaintext must be a Buffer or Uint8Array, got another typed array/],
      ['encrypt', ['sym', new ArrayBuffer(4)], /plaintext must be a Buffer or Uint8Array, got an object/],
      ['encrypt', ['sym', undefined], /plaintext must be a Buffer or Uint8Array, got undefined/],
      ['encrypt', ['sym', pt, 'tenant=acme'], /context must be a plain object of strings, got a string/],
      ['encrypt', ['sym', pt, new Map([['a', 'b']])], /context must be a plain object of strings/],
      ['encrypt', ['sym', pt, ['a']], /context must be a plain object of strings, got an array/],
      ['encrypt', ['sym', pt, { a: 1 }], /context values must be strings, got a number for key "a"/],
      ['decrypt', ['not a blob'], /blob must be a Buffer or Uint8Array, got a string/],
      ['decrypt', [blob, { tenant: null }], /context values must be strings, got null/],
      ['createKey', ['SYMMETRIC_DEFAULT'], /options must be an object, got a string/],
      ['createKey', [{ keySpec: 5 }], /options.keySpec must be a string, got a number/],
      ['createKey', [{ rotateOnBudget: 'yes' }], /options.rotateOnBudget must be a boolean/],
      ['createKey', [{ rotationPeriod: { days: 90, seconds: 5 } }], /exactly one of `days` and `seconds`/],
      ['generateMac', ['hmac', pt, 256], /macAlgorithm must be a string/],
      ['verifyMac', ['hmac', pt, 'HMAC_SHA_256', 'mac'], /mac must be a Buffer or Uint8Array/],
      ['sign', ['ec', 'message', 'ECDSA_SHA_256'], /message must be a Buffer or Uint8Array/],
      ['verify', ['ec', pt, 'ECDSA_SHA_256', null], /signature must be a Buffer or Uint8Array, got null/],
      ['generateRandom', ['16'], /numberOfBytes must be a number, got a string/],
      ['generateDataKey', ['sym', { keySpec: 'AES_256', numberOfBytes: 5 }], /at most one of/],
      ['setRotateOnBudget', ['sym', 1], /rotate must be a boolean, got a number/],
      ['encryptMany', [{ keyId: 'sym' }], /items must be an array, got an object/],
      ['encryptMany', ['sym', pt], /plaintexts must be an array, got a typed array/],
      ['encryptMany', ['sym', [pt], ['ctx']], /context must be a plain object of strings, got an array/],
    ]
    for (const [name, args, message] of cases) {
      assert.throws(() => ring[`${name}Sync`](...args), (e) => {
        assert.ok(e instanceof TypeError, `${name}: ${e}`)
        assert.equal(e.code, TYPE)
        assert.match(e.message, message)
        return true
      })
      await assert.rejects(ring[name](...args), (e) => e instanceof TypeError && e.code === TYPE && message.test(e.message))
    }
  })

  it('a batch item of the wrong type gets its TypeError in its slot; the other items run', async () => {
    const pt = Buffer.from('x')
    const cases = [
      ['encryptMany', [[{ keyId: 'sym', plaintext: 'str' }, { keyId: 'sym', plaintext: pt }]], 0, /items\[0\]\.plaintext must be a Buffer or Uint8Array/],
      ['decryptMany', [[blob, 5], { tenant: 'acme' }], 1, /blobs\[1\] must be a Buffer or Uint8Array, got a number/],
      ['decryptMany', [[{ blob, context: { tenant: 'acme' } }, blob]], 1, /items\[1\] must be an object, got a typed array/],
      ['encryptMany', ['sym', [pt, 'x']], 1, /plaintexts\[1\] must be a Buffer or Uint8Array, got a string/],
      ['encryptMany', [[{ keyId: 'sym', plaintext: pt }, null]], 1, /items\[1\] must be an object, got null/],
      ['encryptMany', [[{ keyId: 'sym', plaintext: pt }, { keyId: 7, plaintext: pt }]], 1, /items\[1\]\.keyId must be a string, got a number/],
      ['signMany', [[{ keyId: 'ec', message: pt, signingAlgorithm: 'ECDSA_SHA_256', messageType: 5 }, { keyId: 'ec', message: pt, signingAlgorithm: 'ECDSA_SHA_256' }]], 0, /items\[0\]\.messageType must be a string/],
    ]
    for (const [name, args, slot, message] of cases) {
      for (const out of [ring[`${name}Sync`](...args), await ring[name](...args)]) {
        assert.equal(out.length, (typeof args[0] === 'string' ? args[1] : args[0]).length)
        const e = out[slot]
        assert.ok(e instanceof TypeError, `${name}: ${e}`)
        assert.equal(e.code, TYPE)
        assert.match(e.message, message)
        out.forEach((r, i) => { if (i !== slot) assert.ok(!(r instanceof Error), `${name}: item ${i} failed: ${r}`) })
      }
    }
  })

  it('numbers out of range are RangeErrors', async () => {
    await bad('generateRandom', [-1], 'ERR_OUT_OF_RANGE', 'RangeError')
    await bad('generateRandom', [1.5], 'ERR_OUT_OF_RANGE', 'RangeError')
    await bad('setMinDecryptionVersion', ['sym', 2 ** 40], 'ERR_OUT_OF_RANGE', 'RangeError')
    assert.throws(() => new Keyring({ encryptionBudget: 0 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
  })

  it('Keyplane refusals carry the core code', async () => {
    const pt = Buffer.from('x')
    await bad('generateRandom', [0], 'KP_INVALID_INPUT')
    await bad('generateRandom', [1025], 'KP_INVALID_INPUT')
    await bad('encrypt', ['nope', pt], 'KP_NOT_FOUND')
    await bad('encrypt', ['alias/nope', pt], 'KP_NOT_FOUND')
    await bad('encrypt', ['off', pt], 'KP_KEY_DISABLED')
    await bad('encrypt', ['hmac', pt], 'KP_INVALID_KEY_USAGE')
    await bad('encrypt', ['sym', pt, { '': 'empty key' }], 'KP_INVALID_INPUT')
    await bad('encrypt', ['sym', pt, { big: 'x'.repeat(9000) }], 'KP_LIMIT_EXCEEDED')
    await bad('generateMac', ['sym', pt, 'HMAC_SHA_256'], 'KP_INVALID_KEY_USAGE')
    await bad('generateMac', ['hmac', pt, 'HMAC_SHA_384'], 'KP_INVALID_KEY_USAGE')
    await bad('generateMac', ['hmac', pt, 'HMAC_SHA_999'], 'KP_INVALID_INPUT')
    await bad('sign', ['hmac', pt, 'ECDSA_SHA_256'], 'KP_INVALID_KEY_USAGE')
    await bad('sign', ['ec', pt, 'ECDSA_SHA_256', 'DIGEST'], 'KP_INVALID_INPUT')
    await bad('sign', ['ec', pt, 'ECDSA_SHA_256', 'HASHED'], 'KP_INVALID_INPUT')
    await bad('getPublicKey', ['sym'], 'KP_UNSUPPORTED_ALGORITHM')
    await bad('rotateKey', ['ec'], 'KP_UNSUPPORTED_ALGORITHM')
    await bad('createKey', [{ keyId: 'sym' }], 'KP_ALREADY_EXISTS')
    await bad('createKey', [{ keySpec: 'RSA_2048' }], 'KP_INVALID_INPUT')
    await bad('createKey', [{ keySpec: 'AES_999' }], 'KP_INVALID_INPUT')
    await bad('createKey', [{ keyId: 'bad id!' }], 'KP_INVALID_INPUT')
    await bad('createKey', [{ rotationPeriod: { days: 5 } }], 'KP_INVALID_INPUT')
    await bad('createAlias', ['no-prefix', 'sym'], 'KP_INVALID_INPUT')
    await bad('deleteAlias', ['alias/none'], 'KP_NOT_FOUND')
    await bad('cancelKeyDeletion', ['sym'], 'KP_INVALID_KEY_STATE')
    await bad('generateDataKey', ['sym', { numberOfBytes: 0 }], 'KP_INVALID_INPUT')
    await bad('generateDataKey', ['sym', { keySpec: 'AES_512' }], 'KP_INVALID_INPUT')
    await bad('generateDataKeyPair', ['sym', 'DSA_1024'], 'KP_INVALID_INPUT')
  })

  it('tampered blobs, wrong context, other keyrings: one error for all', async () => {
    await bad('decrypt', [blob, { tenant: 'other' }], 'KP_INVALID_CIPHERTEXT')
    await bad('decrypt', [blob], 'KP_INVALID_CIPHERTEXT')
    await bad('decrypt', [blob, { tenant: 'acme', extra: '' }], 'KP_INVALID_CIPHERTEXT')
    for (let i = 0; i < blob.length; i++) {
      const t = Buffer.from(blob)
      t[i] ^= 0x01
      throwsCode(() => ring.decryptSync(t, { tenant: 'acme' }), 'KP_INVALID_CIPHERTEXT')
    }
    for (let n = 0; n < blob.length; n++) {
      throwsCode(() => ring.decryptSync(blob.subarray(0, n), { tenant: 'acme' }), 'KP_INVALID_CIPHERTEXT')
    }
    throwsCode(() => new Keyring().decryptSync(blob, { tenant: 'acme' }), 'KP_INVALID_CIPHERTEXT')
    await bad('decryptAsymmetric', ['sym', blob, 'RSAES_OAEP_SHA_256'], 'KP_INVALID_KEY_USAGE')
  })

  it('a disabled key refuses every operation until enabled', async () => {
    const b = ring.encryptSync('sym', Buffer.from('x'))
    ring.disableKeySync('sym')
    await bad('decrypt', [b], 'KP_KEY_DISABLED')
    await bad('generateDataKey', ['sym'], 'KP_KEY_DISABLED')
    ring.enableKeySync('sym')
    assert.deepEqual(ring.decryptSync(b), Buffer.from('x'))
  })

  it("a throwing getter's exception propagates unchanged", () => {
    const boom = new Error('boom')
    const options = {
      get keySpec() {
        throw boom
      },
    }
    assert.throws(() => ring.createKeySync(options), (e) => e === boom)
    assert.throws(() => ring.createKey(options), (e) => e === boom)
  })

  it('a getter that detaches an input buffer cannot make encrypt read freed memory', () => {
    const ab = new ArrayBuffer(32)
    const pt = new Uint8Array(ab)
    const context = {
      get tenant() {
        structuredClone(ab, { transfer: [ab] }) // detaches `pt`
        return 'acme'
      },
    }
    // The context is read before the plaintext, so the plaintext is seen as detached (empty).
    const b = ring.encryptSync('sym', pt, context)
    assert.equal(ring.decryptSync(b, { tenant: 'acme' }).length, 0)
  })
})
