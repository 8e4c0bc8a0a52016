import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {type ClusterIdentity, parseClusterArn, requireCluster} from '../../src/lib/cluster.js'
import {ConfigError, InvalidInputError} from '../../src/lib/errors.js'
import {named} from '../settings.js'

function assertInvalid(value: string): void {
  assert.throws(
    () => parseClusterArn(value, {flag: 'cluster-arn', env: 'CLUSTER_ID'}),
    (error: unknown) => {
      assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${String(error)}`)
      assert.equal(error.exitCode, 2)
      assert.equal(error.code, 'INVALID_INPUT')
      assert.equal(error.flag, 'cluster-arn')
      assert.equal(error.envVar, 'CLUSTER_ID')
      assert.equal(error.value, value)
      assert.ok(error.message.includes('--cluster-arn'), error.message)
      assert.ok(error.message.includes('CLUSTER_ID'), error.message)
      assert.ok(error.message.includes(`"${value}"`), error.message)
      assert.ok(error.suggestions.length > 0)
      return true
    },
  )
}

describe('parseClusterArn', () => {
  it('splits a commercial ARN into partition, region, account and name', () => {
    assert.deepEqual(parseClusterArn('arn:aws:eks:us-east-1:111122223333:cluster/prod'), {
      arn: 'arn:aws:eks:us-east-1:111122223333:cluster/prod',
      partition: 'aws',
      region: 'us-east-1',
      accountId: '111122223333',
      name: 'prod',
    })
  })

  const cases: Array<[string, Omit<ClusterIdentity, 'arn'>]> = [
    [
      'arn:aws-cn:eks:cn-north-1:123456789012:cluster/china',
      {partition: 'aws-cn', region: 'cn-north-1', accountId: '123456789012', name: 'china'},
    ],
    [
      'arn:aws-us-gov:eks:us-gov-west-1:000000000001:cluster/gov_cluster',
      {partition: 'aws-us-gov', region: 'us-gov-west-1', accountId: '000000000001', name: 'gov_cluster'},
    ],
    [
      'arn:aws-iso-b:eks:us-isob-east-1:111122223333:cluster/isob',
      {partition: 'aws-iso-b', region: 'us-isob-east-1', accountId: '111122223333', name: 'isob'},
    ],
    [
      'arn:aws:eks:me-south-1:111122223333:cluster/bahrain',
      {partition: 'aws', region: 'me-south-1', accountId: '111122223333', name: 'bahrain'},
    ],
    [
      'arn:aws:eks:il-central-1:111122223333:cluster/tel-aviv',
      {partition: 'aws', region: 'il-central-1', accountId: '111122223333', name: 'tel-aviv'},
    ],
    [
      'arn:aws:eks:af-south-1:111122223333:cluster/cape-town',
      {partition: 'aws', region: 'af-south-1', accountId: '111122223333', name: 'cape-town'},
    ],
    [
      'arn:aws:eks:ap-southeast-5:111122223333:cluster/Malaysia01',
      {partition: 'aws', region: 'ap-southeast-5', accountId: '111122223333', name: 'Malaysia01'},
    ],
  ]
  for (const [arn, expected] of cases) {
    it(`accepts ${arn}`, () => {
      assert.deepEqual(parseClusterArn(arn), {arn, ...expected})
    })
  }

  it('trims surrounding whitespace (from an environment variable)', () => {
    const id = parseClusterArn('  arn:aws:eks:eu-west-1:111122223333:cluster/prod\n')
    assert.equal(id.arn, 'arn:aws:eks:eu-west-1:111122223333:cluster/prod')
    assert.equal(id.name, 'prod')
  })

  it('accepts a 100-character name and rejects 101', () => {
    const name = `a${'b'.repeat(99)}`
    assert.equal(parseClusterArn(`arn:aws:eks:us-east-1:111122223333:cluster/${name}`).name, name)
    assertInvalid(`arn:aws:eks:us-east-1:111122223333:cluster/${name}x`)
  })

  it('rejects a value that is not an ARN', () => {
    assertInvalid('prod')
    assertInvalid('')
    assertInvalid('https://eks.us-east-1.amazonaws.com/clusters/prod')
  })

  it('rejects an ARN of another service', () => {
    assertInvalid('arn:aws:ecs:us-east-1:111122223333:cluster/prod')
    assertInvalid('arn:aws:iam::111122223333:role/prod')
  })

  it('rejects a resource that is not a cluster', () => {
    assertInvalid('arn:aws:eks:us-east-1:111122223333:nodegroup/prod/ng/abc')
  })

  it('rejects an account id that is not 12 digits', () => {
    assertInvalid('arn:aws:eks:us-east-1:11112222333:cluster/prod')
    assertInvalid('arn:aws:eks:us-east-1:1111222233334:cluster/prod')
    assertInvalid('arn:aws:eks:us-east-1:11112222333a:cluster/prod')
  })

  it('rejects a missing or malformed cluster name', () => {
    assertInvalid('arn:aws:eks:us-east-1:111122223333:cluster/')
    assertInvalid('arn:aws:eks:us-east-1:111122223333:cluster')
    assertInvalid('arn:aws:eks:us-east-1:111122223333:cluster/-prod')
    assertInvalid('arn:aws:eks:us-east-1:111122223333:cluster/prod/extra')
    assertInvalid('arn:aws:eks:us-east-1:111122223333:cluster/prod.eu')
  })

  it('rejects a missing or malformed region and partition', () => {
    assertInvalid('arn:aws:eks::111122223333:cluster/prod')
    assertInvalid('arn:aws:eks:useast1:111122223333:cluster/prod')
    assertInvalid('arn:gcp:eks:us-east-1:111122223333:cluster/prod')
  })

  it('names the cluster ARN setting when no flag is given, as the CLI shows it', () => {
    assert.throws(
      () => parseClusterArn('nope'),
      (error: unknown) =>
        error instanceof InvalidInputError &&
        named(error.message).startsWith('Invalid --cluster-arn (CLUSTER_ID) "nope": not an EKS cluster ARN'),
    )
  })

  it('uses the flag and env var it is given in the message', () => {
    assert.throws(
      () => parseClusterArn('nope', {flag: 'cluster', env: 'MY_CLUSTER'}),
      (error: unknown) =>
        error instanceof InvalidInputError && error.message.startsWith('Invalid --cluster (MY_CLUSTER) "nope": '),
    )
  })
})

describe('requireCluster', () => {
  it('returns the cluster when there is one', () => {
    const cluster = parseClusterArn('arn:aws:eks:us-east-1:111122223333:cluster/prod')
    assert.equal(requireCluster(cluster), cluster)
  })

  it('throws a ConfigError (exit 2) naming --cluster-arn and CLUSTER_ID when there is none', () => {
    assert.throws(
      () => requireCluster(undefined),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError)
        assert.ok(!(error instanceof InvalidInputError))
        assert.equal(error.exitCode, 2)
        assert.equal(error.code, 'CONFIG')
        assert.ok(named(error.message).includes('--cluster-arn (CLUSTER_ID)'), named(error.message))
        return true
      },
    )
  })
})
