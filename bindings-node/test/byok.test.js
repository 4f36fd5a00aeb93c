'use strict'
// Bring your own key: EXTERNAL keys, getParametersForImport, material wrapped with node:crypto,
// importKeyMaterial, expiry and deleteImportedKeyMaterial.
const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { setTimeout: sleep } = require('node:timers/promises')
const { Keyring, throwsCode, rejectsCode } = require('./helpers')

/** Wraps `material` for `params` as `algorithm` says, with node:crypto only. */
function wrap(params, material, algorithm = 'RSA_AES_KEY_WRAP_SHA_256') {
  const key = crypto.createPublicKey({ key: params.publicKey, format: 'der', type: 'spki' })
  const oaepHash = algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256'
  const oaep = (data) => crypto.publicEncrypt({ key, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data)
  if (algorithm.startsWith('RSAES_OAEP')) return oaep(material)
  // RSA-OAEP of a fresh AES-256 key, then the material under it by AES key wrap with padding.
  const kek = crypto.randomBytes(32)
  const kwp = crypto.createCipheriv('id-aes256-wrap-pad', kek, Buffer.from('A65959A6', 'hex'))
  return Buffer.concat([oaep(kek), kwp.update(material), kwp.final()])
}

describe('importing key material', () => {
  const ring = new Keyring()

  it('an EXTERNAL key starts in PendingImport and cannot be used', () => {
    const k = ring.createKeySync({ origin: 'EXTERNAL' })
    assert.equal(k.origin, 'EXTERNAL')
    assert.equal(k.keyState, 'PendingImport')
    assert.equal(k.validTo, undefined)
    throwsCode(() => ring.encryptSync(k.keyId, Buffer.from('x')), 'KP_INVALID_KEY_STATE')
    throwsCode(() => ring.createKeySync({ origin: 'ELSEWHERE' }), 'KP_INVALID_INPUT')
    throwsCode(() => ring.createKeySync({ origin: 1 }), 'ERR_INVALID_ARG_TYPE', 'TypeError')
  })

  it('symmetric material, every wrapping algorithm, async and sync', async () => {
    for (const algorithm of ['RSA_AES_KEY_WRAP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1']) {
      for (const mode of ['async', 'sync']) {
        const { keyId } = ring.createKeySync({ origin: 'EXTERNAL' })
        const params = mode === 'async'
          ? await ring.getParametersForImport(keyId, algorithm, 'RSA_2048')
          : ring.getParametersForImportSync(keyId, algorithm)
        assert.equal(params.keyId, keyId)
        assert.ok(Buffer.isBuffer(params.publicKey) && Buffer.isBuffer(params.importToken))
        assert.ok(params.parametersValidTo instanceof Date)
        const hours = (params.parametersValidTo - Date.now()) / 3600e3
        assert.ok(hours > 23.9 && hours <= 24.01, `${hours}`)
        const wrapped = wrap(params, crypto.randomBytes(32), algorithm)
        const done = mode === 'async'
          ? await ring.importKeyMaterial(keyId, params.importToken, wrapped)
          : ring.importKeyMaterialSync(keyId, params.importToken, wrapped)
        assert.equal(done, undefined)
        assert.equal(ring.describeKeySync(keyId).keyState, 'Enabled')
        const blob = ring.encryptSync(keyId, Buffer.from('mine'))
        assert.equal(ring.decryptSync(blob).toString(), 'mine')
      }
    }
  })

  it('HMAC material is the HMAC key: node:crypto computes the same MAC', async () => {
    const { keyId } = ring.createKeySync({ keySpec: 'HMAC_256', origin: 'EXTERNAL' })
    const params = await ring.getParametersForImport(keyId)
    const material = crypto.randomBytes(32)
    await ring.importKeyMaterial(keyId, params.importToken, wrap(params, material))
    const msg = Buffer.from('session=42')
    assert.deepEqual(ring.generateMacSync(keyId, msg, 'HMAC_SHA_256'), crypto.createHmac('sha256', material).update(msg).digest())
  })

  it('an ECC private key imports as PKCS#8 and signs for node:crypto', async () => {
    const { keyId } = ring.createKeySync({ keySpec: 'ECC_NIST_P256', origin: 'EXTERNAL' })
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' })
    const params = await ring.getParametersForImport(keyId, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_3072')
    await ring.importKeyMaterial(keyId, params.importToken, wrap(params, pkcs8))
    const msg = Buffer.from('release')
    assert.ok(crypto.verify('sha256', msg, publicKey, ring.signSync(keyId, msg, 'ECDSA_SHA_256')))
  })

  it('expiry: validTo, then back to PendingImport; the same material imports again', async () => {
    const { keyId } = ring.createKeySync({ origin: 'EXTERNAL' })
    const material = crypto.randomBytes(32)
    // validTo is checked against the system clock, which this test cannot move. Each attempt
    // gives the import a margin, doubled when the machine was too slow to see the key enabled
    // before it (at most 6 attempts, up to 16 s); then the test waits until the clock has
    // passed validTo, which takes at most that margin.
    let validTo
    let blob
    for (let margin = 500; ; margin *= 2) {
      const params = ring.getParametersForImportSync(keyId)
      validTo = new Date(Date.now() + margin)
      let meta
      try {
        ring.importKeyMaterialSync(keyId, params.importToken, wrap(params, material), { validTo })
        meta = ring.describeKeySync(keyId)
        blob = ring.encryptSync(keyId, Buffer.from('until then'))
      } catch (e) {
        if (margin >= 16000) throw e
        continue
      }
      if (Date.now() < validTo.getTime()) {
        assert.equal(meta.keyState, 'Enabled')
        assert.ok(meta.validTo instanceof Date)
        assert.ok(Math.abs(meta.validTo - validTo) <= 1)
        break
      }
      assert.ok(margin < 16000, 'the import never finished within its margin')
    }
    while (Date.now() <= validTo.getTime()) await sleep(validTo.getTime() - Date.now() + 1)
    // Without material no blob authenticates: it fails as a forged one would, saying nothing
    // about the key's state; encrypting names the state.
    throwsCode(() => ring.decryptSync(blob), 'KP_INVALID_CIPHERTEXT')
    throwsCode(() => ring.encryptSync(keyId, Buffer.from('x')), 'KP_INVALID_KEY_STATE')
    assert.equal(ring.describeKeySync(keyId).keyState, 'PendingImport')
    const params = await ring.getParametersForImport(keyId)
    await ring.importKeyMaterial(keyId, params.importToken, wrap(params, material), { validTo: null })
    assert.equal(ring.decryptSync(blob).toString(), 'until then')
  })

  it('deleteImportedKeyMaterial, async and sync', async () => {
    const { keyId } = ring.createKeySync({ origin: 'EXTERNAL' })
    const material = crypto.randomBytes(32)
    for (const mode of ['async', 'sync']) {
      const params = ring.getParametersForImportSync(keyId)
      ring.importKeyMaterialSync(keyId, params.importToken, wrap(params, material))
      assert.equal(ring.describeKeySync(keyId).keyState, 'Enabled')
      assert.equal(mode === 'async' ? await ring.deleteImportedKeyMaterial(keyId) : ring.deleteImportedKeyMaterialSync(keyId), undefined)
      assert.equal(ring.describeKeySync(keyId).keyState, 'PendingImport')
    }
  })

  it('wrong token, wrong material, expired validTo, wrong key', async () => {
    const a = ring.createKeySync({ origin: 'EXTERNAL' }).keyId
    const b = ring.createKeySync({ origin: 'EXTERNAL' }).keyId
    const pa = ring.getParametersForImportSync(a)
    const pb = ring.getParametersForImportSync(b)
    const material = crypto.randomBytes(32)
    // Another key's token; a damaged token; another keyring's token.
    throwsCode(() => ring.importKeyMaterialSync(a, pb.importToken, wrap(pb, material)), 'KP_INVALID_INPUT')
    const damaged = Buffer.from(pa.importToken)
    damaged[damaged.length - 3] ^= 1
    throwsCode(() => ring.importKeyMaterialSync(a, damaged, wrap(pa, material)), 'KP_INVALID_INPUT')
    const other = new Keyring()
    other.createKeySync({ keyId: a, origin: 'EXTERNAL' })
    await rejectsCode(other.importKeyMaterial(a, pa.importToken, wrap(pa, material)), 'KP_INVALID_INPUT')
    // Material wrapped for another key's public key does not unwrap.
    throwsCode(() => ring.importKeyMaterialSync(a, pa.importToken, wrap(pb, material)), 'KP_INVALID_CIPHERTEXT')
    throwsCode(() => ring.importKeyMaterialSync(a, pa.importToken, crypto.randomBytes(300)), 'KP_INVALID_CIPHERTEXT')
    // Material that does not fit the spec.
    throwsCode(() => ring.importKeyMaterialSync(a, pa.importToken, wrap(pa, crypto.randomBytes(16))), 'KP_INVALID_INPUT')
    // A validTo in the past.
    throwsCode(() => ring.importKeyMaterialSync(a, pa.importToken, wrap(pa, material), { validTo: new Date(Date.now() - 1000) }), 'KP_INVALID_INPUT')
    // The first material sticks: other material is refused later.
    ring.importKeyMaterialSync(a, pa.importToken, wrap(pa, material))
    ring.deleteImportedKeyMaterialSync(a)
    const again = ring.getParametersForImportSync(a)
    await rejectsCode(ring.importKeyMaterial(a, again.importToken, wrap(again, crypto.randomBytes(32))), 'KP_INVALID_INPUT')
    // Keys that do not take imports, unknown names.
    const own = ring.createKeySync().keyId
    await rejectsCode(ring.getParametersForImport(own), 'KP_UNSUPPORTED_ALGORITHM')
    throwsCode(() => ring.deleteImportedKeyMaterialSync(own), 'KP_UNSUPPORTED_ALGORITHM')
    throwsCode(() => ring.getParametersForImportSync(a, 'RSA_OAEP'), 'KP_INVALID_INPUT')
    throwsCode(() => ring.getParametersForImportSync(a, null, 'RSA_1024'), 'KP_INVALID_INPUT')
    throwsCode(() => ring.getParametersForImportSync('missing'), 'KP_NOT_FOUND')
  })

  it('wrong argument types are TypeErrors, bad dates RangeErrors', async () => {
    const { keyId } = ring.createKeySync({ origin: 'EXTERNAL' })
    const p = ring.getParametersForImportSync(keyId)
    const wrapped = wrap(p, crypto.randomBytes(32))
    throwsCode(() => ring.importKeyMaterialSync(keyId, 'token', wrapped), 'ERR_INVALID_ARG_TYPE', 'TypeError')
    throwsCode(() => ring.importKeyMaterialSync(keyId, p.importToken, [1, 2]), 'ERR_INVALID_ARG_TYPE', 'TypeError')
    throwsCode(() => ring.importKeyMaterialSync(keyId, p.importToken, wrapped, { validTo: Date.now() + 1e6 }), 'ERR_INVALID_ARG_TYPE', 'TypeError')
    throwsCode(() => ring.importKeyMaterialSync(keyId, p.importToken, wrapped, { validTo: new Date(NaN) }), 'ERR_OUT_OF_RANGE', 'RangeError')
    throwsCode(() => ring.importKeyMaterialSync(keyId, p.importToken, wrapped, 'soon'), 'ERR_INVALID_ARG_TYPE', 'TypeError')
    await rejectsCode(ring.getParametersForImport(keyId, 256), 'ERR_INVALID_ARG_TYPE', 'TypeError')
    assert.equal(ring.describeKeySync(keyId).keyState, 'PendingImport')
  })
})
