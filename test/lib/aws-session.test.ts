import assert from 'node:assert/strict'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, afterEach, before, describe, it, mock} from 'node:test'

import {AthenaClient} from '@aws-sdk/client-athena'
import {GlueClient} from '@aws-sdk/client-glue'
import {S3Client} from '@aws-sdk/client-s3'
import {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {STSClient} from '@aws-sdk/client-sts'

import {resolveRegion} from '../../src/lib/aws/region.js'
import {AwsSession} from '../../src/lib/aws/session.js'
import {AwsError, ConfigError} from '../../src/lib/errors.js'
import {tempDir} from '../helpers.js'
import {named} from '../settings.js'

const FALLBACK = {region: 'eu-west-1', described: "the cluster's region"}
/** No shared config or credentials file: what the machine running the tests has must not count. */
const NO_FILES = {AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials'}

describe('resolveRegion: one rule for every command', () => {
  const cases: Array<[string, {flag?: string; env: Record<string, string>}, string, string]> = [
    [
      'the flag wins over everything',
      {flag: 'ap-south-2', env: {AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'us-east-2'}},
      'ap-south-2',
      '--region (GLUE_REGION)',
    ],
    ['then AWS_REGION', {env: {AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'us-east-2'}}, 'us-west-2', 'AWS_REGION'],
    ['then AWS_DEFAULT_REGION', {env: {AWS_DEFAULT_REGION: 'us-east-2'}}, 'us-east-2', 'AWS_DEFAULT_REGION'],
    ["then the command's fallback", {env: {}}, 'eu-west-1', "the cluster's region, as no AWS region is configured"],
    [
      'an empty variable counts as unset',
      {env: {AWS_REGION: ''}},
      'eu-west-1',
      "the cluster's region, as no AWS region is configured",
    ],
  ]
  for (const [what, inputs, region, described] of cases) {
    it(what, async () => {
      const resolved = await resolveRegion({...inputs, env: {...NO_FILES, ...inputs.env}, fallback: FALLBACK})
      assert.equal(resolved.region, region)
      assert.equal(named(resolved.described, 'crawl'), described)
    })
  }
})

describe("resolveRegion: the profile's region, read from the shared files as the SDK reads them", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let config: string
  let credentials: string
  before(async () => {
    dir = await tempDir()
    config = join(dir.path, 'config')
    credentials = join(dir.path, 'credentials')
    await writeFile(
      config,
      [
        '[default]',
        'region = us-west-2',
        '[profile ops]',
        'region = eu-west-1',
        '[profile keys-only]',
        'output = json',
        '[profile broken]',
        'region = eu west 1',
      ].join('\n'),
    )
    await writeFile(credentials, ['[keys-only]', 'region = ap-southeast-2', '[ops]', 'region = sa-east-1'].join('\n'))
  })
  after(() => dir.remove())
  const files = () => ({AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials})

  it('AWS_PROFILE picks the profile; its region in the config file wins over the credentials file', async () => {
    const resolved = await resolveRegion({env: {...files(), AWS_PROFILE: 'ops'}})
    assert.deepEqual(resolved, {region: 'eu-west-1', source: 'profile', described: `profile ops in ${config}`})
  })

  it('without AWS_PROFILE, the default profile', async () => {
    const resolved = await resolveRegion({env: files()})
    assert.equal(resolved.region, 'us-west-2')
    assert.equal(resolved.described, `profile default in ${config}`)
  })

  it('a region only in the credentials file counts too, and says so', async () => {
    const resolved = await resolveRegion({env: {...files(), AWS_PROFILE: 'keys-only'}})
    assert.equal(resolved.region, 'ap-southeast-2')
    assert.equal(resolved.described, `profile keys-only in ${credentials}`)
  })

  it("AWS_REGION and the flag win over the profile; the profile wins over the command's fallback", async () => {
    const env = {...files(), AWS_PROFILE: 'ops'}
    assert.equal((await resolveRegion({env: {...env, AWS_REGION: 'us-east-2'}})).region, 'us-east-2')
    assert.equal((await resolveRegion({env, flag: 'ca-central-1'})).region, 'ca-central-1')
    assert.equal((await resolveRegion({env, fallback: FALLBACK})).source, 'profile')
  })

  it('names the file ~/.aws/config when it is the one under the home directory', async () => {
    const home = process.env.HOME
    const homeDir = await tempDir()
    try {
      process.env.HOME = homeDir.path
      await mkdir(join(homeDir.path, '.aws'))
      await writeFile(join(homeDir.path, '.aws', 'config'), '[profile ops]\nregion = eu-central-1\n')
      const resolved = await resolveRegion({env: {AWS_PROFILE: 'ops'}})
      assert.equal(resolved.described, 'profile ops in ~/.aws/config')
      assert.equal(resolved.region, 'eu-central-1')
    } finally {
      process.env.HOME = home
      await homeDir.remove()
    }
  })

  it('a malformed region is a configuration error naming the value and where it came from, from any source', async () => {
    const sources: Array<[Record<string, string>, RegExp]> = [
      [{AWS_REGION: 'us-east-1x'}, /^Invalid AWS region "us-east-1x" in AWS_REGION: /],
      [{AWS_DEFAULT_REGION: 'US-EAST-1'}, /^Invalid AWS region "US-EAST-1" in AWS_DEFAULT_REGION: /],
      [
        {...files(), AWS_PROFILE: 'broken'},
        new RegExp(`^Invalid AWS region "eu west 1" in the region of profile broken in ${config}: `),
      ],
    ]
    for (const [env, message] of sources) {
      await assert.rejects(
        resolveRegion({env: {...NO_FILES, ...env}, fallback: FALLBACK}),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.exitCode === 2 &&
          error.code === 'INVALID_REGION' &&
          message.test(error.summary),
      )
    }
  })

  it('no region anywhere: a command without a fallback is refused, naming every way to set one', async () => {
    const env = {...files(), AWS_PROFILE: 'keys-only', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials'}
    await assert.rejects(resolveRegion({env, regionFlag: true}), (error: unknown) => {
      assert.ok(error instanceof ConfigError)
      assert.equal(error.exitCode, 2)
      assert.equal(
        named(error.summary, 'crawl'),
        `No AWS region is configured: set --region (GLUE_REGION), or AWS_REGION, or region = <region> in profile keys-only of ${config}`,
      )
      return true
    })
    await assert.rejects(resolveRegion({env}), /set AWS_REGION, or region = <region> in profile keys-only/)
  })
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

    const session = await AwsSession.open({env: {...NO_FILES, AWS_REGION: 'us-west-2'}, fallback: FALLBACK})
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
    const session = await AwsSession.open({env: {...NO_FILES, AWS_PROFILE: 'finops'}, fallback: FALLBACK})
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
