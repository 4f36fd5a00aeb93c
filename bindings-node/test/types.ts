// Type-checked with `tsc -p test` against the generated index.d.ts (never run).
import { Keyring } from '..'
import type { DataKey, KeyMetadata, KeyplaneError, KeyplaneErrorCode, PublicKey } from '..'

async function example(): Promise<void> {
  const ring = new Keyring({ encryptionBudget: 2 ** 32, threads: 0, maxBatchItems: 1000 })
  const meta: KeyMetadata = await ring.createKey({ keySpec: 'SYMMETRIC_DEFAULT', alias: 'alias/orders', rotationPeriod: { days: 365 } })
  const created: Date = meta.creationDate
  const blob: Buffer = await ring.encrypt('alias/orders', Buffer.from('card'), { tenant: 'acme' })
  const plain: Buffer = ring.decryptSync(blob, { tenant: 'acme' })
  const dk: DataKey = await ring.generateDataKey(meta.keyId, { keySpec: 'AES_128', context: { a: 'b' } })
  const ok: boolean = await ring.verifyMac('k', new Uint8Array(1), 'HMAC_SHA_256', dk.plaintext)
  const signed: Buffer = ring.signSync('k', plain, 'ECDSA_SHA_256', 'DIGEST')
  const valid: boolean = ring.verifySync('k', plain, 'ECDSA_SHA_256', signed)
  const pk: PublicKey = await ring.getPublicKey('k')
  const pem: string = pk.publicKeyPem
  const results = await ring.encryptMany([{ keyId: 'k', plaintext: plain, context: { x: 'y' } }])
  for (const r of results) {
    if (r instanceof Error) {
      const code: KeyplaneErrorCode = r.code
      void code
    } else {
      const b: Buffer = r
      void b
    }
  }
  const bools: Array<boolean | KeyplaneError> = ring.verifyManySync([{ keyId: 'k', message: plain, signingAlgorithm: 'ECDSA_SHA_256', signature: signed }])
  const handle: string = ring.shareHandle()
  const other: Keyring = Keyring.attach(handle)
  void [created, ok, valid, pem, bools, other]
}

// Wrong types do not compile.
// @ts-expect-error plaintext must be bytes
void new Keyring().encryptSync('k', 'not bytes')
// @ts-expect-error context values are strings
void new Keyring().encryptSync('k', Buffer.alloc(1), { n: 1 })
void example
