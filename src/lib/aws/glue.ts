import {
  CreateCrawlerCommand,
  type CreateCrawlerCommandInput,
  CreateDatabaseCommand,
  CreateTableCommand,
  GetCrawlerCommand,
  GetCrawlerMetricsCommand,
  GetDatabaseCommand,
  GetPartitionsCommand,
  GetTableCommand,
  GetTagsCommand,
  type GlueClient,
  StartCrawlerCommand,
  TagResourceCommand,
  UpdateCrawlerCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-glue'
import {ListObjectsV2Command, type S3Client} from '@aws-sdk/client-s3'

import {AwsError} from '../errors.js'
import type {ExistingCrawler, ExistingTable} from '../glue/compare.js'
import type {CrawlerDefinition, TableDefinition} from '../glue/definitions.js'
import type {AwsCallContext} from './errors.js'

/** How a session sends a call: classifying its failure with the session's identity. */
export interface Sender {
  send<Output>(call: () => Promise<Output>, context: Omit<AwsCallContext, 'identity'>): Promise<Output>
}

const missing = (error: unknown) => error instanceof AwsError && error.code === 'AWS_NOT_FOUND'

async function orMissing<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work
  } catch (error) {
    if (missing(error)) return undefined
    throw error
  }
}

export interface CrawlState extends ExistingCrawler {
  State?: string
  LastCrawl?: {
    Status?: string
    ErrorMessage?: string
    LogGroup?: string
    LogStream?: string
    MessagePrefix?: string
    StartTime?: Date
  }
}

export interface CrawlerMetrics {
  tablesCreated?: number
  tablesUpdated?: number
  tablesDeleted?: number
  lastRuntimeSeconds?: number
}

/** What an ARN of the session's resources needs: its region and its account (STS, asked once). */
export interface ArnSource {
  readonly region: {region: string}
  accountId(): Promise<string>
}

/** The partition of a region's ARNs. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn'
  if (region.startsWith('us-gov-')) return 'aws-us-gov'
  return 'aws'
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>` in the session's region and account. */
export async function arnOf(source: ArnSource, service: string, resource: string): Promise<string> {
  const {region} = source.region
  return `arn:${partitionOf(region)}:${service}:${region}:${await source.accountId()}:${resource}`
}

/** The Glue Data Catalog operations deploy-glue and crawl make, over the session's client. */
export class GlueCatalog {
  constructor(
    private readonly client: GlueClient,
    private readonly sender: Sender,
    /** Needed only for the crawler's tags, which Glue addresses by ARN. */
    private readonly arns?: ArnSource,
  ) {}

  async getDatabase(name: string): Promise<{Parameters?: Record<string, string>} | undefined> {
    const found = await orMissing(
      this.sender.send(() => this.client.send(new GetDatabaseCommand({Name: name})), {
        action: 'glue:GetDatabase',
        resource: `database ${name}`,
      }),
    )
    return found && {Parameters: found.Database?.Parameters}
  }

  async createDatabase(name: string, parameters: Readonly<Record<string, string>>): Promise<void> {
    await this.sender.send(
      () => this.client.send(new CreateDatabaseCommand({DatabaseInput: {Name: name, Parameters: {...parameters}}})),
      {action: 'glue:CreateDatabase', resource: `database ${name}`},
    )
  }

  async getTable(database: string, name: string): Promise<ExistingTable | undefined> {
    const out = await orMissing(
      this.sender.send(() => this.client.send(new GetTableCommand({DatabaseName: database, Name: name})), {
        action: 'glue:GetTable',
        resource: `table ${database}.${name}`,
      }),
    )
    return out?.Table
  }

  async createTable(database: string, table: TableDefinition): Promise<void> {
    await this.sender.send(
      () => this.client.send(new CreateTableCommand({DatabaseName: database, TableInput: table})),
      {action: 'glue:CreateTable', resource: `table ${database}.${table.Name}`},
    )
  }

  /**
   * Replaces the table's definition; its partitions are left as they are. Glue archives the previous
   * definition as a table version (no SkipArchive), so an update can be undone.
   */
  async updateTable(database: string, table: TableDefinition): Promise<void> {
    await this.sender.send(
      () => this.client.send(new UpdateTableCommand({DatabaseName: database, TableInput: table})),
      {
        action: 'glue:UpdateTable',
        resource: `table ${database}.${table.Name}`,
      },
    )
  }

  async getCrawler(name: string): Promise<CrawlState | undefined> {
    const out = await orMissing(
      this.sender.send(() => this.client.send(new GetCrawlerCommand({Name: name})), {
        action: 'glue:GetCrawler',
        resource: `crawler ${name}`,
      }),
    )
    return out?.Crawler
  }

  async createCrawler(crawler: CrawlerDefinition): Promise<void> {
    await this.sender.send(() => this.client.send(new CreateCrawlerCommand(crawlerInput(crawler))), {
      action: 'glue:CreateCrawler',
      resource: `crawler ${crawler.Name}`,
    })
  }

  async updateCrawler(crawler: CrawlerDefinition): Promise<void> {
    // UpdateCrawler takes no tags: the crawler keeps its own.
    const input = {...crawlerInput(crawler), Tags: undefined}
    await this.sender.send(() => this.client.send(new UpdateCrawlerCommand(input)), {
      action: 'glue:UpdateCrawler',
      resource: `crawler ${crawler.Name}`,
    })
  }

  async crawlerTags(name: string): Promise<Record<string, string>> {
    const arn = await this.crawlerArn(name)
    const out = await this.sender.send(() => this.client.send(new GetTagsCommand({ResourceArn: arn})), {
      action: 'glue:GetTags',
      resource: `crawler ${name}`,
    })
    return out.Tags ?? {}
  }

  async tagCrawler(name: string, tags: Readonly<Record<string, string>>): Promise<void> {
    const arn = await this.crawlerArn(name)
    await this.sender.send(() => this.client.send(new TagResourceCommand({ResourceArn: arn, TagsToAdd: {...tags}})), {
      action: 'glue:TagResource',
      resource: `crawler ${name}`,
    })
  }

  private async crawlerArn(name: string): Promise<string> {
    if (!this.arns) throw new Error("GlueCatalog needs the session's region and account to address a crawler's tags")
    return arnOf(this.arns, 'glue', `crawler/${name}`)
  }

  /** Starts a crawl; `running` when one was already under way (CrawlerRunningException), which the caller attaches to. */
  async startCrawler(name: string): Promise<'started' | 'running'> {
    try {
      await this.sender.send(() => this.client.send(new StartCrawlerCommand({Name: name})), {
        action: 'glue:StartCrawler',
        resource: `crawler ${name}`,
      })
      return 'started'
    } catch (error) {
      if (
        error instanceof AwsError &&
        error.code === 'AWS_CONCURRENT' &&
        error.cause instanceof Error &&
        error.cause.name === 'CrawlerRunningException'
      )
        return 'running'
      throw error
    }
  }

  /**
   * Every page of GetPartitions, without the column lists (ExcludeColumnSchema): only the count is
   * wanted. A table that does not exist has none (its crawl then fails and says so).
   */
  async countPartitions(database: string, table: string): Promise<number> {
    let count = 0
    let token: string | undefined
    do {
      const page = await orMissing(
        this.sender.send(
          () =>
            this.client.send(
              new GetPartitionsCommand({
                DatabaseName: database,
                TableName: table,
                ExcludeColumnSchema: true,
                NextToken: token,
              }),
            ),
          {action: 'glue:GetPartitions', resource: `table ${database}.${table}`},
        ),
      )
      count += page?.Partitions?.length ?? 0
      token = page?.NextToken || undefined
    } while (token)
    return count
  }

  async crawlerMetrics(name: string): Promise<CrawlerMetrics> {
    const out = await this.sender.send(
      () => this.client.send(new GetCrawlerMetricsCommand({CrawlerNameList: [name]})),
      {action: 'glue:GetCrawlerMetrics', resource: `crawler ${name}`},
    )
    const m = out.CrawlerMetricsList?.[0]
    return {
      tablesCreated: m?.TablesCreated,
      tablesUpdated: m?.TablesUpdated,
      tablesDeleted: m?.TablesDeleted,
      lastRuntimeSeconds: m?.LastRuntimeSeconds,
    }
  }
}

function crawlerInput(c: CrawlerDefinition): CreateCrawlerCommandInput {
  return {
    Name: c.Name,
    Role: c.Role,
    Targets: {CatalogTargets: [{DatabaseName: c.DatabaseName, Tables: [c.TableName]}]},
    Schedule: c.Schedule,
    SchemaChangePolicy: {UpdateBehavior: c.UpdateBehavior, DeleteBehavior: c.DeleteBehavior},
    Configuration: c.Configuration,
    Tags: {...c.Tags},
  }
}

/** Keys under a table location, up to `limit` of them (a bound on the listing of a very large bucket). */
export async function listLocationKeys(
  s3: S3Client,
  sender: Sender,
  bucket: string,
  prefix: string,
  limit: number,
  /** The S3-compatible endpoint of `s3`, if one is configured: a failure to reach it names it. */
  endpoint?: string,
): Promise<{keys: string[]; truncated: boolean}> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await sender.send(
      () => s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token})),
      {
        action: 's3:ListBucket',
        resource: `s3://${bucket}/${prefix}`,
        endpoint,
      },
    )
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key)
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token && keys.length < limit)
  return {keys, truncated: token !== undefined}
}
