import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {
  GetBucketEncryptionCommand,
  PutBucketEncryptionCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3'

import {AwsError} from '../../src/lib/errors.js'
import {readBucketSettings} from '../../src/lib/aws/bucket-settings.js'
import {type S3SettingsFake, settingXml, startS3WithSettings} from '../fakes/s3-bucket-settings.js'

const POLICY = '{"Version":"2012-10-17","Statement":[]}'

describe('readBucketSettings against s3rver with the settings handler', () => {
  let fake: S3SettingsFake

  before(async () => {
    fake = await startS3WithSettings(['configured', 'bare', 'secret'])
  })
  after(() => fake.close())

  it('reads policy, encryption, public access block and ownership written through the SDK', async () => {
    const Bucket = 'configured'
    await fake.client.send(new PutBucketPolicyCommand({Bucket, Policy: POLICY}))
    await fake.client.send(
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: 'arn:aws:kms:us-east-1:111122223333:key/k1',
              },
            },
          ],
        },
      }),
    )
    await fake.client.send(
      new PutPublicAccessBlockCommand({
        Bucket,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
          BlockPublicPolicy: false,
          RestrictPublicBuckets: true,
        },
      }),
    )
    await fake.client.send(
      new PutBucketOwnershipControlsCommand({
        Bucket,
        OwnershipControls: {Rules: [{ObjectOwnership: 'BucketOwnerPreferred'}]},
      }),
    )

    assert.deepEqual(await readBucketSettings(fake.client, Bucket), {
      policy: {state: 'configured', value: POLICY},
      encryption: {
        state: 'configured',
        value: [{algorithm: 'aws:kms', kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/k1'}],
      },
      publicAccessBlock: {
        state: 'configured',
        value: {BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: true},
      },
      objectOwnership: {state: 'configured', value: 'BucketOwnerPreferred'},
    })
  })

  it('reports each setting that is not configured as such (by its S3 error code), not as a failure', async () => {
    assert.deepEqual(await readBucketSettings(fake.client, 'bare'), {
      policy: {state: 'not-configured'},
      encryption: {state: 'not-configured'},
      publicAccessBlock: {state: 'not-configured'},
      objectOwnership: {state: 'not-configured'},
    })
    assert.ok(fake.requests.includes('GET bare?policy') && fake.requests.includes('GET bare?ownershipControls'))
  })

  it('reports a setting the caller may not read as unreadable, naming the action', async () => {
    fake.set('secret', 'encryption', settingXml.encryption('AES256'))
    fake.denyRead('secret', 'policy')
    const settings = await readBucketSettings(fake.client, 'secret')
    assert.deepEqual(settings.policy, {state: 'unreadable', reason: 's3:GetBucketPolicy was denied (AccessDenied)'})
    assert.deepEqual(settings.encryption, {state: 'configured', value: [{algorithm: 'AES256'}]})
  })

  it('fails the run when the bucket does not exist', async () => {
    await assert.rejects(readBucketSettings(fake.client, 'no-such-bucket'), (error: unknown) => {
      assert.ok(error instanceof AwsError)
      assert.equal(error.code, 'AWS_NOT_FOUND')
      assert.equal(error.exitCode, 1)
      assert.match(error.message, /no-such-bucket/)
      return true
    })
  })

  it('answers like S3: MalformedPolicy for a policy that is not JSON, objects still served by s3rver', async () => {
    await assert.rejects(fake.client.send(new PutBucketPolicyCommand({Bucket: 'bare', Policy: '{not json'})), {
      name: 'MalformedPolicy',
    })
    await assert.rejects(
      fake.client.send(new GetBucketEncryptionCommand({Bucket: 'bare'})),
      (error: Error & {$metadata?: {httpStatusCode?: number}}) => {
        assert.equal(error.name, 'ServerSideEncryptionConfigurationNotFoundError')
        assert.equal(error.$metadata?.httpStatusCode, 404)
        return true
      },
    )
    await fake.client.send(new PutObjectCommand({Bucket: 'bare', Key: 'a/b.txt', Body: 'x'}))
  })
})
