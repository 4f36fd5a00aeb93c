// The package works from ES modules: named and default imports.
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

import { Keyring } from '../index.js'
import pkg from '../index.js'

it('imports from ESM', async () => {
  assert.equal(pkg.Keyring, Keyring)
  assert.equal(createRequire(import.meta.url)('..').Keyring, Keyring)
  const ring = new Keyring()
  const { keyId } = await ring.createKey()
  const blob = await ring.encrypt(keyId, new TextEncoder().encode('esm'))
  assert.equal((await ring.decrypt(blob)).toString(), 'esm')
})
