'use strict'
// Sealed key records: LocalRootKey, exportSealed / importSealed, reseal, inspectSealed.
const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')
const { Keyring, throwsCode, rejectsCode } = require('./helpers')
const { LocalRootKey, reseal, resealSync, inspectSealed } = require('..')

const TYPE = 'ERR_INVALID_ARG_TYPE'

function source() {
  const ring = new Keyring()
  ring.createKeySync({ keyId: 'orders', alias: 'alias/orders', description: 'order table' })
  ring.rotateKeySync('orders')
  const blob = ring.encryptSync('alias/orders', Buffer.from('card 4111'), { tenant: 'acme' })
  return { ring, blob }
}

describe('LocalRootKey', () => {
  it('is made from 32 bytes of material and never shows them', () => {
    const material = LocalRootKey.generateMaterial()
    assert.ok(Buffer.isBuffer(material))
    assert.equal(material.length, 32)
    assert.notDeepEqual(material, LocalRootKey.generateMaterial())
    const root = new LocalRootKey('root-2026', material)
    assert.equal(root.rootId, 'root-2026')
    const shown = util.inspect(root, { showHidden: true, depth: 5 }) + JSON.stringify(root) + Object.keys(root).join()
    assert.ok(!shown.includes(material.toString('hex')))
    assert.equal(root.material, undefined)
    // A Uint8Array view works as material too.
    const backing = new Uint8Array(40)
    assert.equal(new LocalRootKey('view', backing.subarray(4, 36)).rootId, 'view')
  })

  it('refuses bad material, bad ids and wrong types', () => {
    throwsCode(() => new LocalRootKey('r', Buffer.alloc(31)), 'KP_INVALID_INPUT')
    throwsCode(() => new LocalRootKey('r', Buffer.alloc(33)), 'KP_INVALID_INPUT')
    throwsCode(() => new LocalRootKey('', Buffer.alloc(32)), 'KP_INVALID_INPUT')
    throwsCode(() => new LocalRootKey('x'.repeat(256), Buffer.alloc(32)), 'KP_INVALID_INPUT')
    throwsCode(() => new LocalRootKey(5, Buffer.alloc(32)), TYPE, 'TypeError')
    throwsCode(() => new LocalRootKey('r', 'a'.repeat(32)), TYPE, 'TypeError')
  })
})

describe('sealed records', () => {
  const root = new LocalRootKey('backup-root', LocalRootKey.generateMaterial())

  it('export and import, async and sync, keep every version, alias and the description', async () => {
    const { ring, blob } = source()
    for (const mode of ['async', 'sync']) {
      const record = mode === 'async' ? await ring.exportSealed('alias/orders', root) : ring.exportSealedSync('orders', root)
      assert.ok(Buffer.isBuffer(record))
      assert.equal(record.subarray(0, 4).toString(), 'KPSR')
      const replica = new Keyring()
      const meta = mode === 'async' ? await replica.importSealed(record, root) : replica.importSealedSync(record, root)
      assert.equal(meta.keyId, 'orders')
      assert.equal(meta.currentVersion, 2)
      assert.deepEqual(meta.aliases, ['alias/orders'])
      assert.equal(meta.description, 'order table')
      assert.deepEqual(replica.decryptSync(blob, { tenant: 'acme' }), Buffer.from('card 4111'))
      // A key id that is taken is refused.
      throwsCode(() => replica.importSealedSync(record, root), 'KP_ALREADY_EXISTS')
    }
  })

  it('inspectSealed reads the clear header without a key', () => {
    const { ring } = source()
    const record = ring.exportSealedSync('orders', root)
    assert.deepEqual(inspectSealed(record), { format: 1, keyId: 'orders', rootId: 'backup-root' })
    throwsCode(() => inspectSealed(Buffer.from('not a record')), 'KP_INVALID_INPUT')
    throwsCode(() => inspectSealed('KPSR'), TYPE, 'TypeError')
  })

  it('reseal moves a record to a new root, async and sync', async () => {
    const { ring, blob } = source()
    const record = ring.exportSealedSync('orders', root)
    const next = new LocalRootKey('root-2027', LocalRootKey.generateMaterial())
    for (const moved of [await reseal(record, root, next), resealSync(record, root, next)]) {
      assert.equal(inspectSealed(moved).rootId, 'root-2027')
      const replica = new Keyring()
      replica.importSealedSync(moved, next)
      assert.deepEqual(replica.decryptSync(blob, { tenant: 'acme' }), Buffer.from('card 4111'))
      // The new record does not open under the old root (another root id).
      throwsCode(() => new Keyring().importSealedSync(moved, root), 'KP_INVALID_INPUT')
    }
    await rejectsCode(reseal(record, next, root), 'KP_INVALID_INPUT')
  })

  it('a tampered or truncated record, or the wrong root, is refused', async () => {
    const { ring } = source()
    const record = ring.exportSealedSync('orders', root)
    // Every byte after the clear header: flipping it makes the record inauthentic.
    const header = 4 + 1 + 1 + 'backup-root'.length
    for (let i = header; i < record.length; i += 7) {
      const bad = Buffer.from(record)
      bad[i] ^= 0x40
      assert.throws(() => new Keyring().importSealedSync(bad, root), (e) => ['KP_INVALID_CIPHERTEXT', 'KP_INVALID_INPUT'].includes(e.code), `byte ${i}`)
    }
    for (const len of [0, 3, 10, record.length - 1]) {
      assert.throws(() => new Keyring().importSealedSync(record.subarray(0, len), root), (e) => e.code.startsWith('KP_INVALID_'))
    }
    // Same root id, other material: not authentic.
    const impostor = new LocalRootKey('backup-root', LocalRootKey.generateMaterial())
    throwsCode(() => new Keyring().importSealedSync(record, impostor), 'KP_INVALID_CIPHERTEXT')
    await rejectsCode(new Keyring().importSealed(record, impostor), 'KP_INVALID_CIPHERTEXT')
    await rejectsCode(new Keyring().importSealed(Buffer.from('garbage'), root), 'KP_INVALID_INPUT')
    throwsCode(() => ring.exportSealedSync('missing', root), 'KP_NOT_FOUND')
  })

  it('a root that is not a LocalRootKey is a TypeError', async () => {
    const { ring } = source()
    const record = ring.exportSealedSync('orders', root)
    const fakes = [
      undefined,
      'backup-root',
      Buffer.alloc(32),
      { rootId: 'backup-root' },
      ring, // an instance of another class of the addon
      Object.create(LocalRootKey.prototype), // the prototype, without a key inside
      Object.setPrototypeOf(new Keyring(), LocalRootKey.prototype), // another class's object in disguise
    ]
    for (const fake of fakes) {
      assert.throws(() => ring.exportSealedSync('orders', fake), (e) => e instanceof TypeError && e.code === TYPE && /root must be a LocalRootKey/.test(e.message))
      await assert.rejects(new Keyring().importSealed(record, fake), (e) => e instanceof TypeError && e.code === TYPE)
      assert.throws(() => resealSync(record, root, fake), /newRoot must be a LocalRootKey/)
    }
    throwsCode(() => new Keyring().importSealedSync('record', root), TYPE, 'TypeError')
  })
})
