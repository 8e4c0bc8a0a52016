import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {AssumeRoleCommand, STSClient} from '@aws-sdk/client-sts'
import {mockClient} from 'aws-sdk-client-mock'

import {describeDefaultIdentity} from '../../src/lib/aws/identity.js'
import {assumedRoleCredentials} from '../../src/lib/aws/credentials.js'
import {AwsError} from '../../src/lib/errors.js'

const ROLE = 'arn:aws:iam::999988887777:role/parent'
const HOUR = 3_600_000

function stsReturning(lifetimeMs: number, clock: {now: number}) {
  const sts = mockClient(STSClient)
  let n = 0
  sts.on(AssumeRoleCommand).callsFake(async () => {
    n++
    return {
      Credentials: {
        AccessKeyId: `AKIA${n}`,
        SecretAccessKey: `secret-${n}`,
        SessionToken: `token-${n}`,
        Expiration: new Date(clock.now + lifetimeMs),
      },
    }
  })
  return sts
}

describe('assumedRoleCredentials', () => {
  it('assumes the role with session name kubecost-s3-exporter and reuses the session while it is fresh', async () => {
    const clock = {now: Date.parse('2026-03-05T00:00:00Z')}
    const sts = stsReturning(HOUR, clock)
    const provider = assumedRoleCredentials({sts: new STSClient({}), roleArn: ROLE, now: () => clock.now})
    const first = await provider()
    clock.now += 30 * 60_000
    const second = await provider()
    assert.equal(first.accessKeyId, 'AKIA1')
    assert.equal(second.accessKeyId, 'AKIA1')
    const calls = sts.commandCalls(AssumeRoleCommand)
    assert.equal(calls.length, 1)
    assert.deepEqual(calls[0]?.args[0].input, {
      RoleArn: ROLE,
      RoleSessionName: 'kubecost-s3-exporter',
      DurationSeconds: 3600,
    })
    sts.restore()
  })

  it('assumes the role again when the session is within the refresh margin of expiry, as in a long back-fill', async () => {
    const clock = {now: Date.parse('2026-03-05T00:00:00Z')}
    const sts = stsReturning(HOUR, clock)
    const provider = assumedRoleCredentials({
      sts: new STSClient({}),
      roleArn: ROLE,
      now: () => clock.now,
      refreshMarginMs: 5 * 60_000,
    })
    const seen: string[] = []
    // A day exported every 20 minutes for 3 hours.
    for (let minute = 0; minute <= 180; minute += 20) {
      clock.now = Date.parse('2026-03-05T00:00:00Z') + minute * 60_000
      const credentials = await provider()
      assert.ok(
        (credentials.expiration?.getTime() ?? 0) - clock.now > 5 * 60_000,
        `stale credentials at minute ${minute}`,
      )
      seen.push(credentials.accessKeyId)
    }

    assert.deepEqual([...new Set(seen)], ['AKIA1', 'AKIA2', 'AKIA3', 'AKIA4'])
    sts.restore()
  })

  it('makes one AssumeRole call for concurrent first uses', async () => {
    const clock = {now: Date.now()}
    const sts = stsReturning(HOUR, clock)
    const provider = assumedRoleCredentials({sts: new STSClient({}), roleArn: ROLE, now: () => clock.now})
    await Promise.all([provider(), provider(), provider()])
    assert.equal(sts.commandCalls(AssumeRoleCommand).length, 1)
    sts.restore()
  })

  it('reports AccessDenied with the action and the role', async () => {
    const sts = mockClient(STSClient)
    const denied = Object.assign(new Error('not authorized'), {name: 'AccessDenied', $metadata: {httpStatusCode: 403}})
    sts.on(AssumeRoleCommand).rejects(denied)
    const provider = assumedRoleCredentials({sts: new STSClient({}), roleArn: ROLE})
    await assert.rejects(provider(), (error: unknown) => {
      assert.ok(error instanceof AwsError)
      assert.equal(error.code, 'AWS_ACCESS_DENIED')
      assert.equal(error.exitCode, 1)
      assert.match(error.message, /Access denied: sts:AssumeRole on arn:aws:iam::999988887777:role\/parent/)
      assert.ok(!error.message.includes('secret-'))
      return true
    })
    sts.restore()
  })
})

describe('describeDefaultIdentity', () => {
  it('names what the default chain will use, in its order, without secrets', () => {
    assert.equal(
      describeDefaultIdentity({AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 's3cr3t', AWS_PROFILE: 'dev'}),
      'the access key in AWS_ACCESS_KEY_ID',
    )
    assert.equal(describeDefaultIdentity({AWS_PROFILE: 'dev'}), 'profile dev (AWS_PROFILE)')
    assert.equal(
      describeDefaultIdentity({
        AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/exporter',
        AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/token',
      }),
      'role arn:aws:iam::111122223333:role/exporter (web identity, e.g. IRSA)',
    )
    assert.match(describeDefaultIdentity({}), /the default credentials/)
  })
})
