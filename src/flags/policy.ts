import {Flags} from '@oclif/core'

import {
  DEFAULT_EXPORTER_TAG,
  QUICKSIGHT_SERVICE_ROLE,
  parseAccountId,
  parseExporterTag,
  parsePrincipalArn,
} from '../lib/policy/principals.js'
import {parseBucketName, splitList} from '../lib/validate.js'
import {awsCallFlags} from './aws.js'
import {input, repeatable} from './common.js'
import {destinationFlags} from './destination.js'
import {logFlags} from './output.js'

/** verify-bucket-policy's flags: the bucket, the principals its policy must let in, and how strictly to judge. */
export const bucketPolicyFlags = {
  bucket: Flags.string({
    ...input({flag: 'bucket', env: 'S3_BUCKET_NAME'}, parseBucketName),
    description: 'the bucket to check (or the bucket a --policy-file is for)',
    required: true,
  }),
  'policy-file': Flags.string({
    description: 'analyse this policy document instead of the live bucket policy; bucket settings are then skipped',
  }),
  'bucket-admin-role': Flags.custom({
    ...input({flag: 'bucket-admin-role', env: 'BUCKET_ADMIN_ROLE_ARNS'}, (v, n) =>
      splitList(v).map(arn => parsePrincipalArn(arn, n, {users: true, wildcards: true})),
    ),
    ...repeatable,
  })({
    description:
      'ARN of a role (or user) that administers the bucket; repeatable or comma-separated; wildcards allowed (SSO roles)',
  }),
  'crawler-role-arn': Flags.custom({
    ...input({flag: 'crawler-role-arn', env: 'CRAWLER_ROLE_ARN'}, parsePrincipalArn),
  })({description: 'ARN of the Glue crawler role'}),
  'quicksight-role-arn': Flags.custom({
    ...input({flag: 'quicksight-role-arn', env: 'QUICKSIGHT_ROLE_ARN'}, parsePrincipalArn),
  })({
    description: `ARN of the role QuickSight reads S3 with [default: the account's ${QUICKSIGHT_SERVICE_ROLE}]`,
  }),
  'exporter-tag': Flags.custom({...input({flag: 'exporter-tag', env: 'EXPORTER_TAG'}, parseExporterTag)})({
    description: 'KEY=VALUE tag that marks the exporter roles',
    default: parseExporterTag(DEFAULT_EXPORTER_TAG, {flag: 'exporter-tag', env: 'EXPORTER_TAG'}),
    defaultHelp: async () => DEFAULT_EXPORTER_TAG,
  }),
  'exporter-account': Flags.custom({
    ...input({flag: 'exporter-account', env: 'EXPORTER_ACCOUNTS'}, (v, n) =>
      splitList(v).map(a => parseAccountId(a, n)),
    ),
    ...repeatable,
  })({
    description: 'another account (12 digits) whose tagged roles export into the bucket; repeatable or comma-separated',
  }),
  prefix: destinationFlags.prefix,
  strict: Flags.boolean({
    description: 'exit 1 when any check warns, not only when one fails (for CI)',
    env: 'VERIFY_STRICT',
  }),
  'print-recommended': Flags.boolean({
    description: 'print the recommended policy for the bucket and principals, and check nothing',
    exclusive: ['policy-file'],
  }),
  's3-endpoint': destinationFlags['s3-endpoint'],
  ...awsCallFlags('S3, STS'),
  ...logFlags,
}
