/** AWS identity. */
import {Flags} from '@oclif/core'

import {parseRoleArn} from '../lib/validate.js'
import {inGroup, input} from './common.js'

export const awsFlags = inGroup('AWS', {
  'parent-role-arn': Flags.string({
    ...input({flag: 'parent-role-arn', env: 'IRSA_PARENT_IAM_ROLE_ARN'}, parseRoleArn),
    description:
      "role chaining: assume this role with the pod's credentials for S3 and Secrets Manager (session kubecost-s3-exporter)",
  }),
})
