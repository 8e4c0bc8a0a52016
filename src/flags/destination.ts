/** Where files go: an S3 bucket or a local directory. */
import {Flags} from '@oclif/core'

import {normalizePrefix} from '../lib/layout.js'
import {parseBucketName, parseHttpUrl} from '../lib/validate.js'
import {inGroup, input, seconds} from './common.js'

export const destinationFlags = inGroup('DESTINATION', {
  bucket: Flags.string({
    ...input({flag: 'bucket', env: 'S3_BUCKET_NAME'}, parseBucketName),
    description: 'S3 bucket to upload to (required unless --output-dir is given)',
  }),
  prefix: Flags.string({
    ...input({flag: 'prefix', env: 'S3_PREFIX'}, (value, n) => normalizePrefix(value, n)),
    description: 'key prefix in front of the account_id=/region=/... layout',
    default: '',
  }),
  'output-dir': Flags.string({
    env: 'OUTPUT_DIR',
    description: 'write to this local directory (same layout) instead of S3',
  }),
  's3-endpoint': Flags.string({
    ...input({flag: 's3-endpoint', env: 'S3_ENDPOINT_URL'}, (value, n) =>
      parseHttpUrl(value, n, 'http://127.0.0.1:9000 (MinIO) or https://s3.eu-west-1.amazonaws.com'),
    ),
    description: 'S3-compatible endpoint (MinIO, Ceph): path-style addressing, checksums only when required',
  }),
  's3-timeout': seconds(
    's3-timeout',
    'S3_REQUEST_TIMEOUT',
    120,
    'how long an S3 attempt may wait to connect or without progress (an unanswered request, a stalled upload) before it fails and is retried',
  ),
  's3-deadline': seconds(
    's3-deadline',
    'S3_CALL_DEADLINE',
    720,
    'how long one S3 call may take in all, its retries and back-off included',
  ),
})
