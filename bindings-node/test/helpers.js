'use strict'
// Shared by the tests: the addon under test, and small helpers.
const assert = require('node:assert/strict')
const { Keyring } = require('..')

/** Asserts that `fn` throws (or `promise` rejects with) an Error whose `code` is `code`. */
function throwsCode(fn, code, name = 'Error') {
  assert.throws(fn, (e) => {
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`)
    assert.equal(e.name, name)
    assert.ok(e instanceof Error)
    return true
  })
}

async function rejectsCode(promise, code, name = 'Error') {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`)
    assert.equal(e.name, name)
    return true
  })
}

module.exports = { Keyring, throwsCode, rejectsCode }
