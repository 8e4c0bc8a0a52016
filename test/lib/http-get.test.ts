import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import {type AddressInfo, type Socket, createServer as createTcpServer} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {brotliCompressSync, deflateSync, gzipSync, zstdCompressSync} from 'node:zlib'

import {
  BODY_TIMEOUT,
  CONNECT_TIMEOUT,
  HEADERS_TIMEOUT,
  type HttpGetResponse,
  HttpGetter,
  PLAIN_HTTP_TO_TLS,
} from '../../src/lib/kubecost/http-get.js'

const TLS_DIR = new URL('../fixtures/tls/', import.meta.url)

const BODY = JSON.stringify({code: 200, data: [{a: {name: 'a', text: 'ü€😀'.repeat(5000)}}]})
const ENCODE: Record<string, (b: Buffer) => Buffer> = {
  gzip: b => gzipSync(b),
  deflate: b => deflateSync(b),
  br: b => brotliCompressSync(b),
  zstd: b => zstdCompressSync(b),
}

async function text(response: HttpGetResponse): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of response.body) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

/** A getter whose timeouts a busy machine never reaches: the tests that need one to pass set their own. */
function getter(overrides: Partial<ConstructorParameters<typeof HttpGetter>[0]> = {}): HttpGetter {
  return new HttpGetter({connectTimeoutMs: 10_000, readTimeoutMs: 10_000, rejectUnauthorized: true, ...overrides})
}

/**
 * A read timeout far above the scheduling noise of a busy machine (timers measured up to 0.25 s late
 * with both CPUs taken), for the tests where a response must come in time, or a timeout must not pass.
 */
const READ_TIMEOUT_MS = 1000

/** Runs `use` with a getter, closed after. */
async function withGetter(
  overrides: Partial<ConstructorParameters<typeof HttpGetter>[0]>,
  use: (http: HttpGetter) => Promise<void>,
): Promise<void> {
  const http = getter(overrides)
  try {
    await use(http)
  } finally {
    http.close()
  }
}

describe('HttpGetter', () => {
  let server: Server
  let base: URL
  let connections = 0
  const sockets = new Set<Socket>()
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/plain': (_req, res) => res.end(BODY),
    '/encoded': (req, res) => {
      const codings = (new URL(req.url ?? '', base).searchParams.get('as') ?? '').split(',').filter(Boolean)
      let body: Buffer = Buffer.from(BODY)
      for (const coding of codings) body = ENCODE[coding]?.(body) ?? body
      res.writeHead(200, {'content-encoding': codings.join(', ')}).end(body)
    },
    '/repeated': (_req, res) => {
      res.setHeader('x-many', ['one', 'two'])
      res.end('ok')
    },
    '/silent': () => {},
    '/stall-body': (_req, res) => {
      res.writeHead(200, {'content-length': '100'})
      res.write('{"code":200,')
    },
    '/endless': (_req, res) => {
      const timer = setInterval(() => res.write(' '.repeat(1024)), 5)
      res.on('close', () => clearInterval(timer))
    },
  }

  before(async () => {
    server = createServer((req, res) => routes[new URL(req.url ?? '', 'http://x').pathname]?.(req, res))
    server.on('connection', socket => {
      connections++
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  })
  after(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })

  const signal = () => new AbortController().signal

  it('gives status, headers and body, and keeps the connection for the next request', async () => {
    await withGetter({}, async http => {
      const before = connections
      for (let i = 0; i < 3; i++) {
        const response = await http.get(new URL('/plain', base), {accept: 'application/json'}, signal())
        assert.equal(response.status, 200)
        assert.equal(response.statusText, 'OK')
        assert.equal(response.header('Content-Length'), String(Buffer.byteLength(BODY)))
        assert.equal(await text(response), BODY)
      }

      assert.equal(connections - before, 1)
      const repeated = await http.get(new URL('/repeated', base), {}, signal())
      assert.equal(repeated.header('x-many'), 'one, two')
      assert.equal(repeated.header('x-none'), undefined)
      await text(repeated)
    })
  })

  for (const codings of ['gzip', 'deflate', 'br', 'zstd', 'gzip,br']) {
    it(`decodes a body with content-encoding ${codings}`, async () => {
      await withGetter({}, async http => {
        const response = await http.get(new URL(`/encoded?as=${codings}`, base), {}, signal())
        assert.equal(await text(response), BODY)
      })
    })
  }

  it('passes a body with a coding it does not know through as it is', async () => {
    await withGetter({}, async http => {
      const response = await http.get(new URL('/encoded?as=compress', base), {}, signal())
      assert.equal(response.header('content-encoding'), 'compress')
      assert.equal(await text(response), BODY)
    })
  })

  it('fails a body labelled gzip that is not with zlib’s code', async () => {
    routes['/liar'] = (_req, res) => res.writeHead(200, {'content-encoding': 'gzip'}).end('not gzip at all')
    await withGetter({}, async http => {
      const response = await http.get(new URL('/liar', base), {}, signal())
      await assert.rejects(text(response), {code: 'Z_DATA_ERROR'})
    })
  })

  it('times out a response head that never comes, then a body that stops, each with its own code', async () => {
    await withGetter({readTimeoutMs: READ_TIMEOUT_MS}, async http => {
      const started = performance.now()
      await assert.rejects(http.get(new URL('/silent', base), {}, signal()), {code: HEADERS_TIMEOUT})
      assert.ok(performance.now() - started >= READ_TIMEOUT_MS - 10)
      const response = await http.get(new URL('/stall-body', base), {}, signal())
      await assert.rejects(text(response), {code: BODY_TIMEOUT})
    })
  })

  it('does not time out a body that keeps arriving for longer than the read timeout', async () => {
    await withGetter({readTimeoutMs: READ_TIMEOUT_MS}, async http => {
      // A write every 5 ms, read for twice the read timeout.
      const response = await http.get(new URL('/endless', base), {}, signal())
      let bytes = 0
      let readLongEnough = false
      const started = performance.now()
      for await (const chunk of response.body) {
        bytes += chunk.length
        readLongEnough = performance.now() - started > 2 * READ_TIMEOUT_MS
        if (readLongEnough) break
      }

      assert.ok(readLongEnough, `the body ended after ${bytes} bytes`)
      response.discard()
    })
  })

  it('times out a TLS handshake that never completes as a connect timeout', async () => {
    const held = new Set<Socket>()
    const tcp = createTcpServer(socket => held.add(socket))
    await new Promise<void>(resolve => tcp.listen(0, '127.0.0.1', resolve))
    const http = getter({connectTimeoutMs: 150, readTimeoutMs: 10_000})
    try {
      const {port} = tcp.address() as AddressInfo
      await assert.rejects(http.get(new URL(`https://127.0.0.1:${port}/`), {}, signal()), {code: CONNECT_TIMEOUT})
    } finally {
      http.close()
      for (const socket of held) socket.destroy()
      tcp.close()
    }
  })

  it('stops at once when its signal is aborted: before the request, waiting for the head, mid-body', async () => {
    await withGetter({readTimeoutMs: 10_000}, async http => {
      const reason = new Error('stop now')
      await assert.rejects(http.get(new URL('/plain', base), {}, AbortSignal.abort(reason)), reason)

      const waiting = new AbortController()
      setTimeout(() => waiting.abort(reason), 50)
      await assert.rejects(http.get(new URL('/silent', base), {}, waiting.signal), reason)

      const reading = new AbortController()
      const response = await http.get(new URL('/endless', base), {}, reading.signal)
      setTimeout(() => reading.abort(reason), 50)
      await assert.rejects(text(response), reason)
    })
  })

  it('names a TLS handshake with a plain-HTTP port by its OpenSSL reason', async () => {
    await withGetter({}, async http => {
      await assert.rejects(http.get(new URL(`https://${base.host}/plain`), {}, signal()), {
        code: 'ERR_SSL_WRONG_VERSION_NUMBER',
      })
    })
  })

  it('decodes a reason phrase as UTF-8', async () => {
    routes['/reason'] = (_req, res) => {
      res.statusCode = 500
      // Node sends a reason phrase as latin1: these are the UTF-8 bytes of "café ✓".
      res.statusMessage = Buffer.from('café ✓', 'utf8').toString('latin1')
      res.end()
    }
    await withGetter({}, async http => {
      const response = await http.get(new URL('/reason', base), {}, signal())
      assert.equal(response.statusText, 'café ✓')
      await text(response)
    })
  })

  it('times the body only while waiting for it: a consumer slower than the read timeout is not cut off', async () => {
    routes['/two-parts'] = (_req, res) => {
      res.write('first ')
      setTimeout(() => res.end('second'), 20)
    }
    await withGetter({readTimeoutMs: READ_TIMEOUT_MS}, async http => {
      const response = await http.get(new URL('/two-parts', base), {}, signal())
      let body = ''
      for await (const chunk of response.body) {
        body += chunk.toString()
        // Busy with each chunk for longer than the read timeout.
        await new Promise(resolve => setTimeout(resolve, 1.5 * READ_TIMEOUT_MS))
      }

      assert.equal(body, 'first second')
    })
  })

  it('closes the connection of a discarded body', async () => {
    await withGetter({}, async http => {
      const response = await http.get(new URL('/endless', base), {}, signal())
      const open = sockets.size
      response.discard()
      // The server sees the close a moment later; how long a moment depends on the machine's load.
      const deadline = performance.now() + 10_000
      while (sockets.size >= open && performance.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
      assert.equal(sockets.size, open - 1)
    })
  })
})

describe('HttpGetter and a plain-HTTP request to a port that speaks TLS', () => {
  /** Runs `use` with the base URL of a server, closed after, and counts the connections it accepted. */
  async function withServer(
    server: Server | ReturnType<typeof createTcpServer>,
    use: (base: string, connections: () => number) => Promise<void>,
  ): Promise<void> {
    let connections = 0
    const sockets = new Set<Socket>()
    server.on('connection', (socket: Socket) => {
      connections++
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    try {
      await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, () => connections)
    } finally {
      for (const socket of sockets) socket.destroy()
      server.close()
    }
  }

  const signal = () => new AbortController().signal

  it('a TLS server that closes the connection: the port is asked for a handshake, and named', async () => {
    const tls = createHttpsServer({
      key: await readFile(new URL('server.key', TLS_DIR), 'utf8'),
      cert: await readFile(new URL('server.pem', TLS_DIR), 'utf8'),
    })
    await withServer(tls, async (base, connections) => {
      await withGetter({}, async http => {
        await assert.rejects(http.get(new URL('/plain', base), {}, signal()), {code: PLAIN_HTTP_TO_TLS})
        assert.equal(connections(), 2)
      })
    })
  })

  for (const [what, record] of [
    ['an alert (protocol version)', [0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]],
    ['a handshake record', [0x16, 0x03, 0x03, 0x00, 0x04, 0x0e, 0x00, 0x00, 0x00]],
  ] as const) {
    it(`a server that answers with ${what}: named from its first bytes, without asking again`, async () => {
      const tcp = createTcpServer(socket => socket.once('data', () => socket.end(Buffer.from(record))))
      await withServer(tcp, async (base, connections) => {
        await withGetter({}, async http => {
          await assert.rejects(http.get(new URL('/plain', base), {}, signal()), {code: PLAIN_HTTP_TO_TLS})
          assert.equal(connections(), 1)
        })
      })
    })
  }

  it('a plain-HTTP server that closes the connection stays a reset', async () => {
    const closing = createServer(req => req.socket.destroy())
    await withServer(closing, async (base, connections) => {
      await withGetter({}, async http => {
        await assert.rejects(http.get(new URL('/plain', base), {}, signal()), {code: 'ECONNRESET'})
        assert.equal(connections(), 2)
      })
    })
  })
})
