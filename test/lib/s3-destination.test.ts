import assert from 'node:assert/strict'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {mockClient} from 'aws-sdk-client-mock'

import {S3Destination} from '../../src/lib/destination/s3.js'
import {AwsError} from '../../src/lib/errors.js'
import {tempDir} from '../helpers.js'

const IDENTITY = 'role arn:aws:iam::111122223333:role/exporter (web identity, e.g. IRSA)'

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} from S3`), {name, $metadata: {httpStatusCode: status}})
}

describe('S3Destination errors', () => {
  it('reports AccessDenied on PutObject with the action, the object and the identity in use', async () => {
    const s3 = mockClient(S3Client)
    s3.on(PutObjectCommand).rejects(sdkError('AccessDenied', 403))
    const dir = await tempDir()
    try {
      const file = join(dir.path, 'day.parquet')
      await writeFile(file, 'PAR1')
      const destination = new S3Destination(new S3Client({region: 'us-east-1'}), 'data-bucket', IDENTITY)
      await assert.rejects(destination.put('account_id=1/x.snappy.parquet', file), (error: unknown) => {
        assert.ok(error instanceof AwsError)
        assert.equal(error.code, 'AWS_ACCESS_DENIED')
        assert.equal(error.exitCode, 1)
        assert.equal(error.message, `Access denied: s3:PutObject on s3://data-bucket/account_id=1/x.snappy.parquet as ${IDENTITY} (AccessDenied)`)
        return true
      })
    } finally {
      s3.restore()
      await dir.remove()
    }
  })

  it('tells rejected credentials (also a 403) from a refusal, and a missing bucket from both', async () => {
    const s3 = mockClient(S3Client)
    const destination = new S3Destination(new S3Client({region: 'us-east-1'}), 'data-bucket', IDENTITY)
    try {
      s3.on(ListObjectsV2Command).rejects(sdkError('InvalidAccessKeyId', 403))
      await assert.rejects(destination.listKeys('p/'), (error: unknown) => error instanceof AwsError && error.code === 'AWS_CREDENTIALS')
      s3.on(ListObjectsV2Command).rejects(sdkError('NoSuchBucket', 404))
      await assert.rejects(destination.listKeys('p/'), (error: unknown) => error instanceof AwsError && error.code === 'AWS_NOT_FOUND' && /Bucket not found: s3:ListBucket on s3:\/\/data-bucket\/p\//.test(error.message))
    } finally {
      s3.restore()
    }
  })

  it('lists every page', async () => {
    const s3 = mockClient(S3Client)
    s3.on(ListObjectsV2Command, {ContinuationToken: undefined}).resolves({Contents: [{Key: 'a'}], IsTruncated: true, NextContinuationToken: 't1'})
    s3.on(ListObjectsV2Command, {ContinuationToken: 't1'}).resolves({Contents: [{Key: 'b'}, {Key: 'c'}], IsTruncated: false})
    try {
      const destination = new S3Destination(new S3Client({region: 'us-east-1'}), 'data-bucket')
      assert.deepEqual(await destination.listKeys('p/'), ['a', 'b', 'c'])
    } finally {
      s3.restore()
    }
  })
})
