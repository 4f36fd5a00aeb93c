// Type-checked with `tsc -p test` against the generated index.d.ts (never run).
import { EncryptionContext, Keyring } from '..'
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
  const ctx = new EncryptionContext(new Map([['tenant', 'acme']]))
  const size: number = ctx.size
  const tenant: string | undefined = ctx.get('tenant')
  const pairs: Array<[string, string]> = ctx.entries()
  const json: Record<string, string> = ctx.toJSON()
  void [size, tenant, pairs, json, ring.decryptSync(ring.encryptSync('k', plain, ctx), ctx)]
  await ring.reEncrypt(blob, 'k', { sourceContext: ctx, destinationContext: { a: 'b' } })
  const results = await ring.encryptMany([{ keyId: 'k', plaintext: plain, context: { x: 'y' } }, { keyId: 'k', plaintext: plain, context: ctx }])
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

// Sealed records, the store, imported material and the audit trail.
import { LocalRootKey, inspectSealed, reseal, resealSync, verifyAuditLog, verifyAuditLogSync } from '..'
import type { AuditEvent, AuditLogBrokenError, AuditLogReport, ImportParameters, KeyLastUsage, LoadProblem, SealedRecordInfo } from '..'

async function survive(): Promise<void> {
  const material: Buffer = LocalRootKey.generateMaterial()
  const root = new LocalRootKey('root-2026', material)
  const rootId: string = root.rootId
  const events: AuditEvent[] = []
  const ring = new Keyring({ audit: { callback: (e: AuditEvent) => { events.push(e) }, context: 'keysOnly', backPressure: 'drop', queueCapacity: 64 } })
  const record: Buffer = await ring.exportSealed('k', root)
  const info: SealedRecordInfo = inspectSealed(record)
  const moved: Buffer = resealSync(record, root, new LocalRootKey('root-2027', LocalRootKey.generateMaterial()))
  const again: Buffer = await reseal(moved, root, root)
  const meta: KeyMetadata = ring.importSealedSync(record, root)
  const stored: Keyring = await Keyring.open('/tmp/store', root, { encryptionBudget: 1000 })
  const problems: LoadProblem[] = Keyring.openSync('/tmp/store', root).loadProblems
  const code: KeyplaneErrorCode = problems[0].error.code
  const external = ring.createKeySync({ origin: 'EXTERNAL' })
  const params: ImportParameters = await ring.getParametersForImport(external.keyId, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_3072')
  const until: Date = params.parametersValidTo
  await ring.importKeyMaterial(external.keyId, params.importToken, Buffer.alloc(1), { validTo: new Date() })
  ring.deleteImportedKeyMaterialSync(external.keyId)
  const validTo: Date | undefined = ring.describeKeySync(external.keyId).validTo
  const billing: Keyring = ring.withCaller('billing')
  const caller: string | null = billing.caller
  await ring.flushAudit()
  ring.flushAuditSync()
  const counters: number = ring.auditDropped + ring.auditFailures
  const usage: KeyLastUsage = ring.keyLastUsageSync('k')
  const last: Date | null = usage.lastUsed
  const encrypts: number | undefined = usage.counts.Encrypt
  const fileRing = new Keyring({ audit: { logDir: '/tmp/log', auditKey: Buffer.alloc(32), maxFileBytes: 1 << 20, checkpointEvery: 100 } })
  const report: AuditLogReport = await verifyAuditLog('/tmp/log', Buffer.alloc(32))
  const closed: boolean = verifyAuditLogSync(['/tmp/log/audit-000001.jsonl'], Buffer.alloc(32)).closed
  const e = events[0]
  const eventKey: string | null = e.keyId
  const eventCode: KeyplaneErrorCode | null = e.errorCode
  try {
    verifyAuditLogSync('/tmp/log', Buffer.alloc(32))
  } catch (err) {
    const broken = err as AuditLogBrokenError
    const where: string = `${broken.file}:${broken.line}: ${broken.reason}`
    void where
  }
  void [rootId, info, again, meta, stored, code, until, validTo, caller, counters, last, encrypts, fileRing, report, closed, eventKey, eventCode]
}

// Same-key batches, caller-owned outputs and the size helpers.
function manyAndInto(ring: Keyring): void {
  const blobs: Array<Buffer | KeyplaneError> = ring.encryptManySync('k', [Buffer.from('a'), new Uint8Array(2)], { tenant: 'acme' })
  const back: Promise<Array<Buffer | KeyplaneError>> = ring.decryptMany([Buffer.alloc(1)], { tenant: 'acme' })
  const items: Array<Buffer | KeyplaneError> = ring.decryptManySync([{ blob: Buffer.alloc(1) }])
  const out = Buffer.alloc(ring.ciphertextLength('k', 1 << 20))
  const n: number = ring.encryptIntoSync('k', Buffer.alloc(1 << 20), out, { tenant: 'acme' })
  const m: number = ring.decryptIntoSync(out.subarray(0, n), Buffer.alloc(ring.plaintextLength(out)))
  void [blobs, back, items, m]
}
void manyAndInto
// @ts-expect-error the same-key form takes an array of plaintexts
void new Keyring().encryptManySync('k', Buffer.alloc(1))

// @ts-expect-error a root key is a LocalRootKey, not bytes
void new Keyring().exportSealedSync('k', Buffer.alloc(32))
// @ts-expect-error audit context names are fixed
void new Keyring({ audit: { callback: () => {}, context: 'keys_only' } })
void survive

// FIPS mode: which module the addon runs on.
import { fipsStatus } from '..'
import type { FipsStatus } from '..'
const fips: FipsStatus = fipsStatus()
const fipsMode: boolean = fips.fipsBuild && fips.fipsMode
const fipsModule: string = `${fips.module} ${fips.moduleVersion}`
const fipsBranch: number | null = fips.fipsBranch
void [fipsMode, fipsModule, fipsBranch]
// @ts-expect-error fipsBranch may be null
void (fips.fipsBranch satisfies number)
