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
  type GlueClient,
  StartCrawlerCommand,
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

/** The Glue Data Catalog operations deploy-glue and crawl make, over the session's client. */
export class GlueCatalog {
  constructor(
    private readonly client: GlueClient,
    private readonly sender: Sender,
  ) {}

  async databaseExists(name: string): Promise<boolean> {
    const found = await orMissing(
      this.sender.send(() => this.client.send(new GetDatabaseCommand({Name: name})), {
        action: 'glue:GetDatabase',
        resource: `database ${name}`,
      }),
    )
    return found !== undefined
  }

  async createDatabase(name: string): Promise<void> {
    await this.sender.send(() => this.client.send(new CreateDatabaseCommand({DatabaseInput: {Name: name}})), {
      action: 'glue:CreateDatabase',
      resource: `database ${name}`,
    })
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
    await this.sender.send(() => this.client.send(new UpdateCrawlerCommand(crawlerInput(crawler))), {
      action: 'glue:UpdateCrawler',
      resource: `crawler ${crawler.Name}`,
    })
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
  }
}

/** Keys under a table location, up to `limit` of them (a bound on the listing of a very large bucket). */
export async function listLocationKeys(
  s3: S3Client,
  sender: Sender,
  bucket: string,
  prefix: string,
  limit: number,
): Promise<{keys: string[]; truncated: boolean}> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await sender.send(
      () => s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token})),
      {
        action: 's3:ListBucket',
        resource: `s3://${bucket}/${prefix}`,
      },
    )
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key)
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token && keys.length < limit)
  return {keys, truncated: token !== undefined}
}
