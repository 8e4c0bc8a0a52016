import {
  type AthenaClient,
  CreateWorkGroupCommand,
  type EncryptionOption,
  GetQueryExecutionCommand,
  GetWorkGroupCommand,
  ListTagsForResourceCommand,
  ListWorkGroupsCommand,
  StartQueryExecutionCommand,
  TagResourceCommand,
  UpdateWorkGroupCommand,
} from '@aws-sdk/client-athena'

import {WORKGROUP_DESCRIPTION} from '../glue/ownership.js'
import type {QueryApi, QueryStatus} from '../glue/verify.js'
import type {WorkgroupApi, WorkgroupSettings} from '../glue/workgroup.js'
import {type ArnSource, type Sender, arnOf} from './glue.js'

type Wanted = Parameters<WorkgroupApi['createWorkgroup']>[1]

const encryption = (s: Wanted) => ({
  EncryptionOption: s.encryption as EncryptionOption,
  ...(s.kmsKey ? {KmsKey: s.kmsKey} : {}),
})

/** Athena workgroup operations, and the queries deploy-glue --verify runs, over the session's client. */
export class AthenaWorkgroups implements WorkgroupApi, QueryApi {
  constructor(
    private readonly client: AthenaClient,
    private readonly sender: Sender,
    /** Needed only for a workgroup's tags, which Athena addresses by ARN. */
    private readonly arns?: ArnSource,
  ) {}

  async getWorkgroup(name: string): Promise<WorkgroupSettings | undefined> {
    // Athena answers a missing workgroup with a generic InvalidRequestException: the listing says whether it exists.
    if (!(await this.names()).includes(name)) return undefined
    const out = await this.sender.send(() => this.client.send(new GetWorkGroupCommand({WorkGroup: name})), {
      action: 'athena:GetWorkGroup',
      resource: `workgroup ${name}`,
    })
    const config = out.WorkGroup?.Configuration
    const result = config?.ResultConfiguration
    return {
      outputLocation: result?.OutputLocation,
      encryption: result?.EncryptionConfiguration?.EncryptionOption,
      kmsKey: result?.EncryptionConfiguration?.KmsKey,
      enforced: config?.EnforceWorkGroupConfiguration,
      description: out.WorkGroup?.Description,
    }
  }

  async workgroupTags(name: string): Promise<Record<string, string>> {
    const arn = await this.workgroupArn(name)
    const tags: Record<string, string> = {}
    let token: string | undefined
    do {
      const page = await this.sender.send(
        () => this.client.send(new ListTagsForResourceCommand({ResourceARN: arn, NextToken: token})),
        {action: 'athena:ListTagsForResource', resource: `workgroup ${name}`},
      )
      for (const t of page.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? ''
      token = page.NextToken
    } while (token)
    return tags
  }

  async tagWorkgroup(name: string, tags: Readonly<Record<string, string>>): Promise<void> {
    const arn = await this.workgroupArn(name)
    await this.sender.send(() => this.client.send(new TagResourceCommand({ResourceARN: arn, Tags: tagList(tags)})), {
      action: 'athena:TagResource',
      resource: `workgroup ${name}`,
    })
  }

  async createWorkgroup(name: string, s: Wanted, tags: Readonly<Record<string, string>>): Promise<void> {
    await this.sender.send(
      () =>
        this.client.send(
          new CreateWorkGroupCommand({
            Name: name,
            Description: WORKGROUP_DESCRIPTION,
            Tags: tagList(tags),
            Configuration: {
              ResultConfiguration: {OutputLocation: s.outputLocation, EncryptionConfiguration: encryption(s)},
              EnforceWorkGroupConfiguration: true,
              PublishCloudWatchMetricsEnabled: true,
            },
          }),
        ),
      {action: 'athena:CreateWorkGroup', resource: `workgroup ${name}`},
    )
  }

  async updateWorkgroup(name: string, s: Wanted): Promise<void> {
    await this.sender.send(
      () =>
        this.client.send(
          new UpdateWorkGroupCommand({
            WorkGroup: name,
            ConfigurationUpdates: {
              ResultConfigurationUpdates: {OutputLocation: s.outputLocation, EncryptionConfiguration: encryption(s)},
              EnforceWorkGroupConfiguration: true,
            },
          }),
        ),
      {action: 'athena:UpdateWorkGroup', resource: `workgroup ${name}`},
    )
  }

  async startQuery(sql: string, workgroup: string): Promise<string> {
    const out = await this.sender.send(
      () => this.client.send(new StartQueryExecutionCommand({QueryString: sql, WorkGroup: workgroup})),
      {action: 'athena:StartQueryExecution', resource: `workgroup ${workgroup}`},
    )
    if (!out.QueryExecutionId) throw new Error('Athena StartQueryExecution answered without a query id')
    return out.QueryExecutionId
  }

  async queryStatus(id: string, workgroup: string): Promise<QueryStatus> {
    const out = await this.sender.send(() => this.client.send(new GetQueryExecutionCommand({QueryExecutionId: id})), {
      action: 'athena:GetQueryExecution',
      resource: `query ${id} in workgroup ${workgroup}`,
    })
    const status = out.QueryExecution?.Status
    return {
      state: status?.State ?? 'UNKNOWN',
      reason: status?.StateChangeReason ?? status?.AthenaError?.ErrorMessage,
    }
  }

  private async workgroupArn(name: string): Promise<string> {
    if (!this.arns)
      throw new Error("AthenaWorkgroups needs the session's region and account to address a workgroup's tags")
    return arnOf(this.arns, 'athena', `workgroup/${name}`)
  }

  private async names(): Promise<string[]> {
    const names: string[] = []
    let token: string | undefined
    do {
      const page = await this.sender.send(() => this.client.send(new ListWorkGroupsCommand({NextToken: token})), {
        action: 'athena:ListWorkGroups',
        resource: 'workgroups',
      })
      for (const w of page.WorkGroups ?? []) if (w.Name) names.push(w.Name)
      token = page.NextToken
    } while (token)
    return names
  }
}

const tagList = (tags: Readonly<Record<string, string>>) => Object.entries(tags).map(([Key, Value]) => ({Key, Value}))
