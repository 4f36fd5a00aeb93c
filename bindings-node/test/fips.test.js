'use strict'
// FIPS mode: fipsStatus() for the addon under test, and the services a FIPS build refuses,
// decided at run time from the status: in FIPS mode they throw (or reject with)
// KP_UNSUPPORTED_ALGORITHM and a message naming FIPS; otherwise they work. The addon
// scripts/test builds is the non-FIPS one; the README's "FIPS mode" says how to run this file
// against a FIPS build.
const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { createHash } = require('node:crypto')
const { fipsStatus } = require('..')
const { Keyring } = require('./helpers')

const status = fipsStatus()
const inFipsMode = status.fipsMode

describe('fipsStatus', () => {
  it('has the documented shape', () => {
    assert.deepEqual(Object.keys(status).sort(), ['fipsBranch', 'fipsBuild', 'fipsMode', 'module', 'moduleVersion'])
    assert.equal(typeof status.fipsBuild, 'boolean')
    assert.equal(typeof status.fipsMode, 'boolean')
    assert.equal(typeof status.module, 'string')
    assert.match(status.moduleVersion, /^\d/)
    assert.ok(status.fipsBranch === null || Number.isInteger(status.fipsBranch), String(status.fipsBranch))
    // A new object on every call, so a caller's edit cannot leak into the next one.
    assert.deepEqual(fipsStatus(), status)
    assert.notEqual(fipsStatus(), fipsStatus())
  })

  it('names the module of this build', () => {
    if (status.fipsBuild) {
      assert.equal(status.module, 'AWS-LC FIPS')
      assert.ok(status.fipsBranch > 0)
      // A FIPS build whose module is not in FIPS mode cannot make a keyring at all.
      assert.equal(status.fipsMode, true, 'the FIPS module under test is not in FIPS mode')
    } else {
      assert.equal(status.module, 'AWS-LC')
      assert.equal(status.fipsMode, false)
      assert.equal(status.fipsBranch, null)
    }
  })

  it('takes no arguments and ignores extra ones, as JavaScript functions do', () => {
    assert.deepEqual(fipsStatus(42, 'x', {}), status)
  })
})

describe('services refused in FIPS mode', () => {
  const ring = new Keyring()
  const p256 = ring.createKeySync({ keySpec: 'ECC_NIST_P256' }).keyId
  const sym = ring.createKeySync().keyId
  const digest = createHash('sha256').update('message').digest()
  // Each service as [sync call, async call].
  const services = {
    'secp256k1 key': ['createKey', [{ keySpec: 'ECC_SECG_P256K1' }]],
    'RSA encryption key': ['createKey', [{ keySpec: 'RSA_2048', keyUsage: 'ENCRYPT_DECRYPT' }]],
    'EXTERNAL key': ['createKey', [{ origin: 'EXTERNAL' }]],
    'DIGEST signing': ['sign', [p256, digest, 'ECDSA_SHA_256', 'DIGEST']],
    'secp256k1 data key pair': ['generateDataKeyPair', [sym, 'ECC_SECG_P256K1']],
    'secp256k1 data key pair without plaintext': ['generateDataKeyPairWithoutPlaintext', [sym, 'ECC_SECG_P256K1']],
  }

  /** The error every refusal is: the unsupported-algorithm code, the core's message. */
  function refusal(e) {
    assert.ok(e instanceof Error)
    assert.equal(e.name, 'Error')
    assert.equal(e.code, 'KP_UNSUPPORTED_ALGORITHM', `${e.code}: ${e.message}`)
    assert.match(e.message, /^not approved in FIPS mode: /)
    return true
  }

  for (const [service, [method, args]] of Object.entries(services)) {
    it(`${service}: ${inFipsMode ? 'refused' : 'works'}`, async () => {
      if (inFipsMode) {
        assert.throws(() => ring[`${method}Sync`](...args), refusal)
        await assert.rejects(ring[method](...args), refusal)
      } else {
        assert.ok(ring[`${method}Sync`](...args))
        assert.ok(await ring[method](...args))
      }
    })
  }

  it(`DIGEST verification and batch items: ${inFipsMode ? 'refused' : 'work'}`, async () => {
    const signature = ring.signSync(p256, Buffer.from('message'), 'ECDSA_SHA_256')
    const verify = () => ring.verifySync(p256, digest, 'ECDSA_SHA_256', signature, 'DIGEST')
    // A batch item fails on its own, with the same error a single call throws.
    const [item] = ring.signManySync([{ keyId: p256, message: digest, signingAlgorithm: 'ECDSA_SHA_256', messageType: 'DIGEST' }])
    if (inFipsMode) {
      assert.throws(verify, refusal)
      refusal(item)
    } else {
      assert.equal(verify(), true)
      assert.ok(Buffer.isBuffer(item))
    }
  })

  it('approved services work in every build', async () => {
    const blob = await ring.encrypt(sym, Buffer.from('data'), { tenant: 'acme' })
    assert.equal(ring.decryptSync(blob, { tenant: 'acme' }).toString(), 'data')
    const message = Buffer.from('m')
    assert.equal(ring.verifySync(p256, message, 'ECDSA_SHA_256', ring.signSync(p256, message, 'ECDSA_SHA_256')), true)
    const rsa = ring.createKeySync({ keySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY' }).keyId
    const sig = await ring.sign(rsa, message, 'RSASSA_PSS_SHA_256')
    assert.equal(await ring.verify(rsa, message, 'RSASSA_PSS_SHA_256', sig), true)
    assert.ok(ring.generateDataKeyPairSync(sym, 'ECC_NIST_P256').privateKeyPlaintext.length > 0)
  })
})
