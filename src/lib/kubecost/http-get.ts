/**
 * HTTP GET for the Kubecost client, on Node's own http/https modules: the body arrives as the
 * socket's Buffers, with no web-stream layer between (ky over fetch took about 1 CPU-s more on a
 * 180 MB day, its loading included: npm run bench). Each phase has its own timeout, reported by
 * code: connecting (TCP and TLS) `CONNECT_TIMEOUT`, waiting for the response head
 * `HEADERS_TIMEOUT`, a body that stops arriving `BODY_TIMEOUT`.
 */
import type {Agent as HttpAgentType, ClientRequest, IncomingMessage} from 'node:http'
import {Agent as HttpsAgent, request as httpsRequest} from 'node:https'
import {type LookupFunction, type Socket, isIP} from 'node:net'
import {type Readable, pipeline} from 'node:stream'
import {connect as tlsConnect} from 'node:tls'
import {createBrotliDecompress, createGunzip, createInflate, createZstdDecompress} from 'node:zlib'

// Not an ES import: building node:http's ES exports reads its lazy `WebSocket` export, which loads
// Node's bundled undici (~20-40 ms of every start-up) for nothing.
const {Agent: HttpAgent, request: httpRequest} = process.getBuiltinModule('node:http')

export const CONNECT_TIMEOUT = 'CONNECT_TIMEOUT'
export const HEADERS_TIMEOUT = 'HEADERS_TIMEOUT'
export const BODY_TIMEOUT = 'BODY_TIMEOUT'
/** A plain-HTTP request reached a port that speaks TLS. */
export const PLAIN_HTTP_TO_TLS = 'PLAIN_HTTP_TO_TLS'

export class HttpTimeoutError extends Error {
  constructor(
    readonly code: typeof CONNECT_TIMEOUT | typeof HEADERS_TIMEOUT | typeof BODY_TIMEOUT,
    ms: number,
  ) {
    const what = {CONNECT_TIMEOUT: 'connect', HEADERS_TIMEOUT: 'headers', BODY_TIMEOUT: 'body'}[code]
    super(`${what} timeout (${ms} ms)`)
    this.name = 'HttpTimeoutError'
  }
}

export class PlainHttpToTlsError extends Error {
  readonly code = PLAIN_HTTP_TO_TLS

  constructor(cause: Error) {
    super('the port speaks TLS; the request was plain HTTP', {cause})
    this.name = 'PlainHttpToTlsError'
  }
}

export interface HttpGetterOptions {
  connectTimeoutMs: number
  /** The longest wait for the response head, and the longest pause in its body. */
  readTimeoutMs: number
  /** PEM bundle to trust instead of the system roots. */
  ca?: string
  rejectUnauthorized: boolean
  lookup?: LookupFunction
}

export interface HttpGetResponse {
  readonly status: number
  readonly statusText: string
  /** The header's value; repeated headers joined with ", ". */
  header(name: string): string | undefined
  /** The body, decoded as its content-encoding says (gzip, deflate, br, zstd). */
  readonly body: AsyncIterable<Buffer>
  /** Stops reading the body and closes the connection. */
  discard(): void
}

type Decoder = () => NodeJS.ReadWriteStream

const DECODERS: Record<string, Decoder> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
  zstd: createZstdDecompress,
}

/** GETs over keep-alive connections, one pool per getter; `close` ends them. */
export class HttpGetter {
  private readonly http: HttpAgentType
  private readonly https: HttpsAgent

  constructor(private readonly options: HttpGetterOptions) {
    const common = {keepAlive: true, ...(options.lookup ? {lookup: options.lookup} : {})}
    this.http = new HttpAgent(common)
    this.https = new HttpsAgent({
      ...common,
      ...(options.ca === undefined ? {} : {ca: options.ca}),
      rejectUnauthorized: options.rejectUnauthorized,
    })
  }

  /**
   * Resolves at the response head; rejects with the socket's, TLS's or a timeout's error, or with a
   * PlainHttpToTlsError (its `code` says which).
   */
  async get(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<HttpGetResponse> {
    signal.throwIfAborted()
    const {connectTimeoutMs, readTimeoutMs} = this.options
    const secure = url.protocol === 'https:'
    const request = secure ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const req: ClientRequest = request(url, {method: 'GET', agent: secure ? this.https : this.http, headers})
      let response: IncomingMessage | undefined
      let body: Readable | undefined
      const fail = (error: Error) => (body ?? response ?? req).destroy(error)
      const connectTimer = setTimeout(
        () => fail(new HttpTimeoutError(CONNECT_TIMEOUT, connectTimeoutMs)),
        connectTimeoutMs,
      )
      const onAbort = () => fail(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
      signal.addEventListener('abort', onAbort, {once: true})

      const connected = () => {
        clearTimeout(connectTimer)
        // The socket's idle timer, until the head arrives; the body has its own (timedBody).
        req.setTimeout(readTimeoutMs, () => fail(new HttpTimeoutError(HEADERS_TIMEOUT, readTimeoutMs)))
      }

      req.once('socket', (socket: Socket) => {
        // A new socket is still connecting (DNS, TCP, then TLS); a kept-alive one is ready.
        if (!socket.connecting) connected()
        else socket.once(secure ? 'secureConnect' : 'connect', connected)
      })
      req.on('error', error => {
        clearTimeout(connectTimer)
        if (secure || response) reject(withTlsCode(error))
        else
          void this.plainHttpFailure(url, error, signal)
            .catch(() => error)
            .then(reject)
      })
      req.once('close', () => {
        clearTimeout(connectTimer)
        signal.removeEventListener('abort', onAbort)
      })
      req.once('response', (res: IncomingMessage) => {
        clearTimeout(connectTimer)
        req.setTimeout(0)
        response = res
        body = decoded(res)
        const stream = body
        resolve({
          status: res.statusCode ?? 0,
          // Node reads the reason phrase as latin1; its bytes are UTF-8 when they are anything.
          statusText: Buffer.from(res.statusMessage ?? '', 'latin1').toString('utf8'),
          header(name) {
            const value = res.headers[name.toLowerCase()]
            return Array.isArray(value) ? value.join(', ') : value
          },
          body: timedBody(stream, readTimeoutMs),
          discard: () => {
            stream.destroy()
            res.destroy()
          },
        })
      })
      req.end()
    })
  }

  close(): void {
    this.http.destroy()
    this.https.destroy()
  }

  /**
   * A plain-HTTP request that failed before its answer: a TLS server either answers it with a TLS
   * record (an alert) or closes the connection, which a restarting server does too. The first is
   * told by its bytes; the second by asking the port for a TLS handshake.
   */
  private async plainHttpFailure(url: URL, error: Error, signal: AbortSignal): Promise<Error> {
    if (startsWithTlsRecord(error)) return new PlainHttpToTlsError(error)
    const {code} = error as {code?: unknown}
    const unanswered = code === 'ECONNRESET' || (typeof code === 'string' && code.startsWith('HPE_'))
    if (unanswered && !signal.aborted && (await this.speaksTls(url, signal))) return new PlainHttpToTlsError(error)
    return error
  }

  /**
   * Whether the port of `url` speaks TLS: a handshake completes, or is refused with a TLS alert (a
   * server with other TLS versions than ours). The certificate does not matter here, and no request
   * is sent over it.
   */
  private async speaksTls(url: URL, signal: AbortSignal): Promise<boolean> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
    return new Promise(resolve => {
      const socket = tlsConnect({
        host,
        port: Number(url.port || 80),
        ...(isIP(host) ? {} : {servername: host}),
        rejectUnauthorized: false,
        ...(this.options.lookup ? {lookup: this.options.lookup} : {}),
      })
      const done = (answer: boolean) => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        socket.destroy()
        resolve(answer)
      }

      const timer = setTimeout(() => done(false), this.options.connectTimeoutMs)
      const onAbort = () => done(false)
      signal.addEventListener('abort', onAbort, {once: true})
      socket.once('secureConnect', () => done(true))
      socket.once('error', (error: Error) => {
        const {code} = withTlsCode(error) as {code?: unknown}
        done(typeof code === 'string' && TLS_ANSWER.test(code))
      })
    })
  }
}

/** OpenSSL's codes for a handshake the server answered in TLS: an alert, or a version we do not allow. */
const TLS_ANSWER = /ALERT|UNSUPPORTED_PROTOCOL/

/**
 * The answer began with a TLS record: an alert (21) or a handshake (22), then major version 3. Node's
 * HTTP parser fails on its first byte and keeps the bytes it read.
 */
function startsWithTlsRecord(error: Error): boolean {
  const {rawPacket, bytesParsed} = error as {rawPacket?: unknown; bytesParsed?: unknown}
  return (
    Buffer.isBuffer(rawPacket) &&
    (bytesParsed === undefined || bytesParsed === 0) &&
    (rawPacket[0] === 0x15 || rawPacket[0] === 0x16) &&
    rawPacket[1] === 0x03
  )
}

/**
 * The body's chunks, failing with BODY_TIMEOUT when the next one takes longer than `ms` to come. Only
 * the wait counts: while the consumer is busy with a chunk, nothing is read and no timer runs (a
 * socket idle timer would fire while a slow disk, or a decoder expanding what already arrived, holds
 * the reading back).
 */
async function* timedBody(stream: Readable, ms: number): AsyncGenerator<Buffer> {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  try {
    for (;;) {
      const timer = setTimeout(() => stream.destroy(new HttpTimeoutError(BODY_TIMEOUT, ms)), ms)
      let next: IteratorResult<Buffer>
      try {
        next = await chunks.next()
      } finally {
        clearTimeout(timer)
      }

      if (next.done) return
      yield next.value
    }
  } finally {
    await chunks.return?.()
  }
}

/**
 * Node reports a TLS record error met while writing (an https URL that reached a plain-HTTP port, an
 * alert from a server that offers no TLS version we allow) as EPROTO, with OpenSSL's reason only in
 * the message ("tlsv1 alert protocol version"): give it the code Node uses when reading.
 */
function withTlsCode(error: Error): Error {
  const reason = /SSL routines:[^:]*:([a-z0-9 ]+):/.exec(error.message)?.[1]
  if ((error as {code?: unknown}).code === 'EPROTO' && reason)
    Object.assign(error, {code: `ERR_SSL_${reason.toUpperCase().replaceAll(' ', '_')}`})
  return error
}

/**
 * The body through the decoders its content-encoding names, last applied first. A coding this does
 * not know leaves the body as it is, as fetch does: the envelope parser then says it is not JSON.
 */
function decoded(res: IncomingMessage): Readable {
  const codings = (res.headers['content-encoding'] ?? '')
    .split(',')
    .map(c => c.trim().toLowerCase())
    .filter(c => c && c !== 'identity')
    .reverse()
  const decoders: NodeJS.ReadWriteStream[] = []
  for (const coding of codings) {
    const decoder = DECODERS[coding]
    if (!decoder) break
    decoders.push(decoder())
  }

  if (decoders.length === 0) return res
  return pipeline([res, ...decoders], () => {}) as unknown as Readable
}
