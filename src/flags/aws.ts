/** AWS identity, and the bounds on AWS calls. */
import {Flags} from '@oclif/core'

import {parseRoleArn} from '../lib/validate.js'
import {inGroup, input, seconds} from './common.js'

/**
 * How long AWS calls may wait: each attempt, and each call in all. `services` names the calls they
 * bound: export has S3 bounds of its own (--s3-timeout, --s3-deadline).
 */
export const awsCallFlags = (services: string) =>
  inGroup('AWS', {
    'aws-timeout': seconds(
      'aws-timeout',
      'AWS_REQUEST_TIMEOUT',
      30,
      `how long an attempt of an AWS call (${services}) may wait to connect or without progress before it fails and is retried`,
    ),
    'aws-deadline': seconds(
      'aws-deadline',
      'AWS_CALL_DEADLINE',
      120,
      `how long one AWS call (${services}) may take in all, its retries and back-off included`,
    ),
  })

export const awsFlags = inGroup('AWS', {
  'parent-role-arn': Flags.string({
    ...input({flag: 'parent-role-arn', env: 'IRSA_PARENT_IAM_ROLE_ARN'}, parseRoleArn),
    description:
      "role chaining: assume this role with the pod's credentials for S3 and Secrets Manager (session kubecost-s3-exporter)",
  }),
  ...awsCallFlags('STS, Secrets Manager'),
})

/** The session's bounds from the flags of awsCallFlags. */
export function awsTimeouts(flags: {'aws-timeout': number; 'aws-deadline': number}) {
  return {timeoutMs: flags['aws-timeout'], deadlineMs: flags['aws-deadline']}
}
