import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {destinationFlags, input} from '../flags.js'
import {PolicyCheckFailedError, type VerificationReport, verdictLine, verify} from '../lib/policy/analyze.js'
import {readBucketSettings} from '../lib/aws/bucket-settings.js'
import {
  DEFAULT_EXPORTER_TAG,
  QUICKSIGHT_SERVICE_ROLE,
  expectedPrincipals,
  parseAccountId,
  parseExporterTag,
  parsePrincipalArn,
} from '../lib/policy/principals.js'
import {type RecommendedPolicy, recommendedPolicy} from '../lib/policy/recommended.js'
import {bucketPolicyState, readPolicyFile} from '../lib/policy/source.js'
import {parseBucketName} from '../lib/validate.js'
import {table} from '../render.js'

const B = 'kubecost-data-111122223333'
const commaList = (value: string) =>
  value
    .split(',')
    .map(v => v.trim())
    .filter(v => v !== '')
const ROLES =
  '--bucket-admin-role arn:aws:iam::111122223333:role/bucket-admin --crawler-role-arn arn:aws:iam::111122223333:role/kubecost_glue_crawler_role'

export default class VerifyBucketPolicy extends BaseCommand {
  static override summary = 'Check the bucket policy, encryption and public access settings of the Kubecost data bucket'
  static override description = [
    "Each check is decided by simulating requests (plain HTTP, old TLS, unlisted callers, the crawler, QuickSight, tagged exporter roles) against the policy's statements, so a policy whose deny conditions sit in one statement (IAM ANDs them: it denies almost nothing) fails, with the reason.",
    'Each check is pass, fail, warn or skipped; the exit code is 1 when any fails (with --strict, also when any warns). --policy-file analyses a policy document offline (for CI review of infrastructure code); --print-recommended prints a policy that passes.',
  ].join('\n\n')

  static override examples = [
    `<%= config.bin %> <%= command.id %> --bucket ${B} ${ROLES}`,
    `<%= config.bin %> <%= command.id %> --bucket ${B} ${ROLES} --policy-file infra/bucket-policy.json --json`,
    `<%= config.bin %> <%= command.id %> --bucket ${B} ${ROLES} --print-recommended > bucket-policy.json`,
  ]

  static override flags = {
    bucket: Flags.string({
      ...input({flag: 'bucket', env: 'S3_BUCKET_NAME'}, parseBucketName),
      description: 'the bucket to check (or the bucket a --policy-file is for)',
      required: true,
    }),
    'policy-file': Flags.string({
      description: 'analyse this policy document instead of the live bucket policy; bucket settings are then skipped',
    }),
    // Comma-split in the parser: oclif hands an env var's whole value to it, even for a repeatable flag.
    'bucket-admin-role': Flags.custom({
      ...input({flag: 'bucket-admin-role', env: 'BUCKET_ADMIN_ROLE_ARNS'}, (v, n) =>
        commaList(v).map(arn => parsePrincipalArn(arn, n, {users: true, wildcards: true})),
      ),
      multiple: true,
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
        commaList(v).map(a => parseAccountId(a, n)),
      ),
      multiple: true,
    })({
      description:
        'another account (12 digits) whose tagged roles export into the bucket; repeatable or comma-separated',
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
  }

  async run(): Promise<VerificationReport | RecommendedPolicy> {
    const {flags} = await this.parse(VerifyBucketPolicy)
    const expected = expectedPrincipals({
      bucket: flags.bucket,
      adminRoles: [flags['bucket-admin-role'] ?? []].flat(2),
      crawlerRole: flags['crawler-role-arn'],
      quicksightRole: flags['quicksight-role-arn'],
      exporterTag: flags['exporter-tag'],
      exporterAccounts: [flags['exporter-account'] ?? []].flat(2),
      prefix: flags.prefix,
    })
    if (flags['print-recommended']) {
      const policy = recommendedPolicy(expected)
      if (!this.jsonEnabled()) this.log(JSON.stringify(policy, null, 2))
      return policy
    }

    const file = flags['policy-file']
    let report: VerificationReport
    if (file) {
      report = verify(expected, await readPolicyFile(file), undefined, {kind: 'file', path: file})
    } else {
      // With no region configured the session starts from us-east-1; the client follows redirects.
      const session = await this.awsSession({})
      const settings = await readBucketSettings(await session.s3({endpoint: flags['s3-endpoint']}), flags.bucket)
      report = verify(expected, bucketPolicyState(settings, flags.bucket), settings, {kind: 'bucket'})
    }

    if (!this.jsonEnabled()) {
      const fixes = report.checks
        .filter(c => c.status === 'fail' || c.status === 'warn')
        .map(c => `  ${c.id}: ${c.fix ?? ''}`)
      const rows = report.checks.map(c => [c.status.toUpperCase(), c.id, c.reason])
      this.log(
        [
          table(['STATUS', 'CHECK', 'REASON'], rows),
          ...(fixes.length > 0 ? ['', 'Fixes:', ...fixes] : []),
          '',
          verdictLine(report),
        ].join('\n'),
      )
    }

    // Under --strict a warning is an undecided question, and CI must not take it for a pass.
    if (report.verdict === 'fail' || (flags.strict && report.verdict === 'warn')) {
      const failed = report.checks.filter(c => c.status === 'fail').map(c => c.id)
      const warned = report.checks.filter(c => c.status === 'warn').map(c => c.id)
      const message =
        failed.length > 0
          ? `${failed.length} of ${report.checks.length} checks failed for bucket ${report.bucket}: ${failed.join(', ')}`
          : `${warned.length} of ${report.checks.length} checks warned for bucket ${report.bucket} and --strict is set: ${warned.join(', ')}`
      return this.failedWith(
        report,
        new PolicyCheckFailedError(message, {
          suggestions: [
            'Each failed or warned check above says why and what to change; --print-recommended prints a policy that passes the policy checks.',
          ],
        }),
      )
    }

    return report
  }
}
