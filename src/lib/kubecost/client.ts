import type {LookupFunction} from 'node:net'
import {setTimeout as delay} from 'node:timers/promises'

import ky, {type KyInstance} from 'ky'
import {Agent} from 'undici'

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
import {type Entry, EnvelopeError, EnvelopeSplitter} from './envelope-splitter.js'

export type KubecostApi = 'allocation' | 'assets'

export const API_PATHS: Record<KubecostApi, string> = {
  allocation: '/model/allocation',
  assets: '/model/assets',
}

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
  connectTimeoutMs: number
  allocationReadTimeoutMs: number
  assetsReadTimeoutMs: number
  /** `ca`: PEM bundle to trust instead of the system roots; `verify: false` skips verification. */
  tls?: {ca?: string; verify?: boolean}
  retry?: RetryPolicy
  logger?: Logger
  /** Name resolution, for tests; the system resolver otherwise. */
  lookup?: LookupFunction
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

export interface StreamHandler {
  onEntry(entry: Entry): void
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

/** Kubecost's HTTP API: streams response envelopes entry by entry, and turns every failure into a KubecostError. */
export class KubecostClient {
  private readonly agents: Record<KubecostApi, Agent>
  private readonly http: KyInstance
  private readonly base: URL

  constructor(private readonly options: KubecostClientOptions) {
    this.base = new URL(options.baseUrl)
    const connect = {
      timeout: options.connectTimeoutMs,
      ...(options.tls?.ca === undefined ? {} : {ca: options.tls.ca}),
      rejectUnauthorized: options.tls?.verify ?? true,
      ...(options.lookup ? {lookup: options.lookup} : {}),
    }
    const agent = (readTimeoutMs: number) =>
      new Agent({connect, headersTimeout: readTimeoutMs, bodyTimeout: readTimeoutMs})
    this.agents = {
      allocation: agent(options.allocationReadTimeoutMs),
      assets: agent(options.assetsReadTimeoutMs),
    }
    this.http = ky.create({retry: 0, timeout: false, throwHttpErrors: false, headers: {accept: 'application/json'}})
  }

  url(api: KubecostApi, params: Record<string, string>): string {
    const url = new URL(this.base)
    url.pathname = url.pathname.replace(/\/+$/, '') + API_PATHS[api]
    url.search = new URLSearchParams(params).toString()
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
    const context = new RequestContext(api, url, this.options)
    const policy = this.options.retry ?? {retries: 0, baseDelayMs: 0}
    const logger = this.options.logger ?? silentLogger
    for (let retry = 0; ; retry++) {
      let emitted = 0
      try {
        return await this.attempt(context, (entry) => {
          emitted++
          handler.onEntry(entry)
        })
      } catch (error) {
        const retryable = error instanceof KubecostError && error.transient && (emitted === 0 || handler.onRestart !== undefined)
        if (!retryable || retry >= policy.retries) {
          if (retry > 0) logger.error(`Giving up on ${context.name} GET ${url} after ${retry + 1} attempts`, {attempts: retry + 1})
          throw error
        }

        const wait = this.backoff(policy, retry + 1)
        logger.warn(
          `Retrying ${context.name} GET ${url} in ${(wait / 1000).toFixed(2)} s (retry ${retry + 1} of ${policy.retries}): ${error.summary}`,
          {attempt: retry + 2, delayMs: wait},
        )
        if (emitted > 0) await handler.onRestart?.()
        await (this.options.sleep ?? delay)(wait)
      }
    }
  }

  /** Exponential back-off with "equal jitter": half fixed, half random, so retries spread out. */
  private backoff(policy: RetryPolicy, retry: number): number {
    const ceiling = Math.min(policy.maxDelayMs ?? 30_000, policy.baseDelayMs * 2 ** (retry - 1))
    return Math.round(ceiling / 2 + (this.options.random ?? Math.random)() * (ceiling / 2))
  }

  private async attempt(context: RequestContext, onEntry: (entry: Entry) => void): Promise<StreamResult> {
    const {url} = context
    let response: Response
    try {
      response = await this.http.get(url, {
        dispatcher: this.agents[context.api],
        ...(this.base.username ? {headers: {authorization: basicAuth(this.base)}} : {}),
      } as Parameters<KyInstance['get']>[1])
    } catch (error) {
      throw context.networkError(error)
    }

    if (!response.ok) {
      const preview = await readPreview(response)
      throw new KubecostHttpError(
        `${context.name} returned HTTP ${response.status} ${response.statusText} for GET ${url}: ${preview || '(empty body)'}`,
        response.status,
        {suggestions: httpSuggestions(response.status)},
      )
    }

    const splitter = new EnvelopeSplitter()
    let entries = 0
    try {
      if (response.body) {
        for await (const chunk of response.body) {
          for (const entry of splitter.push(chunk)) {
            entries++
            onEntry(entry)
          }
        }
      }

      splitter.end()
    } catch (error) {
      if (error instanceof EnvelopeError) throw context.envelopeError(error, splitter.head)
      if (error instanceof CidError) throw error
      if (isNetworkFailure(error)) throw context.networkError(error, 'while reading the response body')
      throw error
    }

    const {code} = splitter.meta
    if (code !== undefined && code !== 200) {
      const message = splitter.meta.message ?? splitter.meta.error ?? ''
      throw new KubecostResponseError(
        `${context.name} answered GET ${url} with error code ${JSON.stringify(code)}${message ? `: ${truncate(String(message))}` : ''}`,
        {suggestions: ['Check the query parameters Kubecost rejected, and the Kubecost version (see the message above).']},
      )
    }

    return {url, meta: splitter.meta, sets: splitter.sets, entries, bytes: splitter.bytes}
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.agents).map((a) => a.close()))
  }
}

function basicAuth(url: URL): string {
  return `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
}

class RequestContext {
  readonly name: string

  constructor(
    readonly api: KubecostApi,
    readonly url: string,
    readonly options: KubecostClientOptions,
  ) {
    this.name = `Kubecost ${API_NAMES[api]}`
  }

  networkError(error: unknown, phase = ''): KubecostError {
    const code = causeCode(error)
    const where = `GET ${this.url}${phase ? ` (${phase})` : ''}`
    const host = new URL(this.url).host
    const readTimeout = this.api === 'allocation' ? this.options.allocationReadTimeoutMs : this.options.assetsReadTimeoutMs
    const readFlag =
      this.api === 'allocation'
        ? '--allocation-read-timeout (KUBECOST_ALLOCATION_API_READ_TIMEOUT)'
        : '--assets-read-timeout (KUBECOST_ASSETS_API_READ_TIMEOUT)'
    const make = (reason: ConnectionFailure, message: string, suggestions: string[]) =>
      new KubecostConnectionError(`${this.name} ${message}: ${where}`, {cause: error, suggestions, reason})

    switch (code) {
      case 'ECONNREFUSED': {
        return make('refused', `connection refused by ${host}`, [
          'Check --kubecost-url (KUBECOST_API_ENDPOINT): the service name carries the Helm release prefix (e.g. kubecost-cost-analyzer.<namespace>:9090) and the port is usually 9090.',
        ])
      }

      case 'ENOTFOUND':
      case 'EAI_AGAIN': {
        return make('dns', `host name ${new URL(this.url).hostname} could not be resolved`, [
          'Check the host name in --kubecost-url (KUBECOST_API_ENDPOINT): <service>.<namespace> resolves only inside the cluster.',
        ])
      }

      case 'UND_ERR_CONNECT_TIMEOUT':
      case 'ETIMEDOUT': {
        return make('connect-timeout', `connection to ${host} timed out after ${seconds(this.options.connectTimeoutMs)}`, [
          'Check that Kubecost is reachable from here (network policies, security groups), or raise --connect-timeout (CONNECTION_TIMEOUT).',
        ])
      }

      case 'UND_ERR_HEADERS_TIMEOUT': {
        return make('response-timeout', `did not answer within ${seconds(readTimeout)}`, [
          `Kubecost may be busy computing a large day; raise ${readFlag}.`,
        ])
      }

      case 'UND_ERR_BODY_TIMEOUT': {
        return make('body-stalled', `stopped sending its response for ${seconds(readTimeout)}`, [
          `Kubecost stalled mid-response; raise ${readFlag} if it is merely slow.`,
        ])
      }

      default: {
        if (code && isTlsCode(code)) {
          return make('tls', `TLS handshake with ${host} failed (${code})`, [
            'Trust Kubecost\'s certificate authority with --ca-cert-file or --ca-cert-secret, or (for testing only) pass --no-tls-verify.',
          ])
        }

        return make('reset', `connection to ${host} failed (${code ?? describeCause(error)})`, [
          'The connection was closed unexpectedly; check Kubecost\'s health (its pod may have restarted).',
        ])
      }
    }
  }

  envelopeError(error: EnvelopeError, head: string): KubecostResponseError {
    const preview = truncate(head.trim())
    switch (error.problem) {
      case 'not-json': {
        return new KubecostResponseError(
          `${this.name} answered GET ${this.url} with a body that is not JSON (${error.message}): ${preview || '(empty body)'}`,
          {suggestions: ['Check that --kubecost-url points at the Kubecost API (http vs https, port 9090) and not at a login page or an authenticating proxy.']},
        )
      }

      case 'truncated': {
        return new KubecostResponseError(`${this.name} response to GET ${this.url} was cut off: ${error.message}`, {
          suggestions: ['The connection was closed before the response was complete; check Kubecost\'s health and memory.'],
        })
      }

      case 'unexpected-shape': {
        return new KubecostResponseError(
          `${this.name} answered GET ${this.url} with JSON of an unexpected shape (${error.message}): ${preview}`,
          {suggestions: ['Check that --kubecost-url points at the Kubecost cost-analyzer API.']},
        )
      }
    }
  }
}

function seconds(ms: number): string {
  return `${ms / 1000} s`
}

function truncate(text: string, max = PREVIEW_BYTES): string {
  const oneLine = text.replaceAll(/\s+/g, ' ')
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine
}

async function readPreview(response: Response): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    while (size < PREVIEW_BYTES) {
      const {done, value} = await reader.read()
      if (done) break
      chunks.push(value)
      size += value.length
    }
  } catch {
    // the preview is best effort: the status code is the news
  } finally {
    await reader.cancel().catch(() => {})
  }

  return truncate(Buffer.concat(chunks).toString('utf8').trim())
}

function httpSuggestions(status: number): string[] {
  if (status === 401 || status === 403) return ['Kubecost is behind authentication; point --kubecost-url at the in-cluster service instead.']
  if (status === 404) return ['Check --kubecost-url (KUBECOST_API_ENDPOINT): it should be the cost-analyzer service root, without /model.']
  if (status === 400) return ['Kubecost rejected the query; check --aggregation and the Kubecost version.']
  if (status >= 500) return ['Kubecost or a proxy in front of it failed; check the cost-analyzer pod\'s logs and retry later.']
  return []
}

/** The first `code` found along the error's `cause` chain (undici and Node put it there). */
export function causeCode(error: unknown): string | undefined {
  let current: unknown = error
  for (let i = 0; i < 8 && current instanceof Error; i++) {
    const {code} = current as {code?: unknown}
    if (typeof code === 'string') return code
    if (current instanceof AggregateError) {
      const inner = current.errors.find((e) => typeof (e as {code?: unknown}).code === 'string')
      if (inner) return (inner as {code: string}).code
    }

    current = current.cause
  }

  return undefined
}

function isTlsCode(code: string): boolean {
  return /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|HOSTNAME_MISMATCH|ERR_TLS/.test(code)
}

function isNetworkFailure(error: unknown): boolean {
  return error instanceof TypeError || causeCode(error) !== undefined
}
