import type {LookupFunction} from 'node:net'
import {setTimeout as delay} from 'node:timers/promises'

import {
  CidError,
  type ConnectionFailure,
  KubecostConnectionError,
  KubecostError,
  KubecostHttpError,
  KubecostResponseError,
  describeCause,
} from '../errors.js'
import {type Logger, silentLogger} from '../log.js'
import {abbreviate, excerpt} from '../sanitize.js'
import {type Entry, EnvelopeError, EnvelopeSplitter, type SplitterLimits} from './envelope-splitter.js'
import {
  BODY_TIMEOUT,
  CONNECT_TIMEOUT,
  HEADERS_TIMEOUT,
  type HttpGetResponse,
  HttpGetter,
  PLAIN_HTTP_TO_TLS,
} from './http-get.js'
import {DEADLINE_READ_TIMEOUTS, DEFAULT_MAX_ENTRY_MIB, DEFAULT_MAX_RESPONSE_MIB, MAX_REDIRECTS, MIB} from './limits.js'
import {type CostSource, KUBECOST, type KubecostApi} from './source.js'
import {flag, negated, setting} from '../settings.js'

export type {KubecostApi} from './source.js'

const API_NAMES: Record<KubecostApi, string> = {
  allocation: 'Allocation API',
  assets: 'Assets API',
}

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number
  /** First back-off delay; doubles with each retry, with jitter. */
  baseDelayMs: number
  maxDelayMs?: number
}

export interface KubecostClientOptions {
  baseUrl: string
  /** Kubecost (the default) or OpenCost: the paths, parameter names and advice of its API. */
  source?: CostSource
  connectTimeoutMs: number
  allocationReadTimeoutMs: number
  assetsReadTimeoutMs: number
  /** Total time of one call, retries and back-off included (default: DEADLINE_READ_TIMEOUTS read timeouts). */
  allocationDeadlineMs?: number
  assetsDeadlineMs?: number
  /** Largest single entry of a response, in bytes (default 64 MiB). */
  maxEntryBytes?: number
  /** Largest response body, in bytes, after any decompression (default 2 GiB). */
  maxResponseBytes?: number
  /**
   * Stops the call in flight at once (no retry, no back-off). `stream` then rejects with the
   * signal's reason when that is a CidError, else with a KubecostError saying the run was aborted.
   */
  signal?: AbortSignal
  /** `ca`: PEM bundle to trust instead of the system roots; `verify: false` skips verification. */
  tls?: {ca?: string; verify?: boolean}
  retry?: RetryPolicy
  logger?: Logger
  /** Name resolution, for tests; the system resolver otherwise. */
  lookup?: LookupFunction
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

/** What reads a response body into entries: an EnvelopeSplitter, or a reader that parses elsewhere. */
export interface EntryReader {
  readonly meta: Record<string, unknown>
  readonly sets: number
  /** First bytes of the body, for error messages. */
  readonly head: string
  readonly bytes: number
  push(chunk: Uint8Array): Entry[] | Promise<Entry[]>
  /** At the end of the body: the entries still held back; throws when the envelope was not complete. */
  end(): Entry[] | Promise<Entry[]>
}

export interface StreamHandler {
  onEntry(entry: Entry): void
  /** The reader for one attempt's body (a new one for each retry); an EnvelopeSplitter by default. */
  reader?(limits: SplitterLimits): EntryReader
  /**
   * Called before a retry when entries were already handed out: drop them, the stream starts over.
   * Without it, a failure after the first entry is not retried.
   */
  onRestart?(): Promise<void> | void
}

export interface StreamResult {
  url: string
  meta: Record<string, unknown>
  sets: number
  entries: number
  bytes: number
}

const PREVIEW_BYTES = 200
/** Characters of a request's URL a message shows; a longer one is cut and its length given. */
const SHOWN_URL = 400
/** Enough of an error body to read a JSON envelope's `message` whole. */
const ERROR_BODY_BYTES = 8192

/** Kubecost's HTTP API: streams response envelopes entry by entry, and turns every failure into a KubecostError. */
export class KubecostClient {
  private readonly http: Record<KubecostApi, HttpGetter>
  private readonly base: URL
  private readonly source: CostSource

  constructor(private readonly options: KubecostClientOptions) {
    this.base = new URL(options.baseUrl)
    this.source = options.source ?? KUBECOST
    const getter = (readTimeoutMs: number) =>
      new HttpGetter({
        connectTimeoutMs: options.connectTimeoutMs,
        readTimeoutMs,
        ...(options.tls?.ca === undefined ? {} : {ca: options.tls.ca}),
        rejectUnauthorized: options.tls?.verify ?? true,
        ...(options.lookup ? {lookup: options.lookup} : {}),
      })
    this.http = {
      allocation: getter(options.allocationReadTimeoutMs),
      assets: getter(options.assetsReadTimeoutMs),
    }
  }

  /** What the server is, as messages name it: Kubecost or OpenCost. */
  get product(): string {
    return this.source.product
  }

  url(api: KubecostApi, params: Record<string, string>): string {
    const url = new URL(this.base)
    url.pathname = url.pathname.replace(/\/+$/, '') + this.source.paths[api]
    url.search = new URLSearchParams(this.source.params(api, params)).toString()
    url.username = ''
    url.password = ''
    return url.toString()
  }

  /**
   * GETs one envelope and hands each entry of each set to `handler` as it arrives. Transient failures
   * (connection reset, connect timeout, 429/499/502/503/504) are retried with exponential back-off
   * and jitter. Throws KubecostError subclasses only.
   */
  async stream(api: KubecostApi, params: Record<string, string>, handler: StreamHandler): Promise<StreamResult> {
    const url = this.url(api, params)
    const context = new RequestContext(api, url, this.options, this.source)
    const call = new CallSignal(context.deadlineMs, this.options.signal)
    const policy = this.options.retry ?? {retries: 0, baseDelayMs: 0}
    const logger = this.options.logger ?? silentLogger
    try {
      for (let retry = 0; ; retry++) {
        if (aborted(call.signal)) throw call.failure(context)
        context.attempt = retry + 1
        let emitted = 0
        try {
          const reader = handler.reader?.bind(handler)
          return await this.attempt(
            context,
            call.signal,
            entry => {
              emitted++
              handler.onEntry(entry)
            },
            reader,
          )
        } catch (error) {
          // Neither a deadline nor an abort is retried: the same call would only hit it again.
          if (aborted(call.signal)) throw call.failure(context)
          const retryable =
            error instanceof KubecostError && error.transient && (emitted === 0 || handler.onRestart !== undefined)
          if (!retryable || retry >= policy.retries) {
            if (retry > 0)
              logger.error(`Giving up on ${context.name} GET ${context.shown} after ${retry + 1} attempts`, {
                attempts: retry + 1,
              })
            throw error
          }

          const wait = this.backoff(policy, retry + 1)
          logger.warn(
            `Retrying ${context.name} GET ${context.shown} in ${(wait / 1000).toFixed(2)} s (retry ${retry + 1} of ${policy.retries}): ${error.summary}`,
            {attempt: retry + 2, delayMs: wait},
          )
          if (emitted > 0) await handler.onRestart?.()
          // The default sleep ends with the call, so no timer outlives an abort.
          await call.race(this.options.sleep ? this.options.sleep(wait) : delay(wait, undefined, {signal: call.signal}))
        }
      }
    } finally {
      call.dispose()
    }
  }

  /** Exponential back-off with "equal jitter": half fixed, half random, so retries spread out. */
  private backoff(policy: RetryPolicy, retry: number): number {
    const ceiling = Math.min(policy.maxDelayMs ?? 30_000, policy.baseDelayMs * 2 ** (retry - 1))
    return Math.round(ceiling / 2 + (this.options.random ?? Math.random)() * (ceiling / 2))
  }

  private async attempt(
    context: RequestContext,
    signal: AbortSignal,
    onEntry: (entry: Entry) => void,
    reader?: (limits: SplitterLimits) => EntryReader,
  ): Promise<StreamResult> {
    const {url} = context
    context.received = 0
    const response = await this.get(context, signal)

    if (response.status < 200 || response.status > 299) {
      const body = await readPreview(response)
      const preview = errorBodyText(body)
      throw new KubecostHttpError(
        `${context.name} returned HTTP ${response.status}${response.statusText ? ` ${excerpt(response.statusText, 80)}` : ''} for GET ${context.shown}: ${preview || '(empty body)'}`,
        response.status,
        {
          suggestions:
            response.status === 400 && this.base.protocol === 'http:' && PLAIN_HTTP_REFUSED.test(body)
              ? [tlsPortHint(this.options.baseUrl)]
              : httpSuggestions(response.status, this.source),
        },
      )
    }

    const limits = {maxEntryBytes: context.maxEntryBytes, maxBodyBytes: context.maxResponseBytes}
    const splitter = reader?.(limits) ?? new EnvelopeSplitter(limits)
    let entries = 0
    let consumerFailure: {error: unknown} | undefined
    const deliver = (found: Entry[]) => {
      for (const entry of found) {
        entries++
        try {
          onEntry(entry)
        } catch (error) {
          consumerFailure = {error}
          throw error
        }
      }
    }

    try {
      for await (const chunk of response.body) {
        context.received += chunk.length
        deliver(await splitter.push(chunk))
      }

      deliver(await splitter.end())
    } catch (error) {
      response.discard()
      // The consumer's own failure (a full disk, say) is not Kubecost's: never reclassified, never retried.
      if (consumerFailure?.error === error) throw error
      if (signal.aborted) throw error
      if (error instanceof EnvelopeError) throw context.envelopeError(error, splitter.head)
      if (error instanceof CidError) throw error
      const code = causeCode(error)
      if (code && isDecodingCode(code)) throw context.decodingError(code, response.header('content-encoding') ?? '')
      if (isNetworkFailure(error)) throw context.networkError(error, 'while reading the response body')
      throw error
    }

    const {code} = splitter.meta
    if (code !== undefined && code !== 200) {
      const raw = splitter.meta.message ?? splitter.meta.error ?? ''
      const message = excerpt(typeof raw === 'string' ? raw : jsonText(raw))
      throw new KubecostResponseError(
        `${context.name} answered GET ${context.shown} with error code ${excerpt(jsonText(code), 80)}${message ? `: ${message}` : ''}`,
        {
          suggestions: [
            `Check the query parameters ${this.source.product} rejected, and the ${this.source.product} version (see the message above).`,
          ],
        },
      )
    }

    return {url, meta: splitter.meta, sets: splitter.sets, entries, bytes: splitter.bytes}
  }

  /**
   * The response to GET `context.url`, following redirects only within Kubecost's origin: a redirect
   * elsewhere (or to plain http) would send the pod to an address nobody configured.
   */
  private async get(context: RequestContext, signal: AbortSignal): Promise<HttpGetResponse> {
    let location = context.url
    for (let redirects = 0; ; redirects++) {
      let response: HttpGetResponse
      try {
        response = await this.http[context.api].get(
          new URL(location),
          {
            accept: 'application/json',
            // Kubecost is in the cluster: compression saves little, and an uncompressed body cannot expand.
            'accept-encoding': 'identity',
            ...(this.base.username ? {authorization: basicAuth(this.base)} : {}),
          },
          signal,
        )
      } catch (error) {
        if (signal.aborted) throw error
        throw context.networkError(error)
      }

      const target = response.header('location')
      if (!REDIRECT_STATUSES.has(response.status) || target === undefined) return response
      response.discard()
      let next: URL
      try {
        next = new URL(target, location)
      } catch {
        throw context.redirectError(target, 'an address that is not a URL')
      }

      if (this.base.protocol === 'https:' && next.protocol !== 'https:')
        throw context.redirectError(target, 'plain http (a downgrade from https)', next)
      if (next.origin !== this.base.origin) throw context.redirectError(target, `another origin (${next.origin})`, next)
      if (redirects >= MAX_REDIRECTS) {
        throw new KubecostResponseError(
          `${context.name} redirected GET ${context.shown} more than ${MAX_REDIRECTS} times (last to ${displayUrl(next)})`,
          {
            suggestions: [
              `${this.source.product} or a proxy in front of it is redirecting in a loop; point ${setting('kubecostUrl')} at ${this.source.hints.direct} directly.`,
            ],
          },
        )
      }

      location = next.toString()
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  close(): Promise<void> {
    for (const getter of Object.values(this.http)) getter.close()
    return Promise.resolve()
  }
}

// Node fires longer timers at once (with a warning) instead of never.
const MAX_TIMER_MS = 2 ** 31 - 1

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

/** A URL for a message: without credentials, escaped and capped (it may come from a Location header). */
function displayUrl(url: URL): string {
  const shown = new URL(url)
  shown.username = ''
  shown.password = ''
  return excerpt(shown.toString(), 300)
}

/**
 * One call's stop signal: the caller's signal, or the call's deadline, whichever comes first. The
 * timer is cleared when the call ends, so nothing outlives it.
 */
class CallSignal {
  private readonly controller = new AbortController()
  private readonly timer: NodeJS.Timeout
  private readonly stopped: Promise<void>
  private readonly onCallerAbort = () => this.controller.abort(this.caller?.reason)
  private deadlineHit = false

  constructor(
    readonly deadlineMs: number,
    private readonly caller: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(
      () => {
        this.deadlineHit = true
        this.controller.abort(new Error('deadline'))
      },
      Math.min(deadlineMs, MAX_TIMER_MS),
    )
    this.stopped = new Promise(resolve =>
      this.controller.signal.addEventListener('abort', () => resolve(), {once: true}),
    )
    if (caller?.aborted) this.onCallerAbort()
    else caller?.addEventListener('abort', this.onCallerAbort, {once: true})
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** Waits for `work` unless the call is stopped first; the caller then checks `signal`. */
  async race(work: Promise<unknown>): Promise<void> {
    await Promise.race([
      work.then(
        () => {},
        () => {},
      ),
      this.stopped,
    ])
  }

  failure(context: RequestContext): CidError {
    if (!this.deadlineHit) {
      const reason: unknown = this.caller?.reason
      if (reason instanceof CidError) return reason
      return new KubecostError(`${context.name} GET ${context.shown} was aborted: the run is stopping`, {cause: reason})
    }

    return new KubecostConnectionError(
      `${context.name} call did not complete within its ${seconds(this.deadlineMs)} deadline (${context.received} bytes of the response received${context.attempt > 1 ? ` in attempt ${context.attempt}` : ''}): GET ${context.shown}`,
      {
        reason: 'response-timeout',
        suggestions: [
          `${context.source.product} is sending its answer very slowly or without end; if the day is merely large, raise ${context.deadlineFlag}.`,
        ],
      },
    )
  }

  dispose(): void {
    clearTimeout(this.timer)
    this.caller?.removeEventListener('abort', this.onCallerAbort)
  }
}

function basicAuth(url: URL): string {
  return `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
}

class RequestContext {
  readonly name: string
  /** The URL as messages show it: cut, with its length, when long (a split day's cluster filter). */
  readonly shown: string
  readonly deadlineMs: number
  readonly deadlineFlag: string
  readonly maxEntryBytes: number
  readonly maxResponseBytes: number
  /** Bytes of the current attempt's response body so far. */
  received = 0
  attempt = 1

  constructor(
    readonly api: KubecostApi,
    readonly url: string,
    readonly options: KubecostClientOptions,
    readonly source: CostSource,
  ) {
    this.name = `${source.product} ${API_NAMES[api]}`
    this.shown = abbreviate(url, SHOWN_URL)
    const readTimeout = api === 'allocation' ? options.allocationReadTimeoutMs : options.assetsReadTimeoutMs
    this.deadlineMs =
      (api === 'allocation' ? options.allocationDeadlineMs : options.assetsDeadlineMs) ??
      readTimeout * DEADLINE_READ_TIMEOUTS
    this.deadlineFlag = api === 'allocation' ? setting('allocationDeadline') : setting('assetsDeadline')
    this.maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_MIB * MIB
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_MIB * MIB
  }

  redirectError(location: string, where: string, target?: URL): KubecostResponseError {
    const shown = target ? displayUrl(target) : excerpt(location, 300)
    return new KubecostResponseError(
      `${this.name} redirected GET ${this.shown} to ${shown}, ${where}: not followed, redirects may only stay at ${flag('kubecostUrl')}'s origin`,
      {
        suggestions: [
          `Set ${setting('kubecostUrl')} to the address that answers directly: ${this.source.hints.direct}, not an ingress or login page in front of it` +
            (target ? `; if ${excerpt(target.origin, 200)} is ${this.source.product} itself, use that URL.` : '.'),
        ],
      },
    )
  }

  decodingError(code: string, encoding: string): KubecostResponseError {
    return new KubecostResponseError(
      `${this.name} answered GET ${this.shown} with a body that could not be decompressed (content-encoding ${excerpt(encoding, 40) || '?'}: ${code})`,
      {
        suggestions: [
          `The body is labelled compressed but is not (or is corrupt): a proxy or ingress in front of ${this.source.product} usually does this; point ${flag('kubecostUrl')} at ${this.source.hints.direct} directly.`,
        ],
      },
    )
  }

  /** What to do about a failed handshake depends on why it failed and on what is already trusted. */
  private tlsHint(code: string): string {
    // An https URL that reached a plain-HTTP port: the "server hello" was an HTTP response.
    if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
      return `The port answers plain HTTP: use ${baseUrlAs(this.options.baseUrl, 'http:')} in ${setting('kubecostUrl')}.`
    }

    if (this.options.tls?.ca !== undefined) {
      return `The certificate authority given with ${flag('caCertFile')} / ${flag('caCertSecret')} did not verify the server's chain: check that it is the CA that signed ${this.source.product}'s certificate (or its intermediate), and that the certificate names the host in ${flag('kubecostUrl')}.`
    }

    return `Trust ${this.source.product}'s certificate authority with ${flag('caCertFile')} or ${flag('caCertSecret')}, or (for testing only) pass ${negated('tlsVerify')}.`
  }

  networkError(error: unknown, phase = ''): KubecostError {
    const code = causeCode(error)
    const where = `GET ${this.shown}${phase ? ` (${phase})` : ''}`
    const host = new URL(this.url).host
    const readTimeout =
      this.api === 'allocation' ? this.options.allocationReadTimeoutMs : this.options.assetsReadTimeoutMs
    const readFlag = this.api === 'allocation' ? setting('allocationReadTimeout') : setting('assetsReadTimeout')
    const make = (reason: ConnectionFailure, message: string, suggestions: string[]) =>
      new KubecostConnectionError(`${this.name} ${message}: ${where}`, {cause: error, suggestions, reason})

    switch (code) {
      case 'ECONNREFUSED': {
        return make('refused', `connection refused by ${host}`, [this.source.hints.refused])
      }

      case 'ENOTFOUND':
      case 'EAI_AGAIN': {
        return make('dns', `host name ${new URL(this.url).hostname} could not be resolved`, [
          `Check the host name in ${setting('kubecostUrl')}: <service>.<namespace> resolves only inside the cluster.`,
        ])
      }

      case CONNECT_TIMEOUT:
      case 'ETIMEDOUT': {
        return make(
          'connect-timeout',
          `connection to ${host} timed out after ${seconds(this.options.connectTimeoutMs)}`,
          [
            `Check that ${this.source.product} is reachable from here (network policies, security groups), or raise ${setting('connectTimeout')}.`,
          ],
        )
      }

      case HEADERS_TIMEOUT: {
        return make('response-timeout', `did not answer within ${seconds(readTimeout)}`, [
          `${this.source.product} may be busy computing a large day; raise ${readFlag}.`,
        ])
      }

      case BODY_TIMEOUT: {
        return make('body-stalled', `stopped sending its response for ${seconds(readTimeout)}`, [
          `${this.source.product} stalled mid-response; raise ${readFlag} if it is merely slow.`,
        ])
      }

      case PLAIN_HTTP_TO_TLS: {
        return make('tls', `connection to ${host} failed: the port speaks TLS and the request was plain HTTP`, [
          tlsPortHint(this.options.baseUrl),
        ])
      }

      default: {
        if (code && OLD_TLS_VERSION.has(code)) {
          return make(
            'tls',
            `TLS handshake with ${host} failed: the server offers only a TLS version older than 1.2, the oldest Node.js accepts (${code})`,
            [
              `Enable TLS 1.2 or 1.3 on ${this.source.product}'s server, or on the proxy or ingress that terminates TLS in front of it; certificate settings (${flag('caCertFile')}, ${negated('tlsVerify')}) do not change this.`,
            ],
          )
        }

        if (code && isTlsCode(code))
          return make('tls', `TLS handshake with ${host} failed (${code})`, [this.tlsHint(code)])

        return make('reset', `connection to ${host} failed (${excerpt(code ?? describeCause(error), 120)})`, [
          `The connection was closed unexpectedly; check ${this.source.product}'s health (its pod may have restarted).`,
        ])
      }
    }
  }

  envelopeError(error: EnvelopeError, head: string): KubecostResponseError {
    const preview = excerpt(head)
    switch (error.problem) {
      case 'not-json': {
        return new KubecostResponseError(
          `${this.name} answered GET ${this.shown} with a body that is not JSON (${error.message}): ${preview || '(empty body)'}`,
          {
            suggestions: [this.source.hints.notTheApi],
          },
        )
      }

      case 'truncated': {
        return new KubecostResponseError(`${this.name} response to GET ${this.shown} was cut off: ${error.message}`, {
          suggestions: [
            `The connection was closed before the response was complete; check ${this.source.product}'s health and memory.`,
          ],
        })
      }

      case 'too-large': {
        const size = error.size
        if (size?.limit === 'body') {
          return new KubecostResponseError(
            `${this.name} response to GET ${this.shown} is larger than the ${mib(this.maxResponseBytes)} limit on one response`,
            {
              suggestions: [
                `A day this large is unusual: check the query (${flag('aggregation')}), or raise ${setting('maxResponseMb')}.`,
              ],
            },
          )
        }

        const what = size?.key === undefined ? (size?.what ?? 'value') : `entry "${excerpt(size.key, 120)}"`
        return new KubecostResponseError(
          `${this.name} ${what} at byte ${size?.offset ?? '?'} of the response to GET ${this.shown} is larger than the ${mib(this.maxEntryBytes)} limit on one entry`,
          {
            suggestions: [
              `One allocation this large is not a normal ${this.source.product} answer (check what sits in front of ${this.source.product}); if it is genuine, raise ${setting('maxEntryMb')}.`,
            ],
          },
        )
      }

      case 'unexpected-shape': {
        return new KubecostResponseError(
          `${this.name} answered GET ${this.shown} with JSON of an unexpected shape (${error.message}): ${preview}`,
          {suggestions: [this.source.hints.notTheApi]},
        )
      }
    }
  }
}

/**
 * The configured base URL with the other scheme: what to set the URL setting to. Without the API
 * path and query (the client adds them) and the credentials (no message shows them); the port kept
 * explicit (https://host is port 443, which the http:// form must then name).
 */
export function baseUrlAs(base: string, protocol: 'http:' | 'https:'): string {
  const url = new URL(base)
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  url.protocol = protocol
  url.port = port
  url.username = ''
  url.password = ''
  url.search = ''
  url.hash = ''
  return url.toString().replace(/\/$/, '')
}

function seconds(ms: number): string {
  return `${ms / 1000} s`
}

function mib(bytes: number): string {
  return bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`
}

async function readPreview(response: HttpGetResponse): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of response.body) {
      chunks.push(chunk)
      size += chunk.length
      if (size >= ERROR_BODY_BYTES) break
    }
  } catch {
    // the preview is best effort: the status code is the news
  } finally {
    response.discard()
  }

  return Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8')
}

/** What nginx's and Go's TLS servers answer a plain-HTTP request with: a 400 whose body says so. */
const PLAIN_HTTP_REFUSED = /plain HTTP request was sent to HTTPS port|HTTP request to an HTTPS server/i

/** The URL setting's value for a port that speaks TLS, and how to trust a private CA. */
function tlsPortHint(baseUrl: string): string {
  return `The port speaks TLS: use ${baseUrlAs(baseUrl, 'https:')} in ${setting('kubecostUrl')}; if its certificate is from a private CA, trust it with ${flag('caCertFile')} or ${flag('caCertSecret')}.`
}

function httpSuggestions(status: number, source: CostSource): string[] {
  if (status === 401 || status === 403)
    return [
      `${source.product} is behind authentication; point ${flag('kubecostUrl')} at the in-cluster service instead.`,
    ]
  if (status === 404) return [source.hints.notFound]
  if (status === 400) return [source.hints.badRequest]
  if (status >= 500) return [source.hints.serverError]
  return []
}

/**
 * An error body for a message: the `message` (or `error`) of a JSON envelope, which is what OpenCost
 * and Kubecost say went wrong (`{"code":500,"message":"Error: ..."}`), else the start of the text.
 */
export function errorBodyText(body: string): string {
  const text = body.trim()
  if (text.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text)
      if (typeof parsed === 'object' && parsed !== null) {
        const {message, error} = parsed as {message?: unknown; error?: unknown}
        const said = typeof message === 'string' && message ? message : typeof error === 'string' ? error : ''
        if (said) return excerpt(said, 300)
      }
    } catch {
      // not JSON after all (or cut off): shown as text
    }
  }

  return excerpt(text, PREVIEW_BYTES)
}

/** A signal's state now: read through a call, since it changes while a request is awaited. */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted
}

/** JSON text of any value; `JSON.stringify` gives undefined for some (undefined, functions). */
function jsonText(value: unknown): string {
  // These are the values JSON.stringify gives undefined for.
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return String(value)
  return JSON.stringify(value)
}

/** The first `code` found along the error's `cause` chain (Node puts it on the error, or on a cause). */
export function causeCode(error: unknown): string | undefined {
  let current: unknown = error
  for (let i = 0; i < 8 && current instanceof Error; i++) {
    const {code} = current as {code?: unknown}
    if (typeof code === 'string') return code
    if (current instanceof AggregateError) {
      const inner: unknown = current.errors.find(e => typeof (e as {code?: unknown}).code === 'string')
      if (inner) return (inner as {code: string}).code
    }

    current = current.cause
  }

  return undefined
}

/**
 * OpenSSL's codes for a server whose TLS versions are all older than ours: it refuses our hello with
 * a protocol_version alert, or answers it with its older version.
 */
const OLD_TLS_VERSION = new Set(['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'ERR_SSL_UNSUPPORTED_PROTOCOL'])

function isTlsCode(code: string): boolean {
  return /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|HOSTNAME_MISMATCH|ERR_TLS/.test(code)
}

/** zlib's and the brotli/zstd decoders' codes: the body was labelled compressed and is not. */
function isDecodingCode(code: string): boolean {
  return /^Z_|BROTLI|ZSTD/.test(code)
}

function isNetworkFailure(error: unknown): boolean {
  return causeCode(error) !== undefined
}
