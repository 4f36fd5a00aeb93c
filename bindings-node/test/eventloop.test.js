'use strict'
// The event loop stays responsive while 100 asynchronous RSA-2048 signatures run: their work
// is on libuv's thread pool, so a timer keeps firing meanwhile.
const { it } = require('node:test')
const assert = require('node:assert/strict')
const { Keyring } = require('./helpers')

it('a timer keeps firing while 100 async RSA-2048 signs run', async () => {
  const ring = new Keyring()
  const k = ring.createKeySync({ keySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY' })
  const message = Buffer.from('responsive')
  let ticks = 0
  const timer = setInterval(() => ticks++, 1)
  try {
    const signatures = await Promise.all(
      Array.from({ length: 100 }, () => ring.sign(k.keyId, message, 'RSASSA_PSS_SHA_256')),
    )
    assert.equal(signatures.length, 100)
    for (const s of signatures) assert.equal(s.length, 256)
  } finally {
    clearInterval(timer)
  }
  // 100 RSA-2048 signatures take tens of milliseconds at the very least, so a 1 ms timer fires
  // while they are outstanding. Signing on the loop would finish them all, and settle every
  // promise, before any timer could run. (How often it fires depends on the machine's load, so
  // only its firing at all is asserted.)
  assert.ok(ticks > 0, `the timer fired ${ticks} times`)

  // The same work done synchronously blocks the loop: no tick can fire during it.
  let blockedTicks = 0
  const blocker = setInterval(() => blockedTicks++, 1)
  for (let i = 0; i < 20; i++) ring.signSync(k.keyId, message, 'RSASSA_PSS_SHA_256')
  const during = blockedTicks
  clearInterval(blocker)
  assert.equal(during, 0)
})
