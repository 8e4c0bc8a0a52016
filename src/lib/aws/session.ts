import type {AthenaClient} from '@aws-sdk/client-athena'
import type {GlueClient} from '@aws-sdk/client-glue'
import type {QuickSightClient} from '@aws-sdk/client-quicksight'
import type {S3Client} from '@aws-sdk/client-s3'
import type {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import type {STSClient} from '@aws-sdk/client-sts'

import type {Logger} from '../log.js'
import type {S3ClientOptions} from './clients.js'
import {type AwsCallContext, classifyAwsError} from './errors.js'
import {type AwsIdentity, resolveIdentity} from './identity.js'

/**
 * One AWS session per command run: the region resolved once, the identity and its credentials
 * (default chain, or a parent role assumed from it), and clients made on first use, memoised, and
 * all destroyed when the run ends. Every command opens one; nothing else constructs a client.
 */

export type RegionSource = 'flag' | 'AWS_REGION' | 'AWS_DEFAULT_REGION' | 'fallback'

export interface ResolvedRegion {
  region: string
  source: RegionSource
  /** For messages: where the region came from, e.g. "--region", "AWS_REGION", "the cluster's region". */
  described: string
}

export interface RegionInputs {
  /** The command's `--region` flag, where it has one. */
  flag?: string
  env: Readonly<Record<string, string | undefined>>
  /** The command's own fallback (the cluster ARN's region; us-east-1 as the AWS CLI does). */
  fallback: {region: string; described: string}
}

/** Flag, then AWS_REGION, then AWS_DEFAULT_REGION, then the command's fallback: the one rule for every command. */
export function resolveRegion(inputs: RegionInputs): ResolvedRegion {
  if (inputs.flag) return {region: inputs.flag, source: 'flag', described: '--region'}
  const {AWS_REGION, AWS_DEFAULT_REGION} = inputs.env
  if (AWS_REGION) return {region: AWS_REGION, source: 'AWS_REGION', described: 'AWS_REGION'}
  if (AWS_DEFAULT_REGION)
    return {region: AWS_DEFAULT_REGION, source: 'AWS_DEFAULT_REGION', described: 'AWS_DEFAULT_REGION'}
  return {
    region: inputs.fallback.region,
    source: 'fallback',
    described: `${inputs.fallback.described}, as AWS_REGION is not set`,
  }
}

export interface SessionOptions extends RegionInputs {
  /** Role chaining: every client uses this role, assumed from the default chain's credentials. */
  parentRoleArn?: string
  logger?: Logger
}

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

  static async open(options: SessionOptions): Promise<AwsSession> {
    const region = resolveRegion(options)
    const identity = await resolveIdentity({
      parentRoleArn: options.parentRoleArn,
      region: region.region,
      env: options.env,
      logger: options.logger,
    })
    return new AwsSession(region, identity)
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

  async secretsManager(region = this.region.region): Promise<SecretsManagerClient> {
    return this.memo(`secretsmanager:${region}`, async () => {
      const {createSecretsManagerClient} = await import('./clients.js')
      return createSecretsManagerClient({region, credentials: this.identity.credentials})
    })
  }

  async sts(region = this.region.region): Promise<STSClient> {
    return this.memo(`sts:${region}`, async () => {
      const {createStsClient} = await import('./clients.js')
      return createStsClient({region, credentials: this.identity.credentials})
    })
  }

  // --- QuickSight (refresh-dataset): the QuickSight client, the Glue client it reads the crawler's schedule with, and the caller's account ---

  async quicksight(region = this.region.region): Promise<QuickSightClient> {
    return this.memo(`quicksight:${region}`, async () => {
      const {createQuickSightClient} = await import('./clients.js')
      return createQuickSightClient({region, credentials: this.identity.credentials})
    })
  }

  /** The Glue client for reading the crawler's schedule; named apart from any full Glue client of deploy-glue. */
  async glueForSchedule(region = this.region.region): Promise<GlueClient> {
    return this.memo(`glue-schedule:${region}`, async () => {
      const {createGlueScheduleClient} = await import('./clients.js')
      return createGlueScheduleClient({region, credentials: this.identity.credentials})
    })
  }

  /** The account of this session's identity (STS GetCallerIdentity), asked once. */
  async accountId(): Promise<string> {
    this.account ??= (async () => {
      const [sts, {GetCallerIdentityCommand}] = await Promise.all([this.sts(), import('@aws-sdk/client-sts')])
      const out = await this.send(() => sts.send(new GetCallerIdentityCommand({})), {
        action: 'sts:GetCallerIdentity',
        resource: 'the caller identity',
      })
      if (!out.Account) throw new Error('STS GetCallerIdentity answered without an account')
      return out.Account
    })()
    return this.account
  }

  // --- end QuickSight ---

  // --- Glue and Athena (deploy-glue, crawl) ---

  async glue(region = this.region.region): Promise<GlueClient> {
    return this.memo(`glue:${region}`, async () => {
      const {createGlueClient} = await import('./clients.js')
      return createGlueClient({region, credentials: this.identity.credentials})
    })
  }

  async athena(region = this.region.region): Promise<AthenaClient> {
    return this.memo(`athena:${region}`, async () => {
      const {createAthenaClient} = await import('./clients.js')
      return createAthenaClient({region, credentials: this.identity.credentials})
    })
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
