'use strict'
// The reusable EncryptionContext class: construction (and its errors, which are those of a
// plain-object context), read-only accessors, blobs that open with either form, and every API
// that takes a context taking the class too.
const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { EncryptionContext } = require('..')
const { Keyring } = require('./helpers')

const PAIRS = { tenant: 'acme', purpose: 'billing' }

/** The error `fn` throws, or fails. */
function thrown(fn) {
  try {
    fn()
  } catch (e) {
    return e
  }
  assert.fail('expected an exception')
}

describe('EncryptionContext', () => {
  it('holds its pairs sorted and reads like a Map', () => {
    const c = new EncryptionContext({ b: '2', a: '1', 'é': 'x' })
    assert.equal(c.size, 3)
    assert.equal(c.get('a'), '1')
    assert.equal(c.get('missing'), undefined)
    assert.equal(c.has('b'), true)
    assert.equal(c.has('c'), false)
    assert.deepEqual(c.keys(), ['a', 'b', 'é'])
    assert.deepEqual(c.entries(), [['a', '1'], ['b', '2'], ['é', 'x']])
    assert.deepEqual(c.toJSON(), { a: '1', b: '2', 'é': 'x' })
    assert.equal(JSON.stringify(c), '{"a":"1","b":"2","é":"x"}')
    assert.deepEqual(new Map(c.entries()), new Map([['a', '1'], ['b', '2'], ['é', 'x']]))
    assert.ok(c instanceof EncryptionContext)
  })

  it('is built from a plain object, a Map, another context, or nothing', () => {
    const fromObject = new EncryptionContext(PAIRS)
    const fromMap = new EncryptionContext(new Map(Object.entries(PAIRS)))
    const fromContext = new EncryptionContext(fromObject)
    const nullProto = new EncryptionContext(Object.assign(Object.create(null), PAIRS))
    for (const c of [fromMap, fromContext, nullProto]) assert.ok(c.equals(fromObject))
    assert.equal(fromObject.equals(new EncryptionContext({ tenant: 'acme' })), false)
    assert.equal(fromObject.equals(PAIRS), false)
    assert.equal(fromObject.equals(null), false)
    for (const empty of [new EncryptionContext(), new EncryptionContext(undefined), new EncryptionContext(null), new EncryptionContext({})]) {
      assert.equal(empty.size, 0)
      assert.deepEqual(empty.toJSON(), {})
    }
    // A key named __proto__ is a key, in and out.
    const proto = new EncryptionContext(JSON.parse('{"__proto__": "x"}'))
    assert.equal(proto.get('__proto__'), 'x')
    assert.deepEqual(Object.keys(proto.toJSON()), ['__proto__'])
  })

  it('construction errors are those of a plain-object context, codes included', () => {
    const ring = new Keyring()
    const { keyId } = ring.createKeySync()
    const pt = Buffer.from('x')
    const bad = [
      'tenant=acme',
      42,
      true,
      ['a'],
      new Uint8Array(2),
      new Date(),
      { a: 1 },
      { a: null },
      { a: 'x', b: 2n },
      { '': 'x' },
      { t: 'a\uD800' },
      { 'a\uDC00': 'x' },
      { big: 'x'.repeat(8192) },
      Object.fromEntries(Array.from({ length: 9000 }, (_, i) => [`k${i}`, ''])),
      new (class Foo { constructor() { this.a = 'b' } })(),
    ]
    for (const value of bad) {
      const asArgument = thrown(() => ring.encryptSync(keyId, pt, value))
      const asClass = thrown(() => new EncryptionContext(value))
      assert.equal(asClass.name, asArgument.name, `${asArgument.message}`)
      assert.equal(asClass.code, asArgument.code, `${asArgument.message}`)
      assert.equal(asClass.message, asArgument.message)
      assert.ok(asClass.code, `a code for ${asClass.message}`)
    }
    // The cases the brief of a context names, with their codes.
    const code = (v) => thrown(() => new EncryptionContext(v)).code
    assert.equal(code('x'), 'ERR_INVALID_ARG_TYPE')
    assert.equal(code({ a: 1 }), 'ERR_INVALID_ARG_TYPE')
    assert.equal(code({ '': 'x' }), 'KP_INVALID_INPUT')
    assert.equal(code({ t: 'a\uD800' }), 'KP_INVALID_INPUT')
    assert.equal(code({ big: 'x'.repeat(8192) }), 'KP_LIMIT_EXCEEDED')
  })

  it('a Map must hold strings; a duplicate key cannot arise', () => {
    assert.throws(() => new EncryptionContext(new Map([[1, 'x']])), (e) => e instanceof TypeError && /a key of context must be a string, got a number/.test(e.message))
    assert.throws(() => new EncryptionContext(new Map([['a', 1]])), (e) => e instanceof TypeError && /context\["a"\] must be a string, got a number/.test(e.message))
    assert.equal(thrown(() => new EncryptionContext(new Map([['', 'x']]))).code, 'KP_INVALID_INPUT')
    assert.equal(thrown(() => new EncryptionContext(new Map([['a', 'x'.repeat(8192)]]))).code, 'KP_LIMIT_EXCEEDED')
    assert.equal(thrown(() => new EncryptionContext(new Map([['a', '\uDBFF']]))).code, 'KP_INVALID_INPUT')
  })

  it('cannot be changed', () => {
    'use strict'
    const c = new EncryptionContext(PAIRS)
    assert.throws(() => { c.size = 5 }, TypeError)
    const json = c.toJSON()
    json.tenant = 'evil'
    const entries = c.entries()
    entries[0][1] = 'evil'
    c.keys().push('evil')
    assert.deepEqual(c.toJSON(), { purpose: 'billing', tenant: 'acme' })
    assert.equal(c.size, 2)
    // Properties added to the object are not pairs.
    c.extra = 'x'
    assert.equal(c.has('extra'), false)
    const ring = new Keyring()
    const { keyId } = ring.createKeySync()
    const blob = ring.encryptSync(keyId, Buffer.from('x'), c)
    assert.equal(ring.decryptSync(blob, PAIRS).toString(), 'x')
  })

  it('an object whose prototype claims the class is still a plain read (or refused)', () => {
    const ring = new Keyring()
    const { keyId } = ring.createKeySync()
    const fake = Object.create(EncryptionContext.prototype)
    fake.tenant = 'acme'
    // Not made by the constructor: no pairs of its own to trust, read as an object (refused:
    // its prototype is the class's, not a plain object's).
    assert.throws(() => ring.encryptSync(keyId, Buffer.from('x'), fake), TypeError)
    // Another class of the addon is not taken for a context.
    assert.throws(() => ring.encryptSync(keyId, Buffer.from('x'), ring), TypeError)
  })

  it('blobs made with a plain object open with the class, and the other way round', async () => {
    const ring = new Keyring()
    const { keyId } = ring.createKeySync()
    const pre = new EncryptionContext(PAIRS)
    const reordered = { purpose: 'billing', tenant: 'acme' }
    const a = ring.encryptSync(keyId, Buffer.from('a'), PAIRS)
    const b = ring.encryptSync(keyId, Buffer.from('b'), pre)
    assert.equal(ring.decryptSync(a, pre).toString(), 'a')
    assert.equal(ring.decryptSync(b, reordered).toString(), 'b')
    assert.equal((await ring.decrypt(a, pre)).toString(), 'a')
    assert.equal((await ring.decrypt(await ring.encrypt(keyId, Buffer.from('c'), pre), PAIRS)).toString(), 'c')
    assert.throws(() => ring.decryptSync(b, { tenant: 'acme' }), (e) => e.code === 'KP_INVALID_CIPHERTEXT')
    assert.throws(() => ring.decryptSync(a, new EncryptionContext({ tenant: 'acme' })), (e) => e.code === 'KP_INVALID_CIPHERTEXT')
    assert.throws(() => ring.decryptSync(a), (e) => e.code === 'KP_INVALID_CIPHERTEXT')
    // The empty class context is no context.
    const none = ring.encryptSync(keyId, Buffer.from('d'))
    assert.equal(ring.decryptSync(none, new EncryptionContext()).toString(), 'd')
  })

  it('the fast and the property-by-property readers agree on unusual strings', () => {
    const ring = new Keyring()
    const { keyId } = ring.createKeySync()
    const cases = [
      { 'a\uFFFD': 'b\uFFFD' },
      { '😀': '\u{10FFFF}', 'x\u0000y': '' },
      { 1: 'one', 0: 'zero', b: 'x' },
      { long: 'é'.repeat(4000) },
      Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`key${i}`, `value${i}`])),
    ]
    for (const pairs of cases) {
      const blob = ring.encryptSync(keyId, Buffer.from('x'), pairs)
      assert.equal(ring.decryptSync(blob, new EncryptionContext(pairs)).toString(), 'x')
      assert.deepEqual(new EncryptionContext(pairs).toJSON(), Object.fromEntries(Object.entries(pairs).sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))))
    }
    // 'a\uFFFD' is not 'a\uD800': only the exact context opens the blob.
    const blob = ring.encryptSync(keyId, Buffer.from('x'), { t: 'a\uFFFD' })
    assert.equal(thrown(() => ring.decryptSync(blob, { t: 'a\uD800' })).code, 'KP_INVALID_INPUT')
  })
})

describe('every API that takes a context takes the class', () => {
  const ring = new Keyring()
  const { keyId } = ring.createKeySync()
  const { keyId: other } = ring.createKeySync()
  const pre = new EncryptionContext(PAIRS)
  const pt = Buffer.from('table')
  // A blob bound to PAIRS (a data key's, whatever its plaintext), and one of `pt`.
  const bound = (blob) => {
    const plaintext = ring.decryptSync(blob, PAIRS)
    assert.throws(() => ring.decryptSync(blob), (e) => e.code === 'KP_INVALID_CIPHERTEXT')
    return plaintext
  }
  const opens = (blob) => assert.equal(bound(blob).toString(), pt.toString())
  const sealedWith = (ctx) => ring.encryptSync(keyId, pt, ctx)
  // [name, (ctx) => a blob bound to ctx, or a check made with ctx]
  const table = [
    ['encrypt', async (c) => opens(await ring.encrypt(keyId, pt, c))],
    ['encryptSync', (c) => opens(ring.encryptSync(keyId, pt, c))],
    ['decrypt', async (c) => assert.equal((await ring.decrypt(sealedWith(PAIRS), c)).toString(), 'table')],
    ['decryptSync', (c) => assert.equal(ring.decryptSync(sealedWith(PAIRS), c).toString(), 'table')],
    ['encryptIntoSync', (c) => {
      const out = Buffer.alloc(ring.ciphertextLength(keyId, pt.length))
      opens(out.subarray(0, ring.encryptIntoSync(keyId, pt, out, c)))
    }],
    ['decryptIntoSync', (c) => {
      const out = Buffer.alloc(pt.length)
      assert.equal(ring.decryptIntoSync(sealedWith(PAIRS), out, c), pt.length)
    }],
    ['reEncrypt (source)', async (c) => {
      const moved = await ring.reEncrypt(sealedWith(PAIRS), other, { sourceContext: c, destinationContext: PAIRS })
      opens(moved)
    }],
    ['reEncryptSync (destination)', (c) => opens(ring.reEncryptSync(sealedWith(PAIRS), other, { sourceContext: PAIRS, destinationContext: c }))],
    ['generateDataKey', async (c) => bound((await ring.generateDataKey(keyId, { context: c })).ciphertextBlob)],
    ['generateDataKeySync', (c) => bound(ring.generateDataKeySync(keyId, { context: c }).ciphertextBlob)],
    ['generateDataKeyWithoutPlaintext', async (c) => bound(await ring.generateDataKeyWithoutPlaintext(keyId, { context: c }))],
    ['generateDataKeyWithoutPlaintextSync', (c) => bound(ring.generateDataKeyWithoutPlaintextSync(keyId, { context: c }))],
    ['generateDataKeyPair', async (c) => bound((await ring.generateDataKeyPair(keyId, 'ECC_NIST_P256', c)).privateKeyCiphertextBlob)],
    ['generateDataKeyPairSync', (c) => bound(ring.generateDataKeyPairSync(keyId, 'ECC_NIST_P256', c).privateKeyCiphertextBlob)],
    ['generateDataKeyPairWithoutPlaintext', async (c) => bound((await ring.generateDataKeyPairWithoutPlaintext(keyId, 'ECC_NIST_P256', c)).privateKeyCiphertextBlob)],
    ['generateDataKeyPairWithoutPlaintextSync', (c) => bound(ring.generateDataKeyPairWithoutPlaintextSync(keyId, 'ECC_NIST_P256', c).privateKeyCiphertextBlob)],
    ['encryptMany(keyId, plaintexts, context)', async (c) => (await ring.encryptMany(keyId, [pt, pt], c)).forEach(opens)],
    ['encryptManySync(keyId, plaintexts, context)', (c) => ring.encryptManySync(keyId, [pt, pt], c).forEach(opens)],
    ['encryptMany(items)', async (c) => (await ring.encryptMany([{ keyId, plaintext: pt, context: c }, { keyId, plaintext: pt, context: c }])).forEach(opens)],
    ['encryptManySync(items)', (c) => ring.encryptManySync([{ keyId, plaintext: pt, context: c }]).forEach(opens)],
    ['decryptMany(blobs, context)', async (c) => assert.equal((await ring.decryptMany([sealedWith(PAIRS)], c))[0].toString(), 'table')],
    ['decryptManySync(blobs, context)', (c) => assert.equal(ring.decryptManySync([sealedWith(PAIRS)], c)[0].toString(), 'table')],
    ['decryptMany(items)', async (c) => assert.equal((await ring.decryptMany([{ blob: sealedWith(PAIRS), context: c }]))[0].toString(), 'table')],
    ['decryptManySync(items)', (c) => assert.equal(ring.decryptManySync([{ blob: sealedWith(PAIRS), context: c }])[0].toString(), 'table')],
    ['reEncryptMany', async (c) => (await ring.reEncryptMany([{ blob: sealedWith(PAIRS), destinationKeyId: other, sourceContext: c, destinationContext: c }])).forEach(opens)],
    ['reEncryptManySync', (c) => ring.reEncryptManySync([{ blob: sealedWith(PAIRS), destinationKeyId: other, sourceContext: c, destinationContext: c }]).forEach(opens)],
    ['generateDataKeyMany', async (c) => bound((await ring.generateDataKeyMany([{ keyId, context: c }]))[0].ciphertextBlob)],
    ['generateDataKeyManySync', (c) => bound(ring.generateDataKeyManySync([{ keyId, context: c }])[0].ciphertextBlob)],
    ['generateDataKeyWithoutPlaintextMany', async (c) => bound((await ring.generateDataKeyWithoutPlaintextMany([{ keyId, context: c }]))[0])],
    ['generateDataKeyWithoutPlaintextManySync', (c) => bound(ring.generateDataKeyWithoutPlaintextManySync([{ keyId, context: c }])[0])],
  ]
  for (const [name, run] of table) {
    it(name, async () => {
      await run(pre)
      await run(PAIRS)
    })
  }

  it('batch items mix the class, plain objects and no context, item by item', () => {
    const items = [
      { keyId, plaintext: pt, context: pre },
      { keyId, plaintext: pt, context: PAIRS },
      { keyId, plaintext: pt },
      { keyId, plaintext: pt, context: pre },
      { keyId, plaintext: pt, context: { '': 'x' } },
    ]
    const out = ring.encryptManySync(items)
    opens(out[0])
    opens(out[1])
    opens(out[3])
    assert.equal(ring.decryptSync(out[2]).toString(), 'table')
    assert.equal(out[4].code, 'KP_INVALID_INPUT')
    const back = ring.decryptManySync(out.slice(0, 4).map((blob, i) => ({ blob, context: i === 2 ? undefined : i % 2 ? pre : PAIRS })))
    assert.deepEqual(back.map((b) => b.toString()), ['table', 'table', 'table', 'table'])
  })
})
