/**
 * s3rver plus the bucket settings it lacks: `?policy`, `?encryption`, `?publicAccessBlock` and
 * `?ownershipControls` on a bucket (GET, PUT, DELETE) are answered here from an in-memory state per
 * bucket; every other request goes to s3rver's own listener.
 *
 * Behaviour, as real S3:
 * - GET of a setting never set: 404 with that setting's error code (NoSuchBucketPolicy,
 *   ServerSideEncryptionConfigurationNotFoundError, NoSuchPublicAccessBlockConfiguration,
 *   OwnershipControlsNotFoundError); of an unknown bucket: 404 NoSuchBucket.
 * - GET ?policy returns the policy JSON as stored; the XML settings return the XML document that
 *   was PUT (S3's request and response bodies have the same root element).
 * - PUT ?policy that is not JSON: 400 MalformedPolicy; PUT XML with the wrong root: 400 MalformedXML.
 *   PUT ?policy answers 204, the XML settings 200; DELETE answers 204.
 * - `denyRead(bucket, setting)` makes GET of that setting answer 403 AccessDenied, as for a caller
 *   without s3:GetBucketPolicy and the like; `notImplemented(bucket, setting)` makes it answer 501
 *   NotImplemented, as S3-compatible stores (MinIO, Ceph, ...) do for APIs they leave out.
 * No signature checks; needs NODE_OPTIONS=--openssl-legacy-provider like test/fakes/s3.ts.
 */
import {type IncomingMessage, type ServerResponse, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {S3Client} from '@aws-sdk/client-s3'
import S3rver from 's3rver'

import type {RecordedCall} from './aws-calls.js'
import {signingRegion} from './http.js'
import {TEST_ENV, testClient} from './s3.js'

export const SETTINGS = ['policy', 'encryption', 'publicAccessBlock', 'ownershipControls'] as const
export type Setting = (typeof SETTINGS)[number]

const NOT_FOUND: Record<Setting, {code: string; message: string}> = {
  policy: {code: 'NoSuchBucketPolicy', message: 'The bucket policy does not exist'},
  encryption: {
    code: 'ServerSideEncryptionConfigurationNotFoundError',
    message: 'The server side encryption configuration was not found',
  },
  publicAccessBlock: {
    code: 'NoSuchPublicAccessBlockConfiguration',
    message: 'The public access block configuration was not found',
  },
  ownershipControls: {code: 'OwnershipControlsNotFoundError', message: 'The bucket ownership controls were not found'},
}

const XML_ROOT: Record<Exclude<Setting, 'policy'>, string> = {
  encryption: 'ServerSideEncryptionConfiguration',
  publicAccessBlock: 'PublicAccessBlockConfiguration',
  ownershipControls: 'OwnershipControls',
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/'

/** Setting bodies in S3's own shapes, for seeding state without the SDK. */
export const settingXml = {
  encryption: (algorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse', kmsKeyId?: string) =>
    `<ServerSideEncryptionConfiguration xmlns="${S3_NS}"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>${algorithm}</SSEAlgorithm>${
      kmsKeyId ? `<KMSMasterKeyID>${kmsKeyId}</KMSMasterKeyID>` : ''
    }</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>${algorithm !== 'AES256'}</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`,
  publicAccessBlock: (flags: {
    BlockPublicAcls: boolean
    IgnorePublicAcls: boolean
    BlockPublicPolicy: boolean
    RestrictPublicBuckets: boolean
  }) =>
    `<PublicAccessBlockConfiguration xmlns="${S3_NS}">${Object.entries(flags)
      .map(([name, on]) => `<${name}>${on}</${name}>`)
      .join('')}</PublicAccessBlockConfiguration>`,
  ownershipControls: (ownership: 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter') =>
    `<OwnershipControls xmlns="${S3_NS}"><Rule><ObjectOwnership>${ownership}</ObjectOwnership></Rule></OwnershipControls>`,
}

export interface S3SettingsFake {
  endpoint: string
  /** A client configured the way `--s3-endpoint` configures the CLI's. */
  client: S3Client
  /** Environment for a CLI child process to reach this server. */
  env: Record<string, string>
  /** Sets (or, with undefined, removes) a setting's stored body directly. */
  set(bucket: string, setting: Setting, body: string | undefined): void
  get(bucket: string, setting: Setting): string | undefined
  denyRead(bucket: string, setting: Setting): void
  notImplemented(bucket: string, setting: Setting): void
  /** The settings requests this fake answered, as `METHOD bucket?setting`. */
  requests: string[]
  /** Every request, settings or not, as received (bodies left out). */
  calls: RecordedCall[]
  close(): Promise<void>
}

function sendError(res: ServerResponse, status: number, code: string, message: string, bucket: string): void {
  const requestId = Math.random().toString(16).slice(2, 18).toUpperCase()
  res.writeHead(status, {'content-type': 'application/xml', 'x-amz-request-id': requestId})
  res.end(
    `${XML_DECLARATION}<Error><Code>${code}</Code><Message>${message}</Message><BucketName>${bucket}</BucketName><RequestId>${requestId}</RequestId><HostId>fake</HostId></Error>`,
  )
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export async function startS3WithSettings(buckets: string[]): Promise<S3SettingsFake> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-settings-'))
  const s3rver = new S3rver({silent: true, directory, configureBuckets: buckets.map(name => ({name}))})
  // run() would start s3rver's own server; this one wraps its listener instead, so buckets are made here.
  await (s3rver as unknown as {configureBuckets(): Promise<void>}).configureBuckets()
  const store = (s3rver as unknown as {store: {getBucket(name: string): Promise<unknown>}}).store
  const passOn = s3rver.callback()
  const state = new Map<string, Map<Setting, string>>()
  const denied = new Set<string>()
  const unimplemented = new Set<string>()
  const requests: string[] = []
  const calls: RecordedCall[] = []
  const stateOf = (bucket: string) =>
    state.get(bucket) ?? state.set(bucket, new Map()).get(bucket) ?? new Map<Setting, string>()

  async function answer(req: IncomingMessage, res: ServerResponse, bucket: string, setting: Setting): Promise<void> {
    const method = req.method ?? 'GET'
    requests.push(`${method} ${bucket}?${setting}`)
    const body = method === 'PUT' ? await readBody(req) : ''
    if (!(await store.getBucket(bucket))) {
      sendError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', bucket)
      return
    }
    const settings = stateOf(bucket)
    if (unimplemented.has(`${bucket}?${setting}`)) {
      sendError(
        res,
        501,
        'NotImplemented',
        'A header you provided implies functionality that is not implemented',
        bucket,
      )
      return
    }
    if (method === 'GET') {
      if (denied.has(`${bucket}?${setting}`)) {
        sendError(res, 403, 'AccessDenied', 'Access Denied', bucket)
        return
      }
      const stored = settings.get(setting)
      if (stored === undefined) {
        sendError(res, 404, NOT_FOUND[setting].code, NOT_FOUND[setting].message, bucket)
        return
      }
      if (setting === 'policy') {
        res.writeHead(200, {'content-type': 'application/json'})
        res.end(stored)
      } else {
        res.writeHead(200, {'content-type': 'application/xml'})
        res.end(stored.startsWith('<?xml') ? stored : `${XML_DECLARATION}${stored}`)
      }

      return undefined
    }

    if (method === 'PUT') {
      if (setting === 'policy') {
        try {
          JSON.parse(body)
        } catch {
          sendError(res, 400, 'MalformedPolicy', "Policies must be valid JSON and the first byte must be '{'", bucket)
          return
        }
      } else if (!new RegExp(`<${XML_ROOT[setting]}[\\s>]`).test(body)) {
        sendError(
          res,
          400,
          'MalformedXML',
          'The XML you provided was not well-formed or did not validate against our published schema',
          bucket,
        )
        return
      }

      settings.set(setting, body)
      res.writeHead(setting === 'policy' ? 204 : 200)
      res.end()
      return undefined
    }

    if (method === 'DELETE') {
      settings.delete(setting)
      res.writeHead(204)
      res.end()
      return undefined
    }

    sendError(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', bucket)
  }

  const server = createServer((req, res) => {
    calls.push({method: req.method ?? 'GET', url: req.url ?? '/', body: '', region: signingRegion(req)})
    const url = new URL(req.url ?? '/', 'http://localhost')
    const path = url.pathname.split('/').filter(s => s !== '')
    const setting = SETTINGS.find(s => url.searchParams.has(s))
    const bucket = path[0]
    if (!setting || bucket === undefined || path.length !== 1) {
      passOn(req, res)
      return
    }

    answer(req, res, decodeURIComponent(bucket), setting).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'InternalError', String(error), bucket)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  const endpoint = `http://127.0.0.1:${port}`
  const client = testClient(endpoint)
  return {
    endpoint,
    client,
    env: TEST_ENV,
    set(bucket, setting, body) {
      if (body === undefined) stateOf(bucket).delete(setting)
      else stateOf(bucket).set(setting, body)
    },
    get: (bucket, setting) => state.get(bucket)?.get(setting),
    denyRead: (bucket, setting) => void denied.add(`${bucket}?${setting}`),
    notImplemented: (bucket, setting) => void unimplemented.add(`${bucket}?${setting}`),
    requests,
    calls,
    async close() {
      client.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) => server.close(error => (error ? reject(error) : resolve())))
      await rm(directory, {recursive: true, force: true})
    },
  }
}
