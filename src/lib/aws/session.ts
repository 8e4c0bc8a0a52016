import type {S3Client} from '@aws-sdk/client-s3'

import type {Logger} from '../log.js'
import type {AwsClients, S3ClientOptions} from './clients.js'
import {type AwsCallContext, classifyAwsError} from './errors.js'
import {type AwsIdentity, resolveIdentity} from './identity.js'
import {type RegionInputs, type RegionReport, type ResolvedRegion, resolveRegion} from './region.js'

/**
 * One AWS session per command run: the region resolved once, the identity and its credentials
 * (default chain, or a parent role assumed from it), and clients made on first use, memoised, and
 * all destroyed when the run ends. Every command opens one; nothing else constructs a client.
 */

export type {RegionSource, ResolvedRegion} from './region.js'

export interface SessionOptions extends RegionInputs {
  /** Role chaining: every client uses this role, assumed from the default chain's credentials. */
  parentRoleArn?: string
  logger?: Logger
}

/** A service the session makes clients for: `glue`, `athena`, `sts`... */
export type AwsService = keyof AwsClients

/** What a session's clients have in common: destroy frees their sockets. */
interface Destroyable {
  destroy(): void
}

export class AwsSession implements AsyncDisposable {
  readonly region: ResolvedRegion
  readonly identity: AwsIdentity
  private readonly clients = new Map<string, Promise<Destroyable>>()
  private destroyed = false
  private account: Promise<string> | undefined

  private constructor(region: ResolvedRegion, identity: AwsIdentity) {
    this.region = region
    this.identity = identity
  }

  /** Resolves the region (logging it and where it came from: the run's first line about AWS) and the identity. */
  static async open(options: SessionOptions): Promise<AwsSession> {
    const region = await resolveRegion(options)
    options.logger?.info(`AWS region ${region.region} (from ${region.described})`, {
      awsRegion: region.region,
      awsRegionSource: region.described,
    })
    const identity = await resolveIdentity({
      parentRoleArn: options.parentRoleArn,
      region: region.region,
      env: options.env,
      logger: options.logger,
    })
    return new AwsSession(region, identity)
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
    const settings = {...options, region: options.region ?? this.region.region}
    return this.memo(`s3:${settings.region}:${settings.endpoint ?? ''}`, async () => {
      const {createS3Client} = await import('./clients.js')
      return createS3Client({...settings, credentials: this.identity.credentials})
    })
  }

  /**
   * The client of `service` in a region (the session's by default), made on first use. The SDK
   * package is imported only then, so `--help` and commands that never call a service stay fast.
   */
  async client<S extends AwsService>(service: S, region = this.region.region): Promise<AwsClients[S]> {
    return this.memo(`${service}:${region}`, async () => {
      const {CLIENT_FACTORIES} = await import('./clients.js')
      return CLIENT_FACTORIES[service]({region, credentials: this.identity.credentials})
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

  /** Sends one command and turns its failure into a CidError naming the action, the resource and this session's identity. */
  async send<Output>(call: () => Promise<Output>, context: Omit<AwsCallContext, 'identity'>): Promise<Output> {
    try {
      return await call()
    } catch (error) {
      throw classifyAwsError(error, {...context, identity: this.identity.description})
    }
  }

  /** Destroys every client the session made; later requests for a client are refused. */
  async destroy(): Promise<void> {
    this.destroyed = true
    const clients = [...this.clients.values()]
    this.clients.clear()
    for (const client of await Promise.allSettled(clients)) if (client.status === 'fulfilled') client.value.destroy()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy()
  }

  /** How many clients the session holds (for tests and diagnostics). */
  get size(): number {
    return this.clients.size
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
