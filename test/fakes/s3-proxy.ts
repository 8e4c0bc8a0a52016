/**
 * A faulty S3 in front of s3rver (test/fakes/s3.ts), on a random loopback port. It plays what s3rver
 * does not: a bucket that lives in one region, S3's checks of the checksums sent with an upload, and
 * the failures a real network and a busy S3 produce.
 *
 * Behaviour:
 * - Every request body is read whole before anything is decided or forwarded: an upload that is cut
 *   or abandoned reaches s3rver never, so nothing is ever stored from it (PutObject is atomic).
 * - Regions: with `bucketRegion` set, a request signed (the SigV4 credential scope of its
 *   Authorization header) for another region is answered `301 PermanentRedirect` with
 *   `x-amz-bucket-region: <bucketRegion>`, as S3 answers on another region's endpoint; with
 *   `redirectAlways` every request is (an endpoint that cannot serve the bucket's region). The
 *   region a request is signed for is what tells the two "regions' endpoints" apart: with an endpoint
 *   override the SDK sends every region to the same host, and it changes only the signing region when
 *   it follows a redirect.
 * - Integrity: an upload whose `Content-MD5` or `x-amz-checksum-crc32` does not match the body
 *   received is answered `400 BadDigest` and not forwarded, as S3 does.
 * - Faults, each consumed by one request of its operation (`put` for PutObject, `list` for
 *   ListObjectsV2), in the order added; `always: true` keeps it for every request:
 *   `status` answers an S3 XML error (e.g. 503 SlowDown, 500 InternalError); `page` answers with a
 *   body of its own (a bare 429, an HTML 503), not S3's XML, as a gateway in front of S3 does; `cut`
 *   reads `afterBytes` of the body and destroys the connection; `hold` reads the request and never
 *   answers; `corrupt` flips one byte of the body on the way in (then the checksum checks apply).
 * - `requests` records each request: operation, key, signing region and what became of it.
 */
import {createHash} from 'node:crypto'
import {type IncomingMessage, type ServerResponse, createServer, request as httpRequest} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {crc32} from 'node:zlib'

export type Operation = 'put' | 'list' | 'other'

export type Fault =
  | {kind: 'status'; status: number; code: string; always?: boolean}
  | {kind: 'page'; status: number; body: string; contentType?: string; always?: boolean}
  | {kind: 'cut'; afterBytes: number; always?: boolean}
  | {kind: 'hold'; always?: boolean}
  | {kind: 'corrupt'; always?: boolean}

export interface ProxiedRequest {
  operation: Operation
  method: string
  key: string
  region: string | undefined
  attempt: string | undefined
  outcome: 'forwarded' | 'redirected' | 'bad-digest' | Fault['kind']
  /** The status s3rver answered, for a forwarded request. */
  status?: number
}

export interface S3ProxyOptions {
  target: string
  bucketRegion?: string
  redirectAlways?: boolean
}

export class S3Proxy {
  readonly requests: ProxiedRequest[] = []
  private readonly faults: Record<Operation, Fault[]> = {put: [], list: [], other: []}
  private readonly sockets = new Set<Socket>()

  private constructor(
    private readonly options: S3ProxyOptions,
    private readonly server: ReturnType<typeof createServer>,
    readonly endpoint: string,
  ) {}

  static async start(options: S3ProxyOptions): Promise<S3Proxy> {
    const server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as AddressInfo
    const proxy = new S3Proxy(options, server, `http://127.0.0.1:${port}`)
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void proxy.handle(req, res)
    })
    server.on('connection', (socket: Socket) => {
      proxy.sockets.add(socket)
      socket.on('close', () => proxy.sockets.delete(socket))
    })
    return proxy
  }

  addFault(operation: Operation, fault: Fault): void {
    this.faults[operation].push(fault)
  }

  clearFaults(): void {
    for (const list of Object.values(this.faults)) list.length = 0
  }

  /** Successful uploads, by key, with the region each was signed for. */
  get stored(): ProxiedRequest[] {
    return this.requests.filter(r => r.operation === 'put' && r.outcome === 'forwarded' && r.status === 200)
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy')
    const operation: Operation =
      req.method === 'PUT' && !url.searchParams.has('uploadId')
        ? 'put'
        : req.method === 'GET' && url.searchParams.get('list-type') === '2'
          ? 'list'
          : 'other'
    const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1]
    const attempt = typeof req.headers['amz-sdk-request'] === 'string' ? req.headers['amz-sdk-request'] : undefined
    const record: ProxiedRequest = {
      operation,
      method: req.method ?? '',
      key: decodeURIComponent(url.pathname.split('/').slice(2).join('/')),
      region,
      attempt,
      outcome: 'forwarded',
    }
    this.requests.push(record)
    const fault = this.takeFault(operation)

    if (fault?.kind === 'cut') {
      record.outcome = 'cut'
      let received = 0
      req.on('data', (chunk: Buffer) => {
        received += chunk.length
        if (received >= fault.afterBytes) req.socket.destroy()
      })
      req.on('end', () => req.socket.destroy())
      return
    }

    const body = await readBody(req)
    if (fault?.kind === 'hold') {
      record.outcome = 'hold'
      return
    }

    const {bucketRegion, redirectAlways} = this.options
    if (bucketRegion && (redirectAlways || region !== bucketRegion)) {
      record.outcome = 'redirected'
      sendError(
        res,
        301,
        'PermanentRedirect',
        'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
        {'x-amz-bucket-region': bucketRegion},
      )
      return
    }

    if (fault?.kind === 'status') {
      record.outcome = 'status'
      sendError(res, fault.status, fault.code, `Injected ${fault.code}`)
      return
    }

    if (fault?.kind === 'page') {
      record.outcome = 'page'
      res.writeHead(fault.status, {
        'content-length': String(Buffer.byteLength(fault.body)),
        ...(fault.contentType ? {'content-type': fault.contentType} : {}),
      })
      res.end(fault.body)
      return
    }

    if (fault?.kind === 'corrupt' && body.length > 0) {
      record.outcome = 'corrupt'
      const middle = Math.floor(body.length / 2)
      body[middle] = (body[middle] as number) ^ 0xff
    }

    const md5 = req.headers['content-md5']
    const crc = req.headers['x-amz-checksum-crc32']
    const crcOfBody = Buffer.alloc(4)
    crcOfBody.writeUInt32BE(crc32(body))
    if (
      (typeof md5 === 'string' && md5 !== createHash('md5').update(body).digest('base64')) ||
      (typeof crc === 'string' && crc !== crcOfBody.toString('base64'))
    ) {
      record.outcome = 'bad-digest'
      sendError(
        res,
        400,
        'BadDigest',
        'The Content-MD5 or checksum value that you specified did not match what the server received.',
      )
      return
    }

    await this.forward(req, body, res, record)
  }

  private takeFault(operation: Operation): Fault | undefined {
    const list = this.faults[operation]
    const fault = list[0]
    if (fault && !fault.always) list.shift()
    return fault
  }

  private async forward(
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
    record: ProxiedRequest,
  ): Promise<void> {
    const target = new URL(this.options.target)
    // The Host header stays the proxy's: it is part of what the client signed, and s3rver checks the signature.
    const upstream = httpRequest({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: {...req.headers, 'content-length': String(body.length)},
    })
    await new Promise<void>(resolve => {
      upstream.on('response', answer => {
        record.status = answer.statusCode
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
        answer.on('end', resolve)
      })
      upstream.on('error', () => {
        res.destroy()
        resolve()
      })
      upstream.end(body)
    })
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>proxy</RequestId></Error>`
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  })
  res.end(body)
}
