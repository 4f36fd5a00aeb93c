'use strict'
// Interop with node:crypto: Node verifies our signatures with our DER public keys, loads our
// data key pairs, and its RSA-OAEP ciphertexts decrypt with Keyplane (and ours with Node).
const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { Keyring } = require('./helpers')

const message = Buffer.from('Keyplane interop with node:crypto')
const spki = (der) => crypto.createPublicKey({ key: der, format: 'der', type: 'spki' })

describe('node:crypto interop', () => {
  const ring = new Keyring()

  for (const [spec, alg, hash, curve] of [
    ['ECC_NIST_P256', 'ECDSA_SHA_256', 'sha256', 'prime256v1'],
    ['ECC_NIST_P384', 'ECDSA_SHA_384', 'sha384', 'secp384r1'],
    ['ECC_NIST_P521', 'ECDSA_SHA_512', 'sha512', 'secp521r1'],
    ['ECC_SECG_P256K1', 'ECDSA_SHA_256', 'sha256', 'secp256k1'],
  ]) {
    it(`crypto.verify accepts our ${spec} signatures (DER)`, async () => {
      const k = await ring.createKey({ keySpec: spec })
      const pk = spki((await ring.getPublicKey(k.keyId)).publicKey)
      assert.equal(pk.asymmetricKeyDetails.namedCurve, curve)
      const sig = await ring.sign(k.keyId, message, alg)
      assert.equal(crypto.verify(hash, message, pk, sig), true)
      assert.equal(crypto.verify(hash, Buffer.from('other'), pk, sig), false)
      // The PEM form is the same key.
      assert.equal(crypto.createPublicKey(ring.getPublicKeySync(k.keyId).publicKeyPem).export({ format: 'der', type: 'spki' }).compare(pk.export({ format: 'der', type: 'spki' })), 0)
    })
  }

  it('crypto.verify accepts our RSA PSS and PKCS#1 v1.5 signatures', async () => {
    const k = await ring.createKey({ keySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY' })
    const pk = spki(ring.getPublicKeySync(k.keyId).publicKey)
    for (const [alg, hash, padding, saltLength] of [
      ['RSASSA_PSS_SHA_256', 'sha256', crypto.constants.RSA_PKCS1_PSS_PADDING, 32],
      ['RSASSA_PSS_SHA_384', 'sha384', crypto.constants.RSA_PKCS1_PSS_PADDING, 48],
      ['RSASSA_PSS_SHA_512', 'sha512', crypto.constants.RSA_PKCS1_PSS_PADDING, 64],
      ['RSASSA_PKCS1_V1_5_SHA_256', 'sha256', crypto.constants.RSA_PKCS1_PADDING, undefined],
      ['RSASSA_PKCS1_V1_5_SHA_512', 'sha512', crypto.constants.RSA_PKCS1_PADDING, undefined],
    ]) {
      const sig = await ring.sign(k.keyId, message, alg)
      assert.equal(crypto.verify(hash, message, { key: pk, padding, saltLength }, sig), true, alg)
      assert.equal(crypto.verify(hash, Buffer.from('other'), { key: pk, padding, saltLength }, sig), false, alg)
    }
  })

  it('Node loads our data key pairs (PKCS#8 and SPKI) and they match', async () => {
    const wrap = ring.createKeySync()
    for (const spec of ['ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_SECG_P256K1', 'RSA_2048']) {
      const pair = await ring.generateDataKeyPair(wrap.keyId, spec)
      const priv = crypto.createPrivateKey({ key: pair.privateKeyPlaintext, format: 'der', type: 'pkcs8' })
      const pub = spki(pair.publicKey)
      assert.deepEqual(crypto.createPublicKey(priv).export({ format: 'der', type: 'spki' }), pair.publicKey, spec)
      const hash = spec.startsWith('RSA') ? 'sha256' : spec === 'ECC_NIST_P384' ? 'sha384' : 'sha256'
      assert.equal(crypto.verify(hash, message, pub, crypto.sign(hash, message, priv)), true, spec)
      assert.deepEqual(ring.decryptSync(pair.privateKeyCiphertextBlob), pair.privateKeyPlaintext)
    }
  })

  it('crypto.publicEncrypt with OAEP-SHA256 (and SHA-1) decrypts with Keyplane', async () => {
    const k = await ring.createKey({ keySpec: 'RSA_3072', keyUsage: 'ENCRYPT_DECRYPT' })
    const pk = spki(ring.getPublicKeySync(k.keyId).publicKey)
    const secret = crypto.randomBytes(190)
    const ct256 = crypto.publicEncrypt({ key: pk, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, secret)
    assert.deepEqual(await ring.decryptAsymmetric(k.keyId, ct256, 'RSAES_OAEP_SHA_256'), secret)
    const ct1 = crypto.publicEncrypt({ key: pk, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, secret)
    assert.deepEqual(ring.decryptAsymmetricSync(k.keyId, ct1, 'RSAES_OAEP_SHA_1'), secret)
    // The wrong OAEP hash is refused with the one ciphertext error.
    assert.throws(() => ring.decryptAsymmetricSync(k.keyId, ct1, 'RSAES_OAEP_SHA_256'), { code: 'KP_INVALID_CIPHERTEXT' })
  })

  it('a data key works as a node:crypto AES-256-GCM key', () => {
    const k = ring.createKeySync()
    const dk = ring.generateDataKeySync(k.keyId, { context: { purpose: 'file' } })
    const iv = crypto.randomBytes(12)
    const c = crypto.createCipheriv('aes-256-gcm', dk.plaintext, iv)
    const ct = Buffer.concat([c.update(message), c.final()])
    const tag = c.getAuthTag()
    const again = ring.decryptSync(dk.ciphertextBlob, { purpose: 'file' })
    const d = crypto.createDecipheriv('aes-256-gcm', again, iv)
    d.setAuthTag(tag)
    assert.deepEqual(Buffer.concat([d.update(ct), d.final()]), message)
  })
})
