'use strict'
// Replays the whole cross-language known-answer corpus (vectors/*.json).
//
// Loading raw key material needs the insecure test hooks, which the shipped addon does not
// have: this file loads a second build made with the `insecure-test-hooks` feature
// (`npm run build:hooks`, which scripts/test runs), and only this file uses it.
const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const hooksPath = path.join(__dirname, '.hooks', 'keyplane-hooks.node')
if (!fs.existsSync(hooksPath)) {
  throw new Error(`${hooksPath} is missing: run \`npm run build:hooks\` first`)
}
const { Keyring } = require(hooksPath)
const { Keyring: Shipped } = require('..')

const root = path.join(__dirname, '..', '..', 'vectors')
const symmetric = JSON.parse(fs.readFileSync(path.join(root, 'symmetric.json'), 'utf8'))
const asymmetric = JSON.parse(fs.readFileSync(path.join(root, 'asymmetric.json'), 'utf8'))
const hex = (s) => Buffer.from(s, 'hex')
const contextOf = (pairs) => Object.fromEntries(pairs)

/** Decrypts a blob from FORMAT.md alone, with node:crypto: no Keyplane code. */
function formatMdDecrypt(blob, roots, context) {
  if (blob[0] !== 1 && blob[0] !== 2) return null
  const L = blob[1]
  const keyId = blob.subarray(2, 2 + L)
  const version = blob.readUInt32BE(2 + L)
  const nonce = blob.subarray(6 + L, 18 + L)
  const header = blob.subarray(0, 18 + L)
  const body = blob.subarray(18 + L, blob.length - 16)
  const tag = blob.subarray(blob.length - 16)
  const info = Buffer.concat([Buffer.from('keyplane/v1/aes-256-gcm'), Buffer.from([0, L]), keyId, header.subarray(2 + L, 6 + L)])
  const key = Buffer.from(crypto.hkdfSync('sha256', hex(roots[version - 1]), Buffer.from('keyplane/v1'), info, 32))
  const pairs = Object.entries(context).sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  const u16 = (n) => Buffer.from([n >> 8, n & 0xff])
  const canonical = Buffer.concat([u16(pairs.length), ...pairs.flatMap(([k, v]) => [u16(Buffer.byteLength(k)), Buffer.from(k), u16(Buffer.byteLength(v)), Buffer.from(v)])])
  // Format 0x02 (FIPS builds) leaves the nonce out of the AAD.
  const aadHeader = blob[0] === 2 ? header.subarray(0, 6 + L) : header
  const aad = Buffer.concat([aadHeader, crypto.createHash('sha256').update(canonical).digest()])
  const d = crypto.createDecipheriv('aes-256-gcm', key, nonce)
  d.setAAD(aad)
  d.setAuthTag(tag)
  return Buffer.concat([d.update(body), d.final()])
}

describe('vectors/symmetric.json', () => {
  it('has the expected schema', () => {
    assert.equal(symmetric.schema, 'keyplane-vectors/symmetric/1')
    assert.ok(symmetric.vectors.length >= 9)
  })

  it('the shipped addon has no insecure hooks', () => {
    assert.equal(typeof Shipped.prototype._insecureCreateKeyWithMaterial, 'undefined')
    assert.equal(typeof Keyring.prototype._insecureCreateKeyWithMaterial, 'function')
  })

  for (const v of symmetric.vectors) {
    it(v.name, () => {
      const ring = new Keyring()
      ring._insecureCreateKeyWithMaterial(v.key_id, v.roots.map(hex))
      const context = contextOf(v.context)
      const blob = hex(v.blob)
      if (v.valid) {
        assert.deepEqual(ring.decryptSync(blob, context), hex(v.plaintext))
        if (v.format === 1) {
          // Encrypting with the vector's nonce reproduces the blob byte for byte (the hook writes
          // format 0x01; a FIPS build's 0x02 nonces come from the module).
          const again = ring._insecureEncryptWithNonce(v.key_id, v.version, hex(v.nonce), hex(v.plaintext), context)
          assert.deepEqual(again, blob)
        }
        // And node:crypto alone, following FORMAT.md, decrypts it.
        assert.deepEqual(formatMdDecrypt(blob, v.roots, context), hex(v.plaintext))
      } else {
        assert.throws(() => ring.decryptSync(blob, context), { code: 'KP_INVALID_CIPHERTEXT' })
        assert.throws(() => formatMdDecrypt(blob, v.roots, context))
      }
    })
  }
})

describe('vectors/asymmetric.json', () => {
  assert.equal(asymmetric.schema, 'keyplane-vectors/asymmetric/1')
  const ring = new Keyring()
  for (const k of asymmetric.keys) {
    ring._insecureImportKeyMaterial(k.key_id, k.key_spec, k.key_usage, hex(k.private_key_pkcs8))
  }

  it('public keys', () => {
    for (const k of asymmetric.keys) {
      assert.deepEqual(ring.getPublicKeySync(k.key_id).publicKey, hex(k.public_key), k.key_id)
    }
  })

  it(`signatures (${asymmetric.signatures.length})`, async () => {
    for (const v of asymmetric.signatures) {
      const args = [v.key_id, hex(v.message), v.algorithm, hex(v.signature), v.message_type]
      assert.equal(ring.verifySync(...args), v.valid, v.name)
      assert.equal(await ring.verify(...args), v.valid, v.name)
      assert.deepEqual(hex(v.public_key), hex(asymmetric.keys.find((k) => k.key_id === v.key_id).public_key))
    }
  })

  it(`MACs (${asymmetric.macs.length})`, () => {
    for (const v of asymmetric.macs) {
      const r = new Keyring()
      r._insecureImportKeyMaterial('mac', v.key_spec, 'GENERATE_VERIFY_MAC', hex(v.key))
      assert.equal(r.verifyMacSync('mac', hex(v.message), v.algorithm, hex(v.mac)), v.valid, v.name)
      if (v.valid) assert.deepEqual(r.generateMacSync('mac', hex(v.message), v.algorithm), hex(v.mac), v.name)
    }
  })

  it(`RSA-OAEP (${asymmetric.oaep.length})`, () => {
    for (const v of asymmetric.oaep) {
      const args = [v.key_id, hex(v.ciphertext), v.algorithm]
      if (v.valid) {
        assert.deepEqual(ring.decryptAsymmetricSync(...args), hex(v.plaintext), v.name)
      } else {
        assert.throws(() => ring.decryptAsymmetricSync(...args), { code: 'KP_INVALID_CIPHERTEXT' }, v.name)
      }
    }
  })
})
