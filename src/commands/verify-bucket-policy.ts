import {BaseCommand} from '../base-command.js'
import {awsTimeouts, bucketPolicyFlags} from '../flags.js'
import type {RegionReport} from '../lib/aws/region.js'
import {type VerificationReport, verificationFailure, verify} from '../lib/policy/analyze.js'
import {readBucketSettings} from '../lib/aws/bucket-settings.js'
import {expectedPrincipals} from '../lib/policy/principals.js'
import {type RecommendedPolicy, recommendedPolicy} from '../lib/policy/recommended.js'
import {bucketPolicyState, readPolicyFile} from '../lib/policy/source.js'
import {renderVerification} from '../render.js'

const B = 'kubecost-data-111122223333'
const ROLES =
  '--bucket-admin-role arn:aws:iam::111122223333:role/bucket-admin --crawler-role-arn arn:aws:iam::111122223333:role/kubecost_glue_crawler_role'

export default class VerifyBucketPolicy extends BaseCommand {
  static override summary = 'Check the bucket policy, encryption and public access settings of the Kubecost data bucket'
  static override description = [
    "Each check is decided by simulating requests (plain HTTP, old TLS, unlisted callers, the crawler, QuickSight, tagged exporter roles) against the policy's statements, so a policy whose deny conditions sit in one statement (IAM ANDs them: it denies almost nothing) fails, with the reason.",
    'Each check is pass, fail, warn or skipped; the exit code is 1 when any fails (with --strict, also when any warns). When the bucket policy cannot be read (denied, or an S3-compatible store without the API), no policy check can run: the verdict is INCONCLUSIVE, exit 1, unless a check failed. --policy-file analyses a policy document offline (for CI review of infrastructure code, or a store without the API); --print-recommended prints a policy that passes.',
  ].join('\n\n')

  static override examples = [
    `<%= config.bin %> <%= command.id %> --bucket ${B} ${ROLES}`,
    `<%= config.bin %> <%= command.id %> --bucket ${B} ${ROLES} --policy-file infra/bucket-policy.json --json`,
    `<%= config.bin %> <%= command.id %> --bucket ${B} ${ROLES} --print-recommended > bucket-policy.json`,
  ]

  static override flags = bucketPolicyFlags

  async run(): Promise<(VerificationReport & {awsRegion?: RegionReport}) | RecommendedPolicy> {
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
    let report: VerificationReport & {awsRegion?: RegionReport}
    if (file) {
      report = verify(expected, await readPolicyFile(file), undefined, {kind: 'file', path: file})
    } else {
      // The bucket may be in another region than the session's: the client follows S3's redirect.
      const session = await this.awsSession({logger: this.logger(flags['log-format']), aws: awsTimeouts(flags)})
      const {attempt} = session.limits.s3
      const settings = await readBucketSettings(await session.s3({endpoint: flags['s3-endpoint']}), flags.bucket, {
        identity: session.identity.description,
        timeout: {setting: attempt.setting, seconds: attempt.ms / 1000},
        endpoint: flags['s3-endpoint'],
      })
      report = {
        ...verify(expected, bucketPolicyState(settings, flags.bucket), settings, {kind: 'bucket'}),
        awsRegion: session.regionReport,
      }
    }

    if (!this.jsonEnabled()) this.log(renderVerification(report))

    const failure = verificationFailure(report, flags.strict)
    return failure ? this.failedWith(report, failure) : report
  }
}
