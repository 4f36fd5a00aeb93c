'use strict'
// Worker threads: each loads the addon; each uses a keyring of its own, and all use one shared
// keyring (attached by handle) whose blobs every thread can decrypt.
const { it } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { Worker } = require('node:worker_threads')
const { Keyring } = require('./helpers')

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads')
const { Keyring } = require(${JSON.stringify(path.join(__dirname, '..'))})
;(async () => {
  const shared = Keyring.attach(workerData.handle)
  const own = new Keyring()
  const mine = own.createKeySync()
  const out = []
  for (let i = 0; i < 50; i++) {
    const msg = Buffer.from(\`worker \${workerData.n} message \${i}\`)
    const a = await own.encrypt(mine.keyId, msg, { i: String(i) })
    if (!own.decryptSync(a, { i: String(i) }).equals(msg)) throw new Error('own round trip')
    out.push(await shared.encrypt('alias/shared', msg))
  }
  const sig = await shared.sign('signer', Buffer.from('hi'), 'ECDSA_SHA_256')
  parentPort.postMessage({ blobs: out, sig, decrypted: shared.decryptSync(workerData.fromMain).toString() })
})().catch((e) => { throw e })
`

it('several worker_threads load the addon and use keyrings', async () => {
  const ring = new Keyring()
  ring.createKeySync({ alias: 'alias/shared' })
  ring.createKeySync({ keyId: 'signer', keySpec: 'ECC_NIST_P256' })
  const handle = ring.shareHandle()
  assert.match(handle, /^[0-9a-f]{32}$/)
  const fromMain = ring.encryptSync('alias/shared', Buffer.from('from main'))
  const results = await Promise.all(
    [0, 1, 2, 3].map(
      (n) =>
        new Promise((resolve, reject) => {
          const w = new Worker(workerSource, { eval: true, workerData: { handle, n, fromMain } })
          w.once('message', resolve)
          w.once('error', reject)
          w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)))
        }),
    ),
  )
  results.forEach((r, n) => {
    assert.equal(r.decrypted, 'from main')
    assert.equal(r.blobs.length, 50)
    r.blobs.forEach((b, i) => {
      assert.equal(ring.decryptSync(Buffer.from(b)).toString(), `worker ${n} message ${i}`)
    })
    assert.equal(ring.verifySync('signer', Buffer.from('hi'), 'ECDSA_SHA_256', Buffer.from(r.sig)), true)
  })
  // The shared keyring counted every worker's encryptions.
  assert.ok(ring.describeKeySync('alias/shared').versions[0].encryptions >= 201)
  assert.throws(() => Keyring.attach('0'.repeat(32)), { code: 'KP_NOT_FOUND' })
})
