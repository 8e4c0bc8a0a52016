import assert from 'node:assert/strict'
import {afterEach, describe, it, mock} from 'node:test'

import {AthenaClient} from '@aws-sdk/client-athena'
import {GlueClient} from '@aws-sdk/client-glue'
import {S3Client} from '@aws-sdk/client-s3'
import {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {STSClient} from '@aws-sdk/client-sts'

import {AwsSession, resolveRegion} from '../../src/lib/aws/session.js'
import {AwsError} from '../../src/lib/errors.js'
import {named} from '../settings.js'

const FALLBACK = {region: 'eu-west-1', described: "the cluster's region"}

describe('resolveRegion: one rule for every command', () => {
  const cases: Array<[string, {flag?: string; env: Record<string, string>}, string, string]> = [
    [
      'the flag wins over everything',
      {flag: 'ap-south-2', env: {AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'us-east-2'}},
      'ap-south-2',
      '--region',
    ],
    ['then AWS_REGION', {env: {AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'us-east-2'}}, 'us-west-2', 'AWS_REGION'],
    ['then AWS_DEFAULT_REGION', {env: {AWS_DEFAULT_REGION: 'us-east-2'}}, 'us-east-2', 'AWS_DEFAULT_REGION'],
    ["then the command's fallback", {env: {}}, 'eu-west-1', "the cluster's region, as AWS_REGION is not set"],
    [
      'an empty variable counts as unset',
      {env: {AWS_REGION: ''}},
      'eu-west-1',
      "the cluster's region, as AWS_REGION is not set",
    ],
  ]
  for (const [what, inputs, region, described] of cases) {
    it(what, () => {
      const resolved = resolveRegion({...inputs, fallback: FALLBACK})
      assert.equal(resolved.region, region)
      assert.equal(named(resolved.described), described)
    })
  }
})

describe('AwsSession', () => {
  afterEach(() => mock.restoreAll())

  it("makes each client once, in the session's region, and destroys every one at the end", async () => {
    const destroyed: string[] = []
    for (const [name, Client] of [
      ['s3', S3Client],
      ['sts', STSClient],
      ['secretsmanager', SecretsManagerClient],
      ['glue', GlueClient],
      ['athena', AthenaClient],
    ] as const) {
      mock.method(Client.prototype, 'destroy', () => destroyed.push(name))
    }

    const session = await AwsSession.open({env: {AWS_REGION: 'us-west-2'}, fallback: FALLBACK})
    const s3 = await session.s3()
    assert.equal(await session.s3(), s3)
    assert.equal(await s3.config.region(), 'us-west-2')
    const other = await session.s3({region: 'eu-central-1'})
    assert.notEqual(other, s3)
    assert.equal(await other.config.region(), 'eu-central-1')
    await session.client('sts')
    await session.client('secretsManager', 'ap-south-1')
    const glue = await session.client('glue')
    assert.ok(glue instanceof GlueClient)
    assert.equal(await session.client('glue'), glue)
    assert.equal(await glue.config.region(), 'us-west-2')
    assert.ok((await session.client('athena', 'eu-west-1')) instanceof AthenaClient)
    // Read apart from the full Glue client, but a Glue client all the same.
    assert.notEqual(await session.client('glueForSchedule'), glue)
    assert.equal(session.size, 7)

    await session[Symbol.asyncDispose]()
    assert.deepEqual(destroyed.sort(), ['athena', 'glue', 'glue', 's3', 's3', 'secretsmanager', 'sts'])
    assert.equal(session.size, 0)
    await assert.rejects(session.s3(), /already closed/)
  })

  it('sends a call and classifies its failure with the action, the resource and the identity', async () => {
    const session = await AwsSession.open({env: {AWS_PROFILE: 'finops'}, fallback: FALLBACK})
    const denied = Object.assign(new Error('no'), {name: 'AccessDeniedException', $metadata: {httpStatusCode: 400}})
    await assert.rejects(
      session.send(async () => Promise.reject(denied), {
        action: 'glue:GetTable',
        resource: 'table kubecost_db.kubecost_table',
      }),
      (error: unknown) =>
        error instanceof AwsError &&
        error.code === 'AWS_ACCESS_DENIED' &&
        error.summary ===
          'Access denied: glue:GetTable on table kubecost_db.kubecost_table as profile finops (AWS_PROFILE) (AccessDeniedException)',
    )
    assert.equal(await session.send(async () => 'ok', {action: 'x', resource: 'y'}), 'ok')
    await session.destroy()
  })
})
