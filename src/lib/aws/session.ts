import type {S3Client} from '@aws-sdk/client-s3'
import type {STSClient} from '@aws-sdk/client-sts'
import type {AwsCredentialIdentity, AwsCredentialIdentityProvider} from '@smithy/types'

import type {Logger} from '../log.js'
import {setting} from '../settings.js'
import type {AwsClients, S3ClientOptions} from './clients.js'
import {type AwsCallContext, classifyAwsError} from './errors.js'
import {type AwsIdentity, resolveIdentity} from './identity.js'
import {
  type CallLimits,
  DEFAULT_AWS_DEADLINE_MS,
  DEFAULT_AWS_TIMEOUT_MS,
  DEFAULT_S3_DEADLINE_MS,
  DEFAULT_S3_TIMEOUT_MS,
  boundCalls,
} from './limits.js'
import {type RegionInputs, type RegionReport, type ResolvedRegion, resolveRegion} from './region.js'

/**
 * One AWS session per command run: the region resolved once, the identity and its credentials
 * (default chain, or a parent role assumed from it), and clients made on first use, memoised, and
 * all destroyed when the run ends. Every command opens one; nothing else constructs a client. Every
 * call of every client it makes is bounded: each attempt, each call in all, and the run's signal.
 */

export type {RegionSource, ResolvedRegion} from './region.js'

/** Bounds of a kind of call, in milliseconds; defaults where not given. */
export interface Timeouts {
  /** One attempt: connecting, and any wait for progress. */
  timeoutMs?: number
  /** One call in all, its attempts and back-off included. */
  deadlineMs?: number
}

export interface SessionOptions extends RegionInputs {
  /** Role chaining: every client uses this role, assumed from the default chain's credentials. */
  parentRoleArn?: string
  logger?: Logger
  /** Stops every call at once: the run's abort signal (a signal, the run's deadline, a command's --timeout). */
  signal?: AbortSignal
  /** Calls to every service but S3. */
  aws?: Timeouts
  /** S3's own bounds (export's); without them S3 calls are bounded like the others. */
  s3?: Timeouts
}

/** A service the session makes clients for: `glue`, `athena`, `sts`... */
export type AwsService = keyof AwsClients

/** What a session's clients have in common: destroy frees their sockets. */
interface Destroyable {
  destroy(): void
}

const seconds = (ms: number) => ms / 1000

export class AwsSession implements AsyncDisposable {
  readonly region: ResolvedRegion
  readonly limits: {aws: CallLimits; s3: CallLimits}
  private identityOf: AwsIdentity | undefined
  private readonly clients = new Map<string, Promise<Destroyable>>()
  /** STS clients of the credential providers, one per source of credentials: made as needed, destroyed with the rest. */
  private readonly providerClients: Destroyable[] = []
  private destroyed = false
  private account: Promise<string> | undefined

  private constructor(
    region: ResolvedRegion,
    options: SessionOptions,
    private readonly stop: AbortSignal | undefined,
  ) {
    this.region = region
    const aws = {
      attempt: {ms: options.aws?.timeoutMs ?? DEFAULT_AWS_TIMEOUT_MS, setting: setting('awsTimeout')},
      call: {ms: options.aws?.deadlineMs ?? DEFAULT_AWS_DEADLINE_MS, setting: setting('awsDeadline')},
    }
    const s3 = options.s3 && {
      attempt: {ms: options.s3.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS, setting: setting('s3Timeout')},
      call: {ms: options.s3.deadlineMs ?? DEFAULT_S3_DEADLINE_MS, setting: setting('s3Deadline')},
    }
    this.limits = {aws, s3: s3 ?? aws}
  }

  /** Resolves the region (logging it and where it came from: the run's first line about AWS) and the identity. */
  static async open(options: SessionOptions): Promise<AwsSession> {
    const region = await resolveRegion(options)
    options.logger?.info(`AWS region ${region.region} (from ${region.described})`, {
      awsRegion: region.region,
      awsRegionSource: region.described,
    })
    const session = new AwsSession(region, options, options.signal)
    const {attempt} = session.limits.aws
    session.identityOf = await resolveIdentity({
      parentRoleArn: options.parentRoleArn,
      env: options.env,
      logger: options.logger,
      sts: async credentials => session.providerSts(credentials),
      timeout: {setting: attempt.setting, seconds: seconds(attempt.ms)},
    })
    return session
  }

  get identity(): AwsIdentity {
    if (!this.identityOf) throw new Error('the AWS session is not open yet')
    return this.identityOf
  }

  /** The region and where it came from, as --json shows them. */
  get regionReport(): RegionReport {
    return {name: this.region.region, source: this.region.described}
  }

  /**
   * The S3 client for a region (the session's by default) and endpoint: one each, so a bucket in
   * another region gets its own. The options of the first request for a region and endpoint win.
   */
  async s3(options: Omit<S3ClientOptions, 'credentials'> = {}): Promise<S3Client> {
    const {attempt, call} = this.limits.s3
    const settings = {
      ...options,
      region: options.region ?? this.region.region,
      timeoutMs: options.timeoutMs ?? attempt.ms,
    }
    return this.memo(`s3:${settings.region}:${settings.endpoint ?? ''}`, async () => {
      const {createS3Client} = await import('./clients.js')
      return boundCalls(createS3Client({...settings, credentials: this.identity.credentials}), call, this.stop)
    })
  }

  /**
   * The client of `service` in a region (the session's by default), made on first use. The SDK
   * package is imported only then, so `--help` and commands that never call a service stay fast.
   */
  async client<S extends AwsService>(service: S, region = this.region.region): Promise<AwsClients[S]> {
    const {attempt, call} = this.limits.aws
    return this.memo(`${service}:${region}`, async () => {
      const {CLIENT_FACTORIES} = await import('./clients.js')
      const client = CLIENT_FACTORIES[service]({region, credentials: this.identity.credentials, timeoutMs: attempt.ms})
      return boundCalls(client, call, this.stop)
    })
  }

  /** The account of this session's identity (STS GetCallerIdentity), asked once. */
  async accountId(): Promise<string> {
    this.account ??= (async () => {
      const [sts, {GetCallerIdentityCommand}] = await Promise.all([this.client('sts'), import('@aws-sdk/client-sts')])
      const out = await this.send(() => sts.send(new GetCallerIdentityCommand({})), {
        action: 'sts:GetCallerIdentity',
        resource: 'the caller identity',
      })
      if (!out.Account) throw new Error('STS GetCallerIdentity answered without an account')
      return out.Account
    })()
    return this.account
  }

  /**
   * Sends one command and turns its failure into a CidError naming the action, the resource, this
   * session's identity and, for a call that timed out, the setting that bounds its attempts.
   */
  async send<Output>(call: () => Promise<Output>, context: Omit<AwsCallContext, 'identity'>): Promise<Output> {
    try {
      return await call()
    } catch (error) {
      const {attempt} = this.limits.aws
      throw classifyAwsError(error, {
        timeout: {setting: attempt.setting, seconds: seconds(attempt.ms)},
        ...context,
        identity: this.identity.description,
      })
    }
  }

  /** Destroys every client the session made; later requests for a client are refused. */
  async destroy(): Promise<void> {
    this.destroyed = true
    const clients = [...this.clients.values()]
    this.clients.clear()
    for (const client of await Promise.allSettled(clients)) if (client.status === 'fulfilled') client.value.destroy()
    for (const client of this.providerClients.splice(0)) client.destroy()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy()
  }

  /** How many clients the session holds (for tests and diagnostics). */
  get size(): number {
    return this.clients.size
  }

  /** An STS client for a credential provider, signing with `credentials` (none: an unsigned call), bounded like every other. */
  private async providerSts(credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider): Promise<STSClient> {
    if (this.destroyed) throw new Error('the AWS session was already closed')
    const {createStsClient} = await import('./clients.js')
    const {attempt, call} = this.limits.aws
    const client = boundCalls(
      createStsClient({region: this.region.region, credentials, timeoutMs: attempt.ms}),
      call,
      this.stop,
    )
    this.providerClients.push(client)
    return client
  }

  private async memo<T extends Destroyable>(key: string, make: () => Promise<T>): Promise<T> {
    if (this.destroyed) throw new Error('the AWS session was already closed')
    let client = this.clients.get(key)
    if (!client) {
      client = make()
      this.clients.set(key, client)
    }

    return client as Promise<T>
  }
}
