import {BaseCommand} from '../base-command.js'
import {iamPolicyFlags} from '../flags.js'
import {ConfigError} from '../lib/errors.js'
import {type IamPolicies, iamPolicies, iamPoliciesText} from '../lib/iam/policies.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE'

export default class IamPolicy extends BaseCommand {
  static override summary =
    "Print the least-privilege IAM roles and policies of a cluster's exporter, the Glue crawler, QuickSight and the operator commands"
  static override description = [
    "For the exporter: the IRSA role's trust policy (audience sts.amazonaws.com, subject system:serviceaccount:<namespace>:<service account>) and its permissions: S3 directly, or with --parent-role-arn only sts:AssumeRole on the parent role, whose trust and permissions are printed too.",
    "S3 access is s3:PutObject on this cluster's daily files only and s3:ListBucket only under its account_id=/region= partition; --ca-cert-secret adds secretsmanager:GetSecretValue on that secret, --kms-key adds kms:GenerateDataKey through S3. Then the Glue crawler role (with --kms-key, kms:Decrypt through S3), QuickSight's role (the files, their key, and the query results in --results-location with --results-kms-key) and each operator command's own policy. Nothing is created: --json gives the documents to infrastructure code.",
    "Without --results-location the query results are taken to be in Athena's former default location, aws-athena-query-results-<account>-<region>, and a warning says how to look up the workgroup's own.",
  ].join('\n\n')

  static override examples = [
    `<%= config.bin %> <%= command.id %> --cluster-arn ${ARN} --oidc-issuer ${ISSUER} --bucket kubecost-data-111122223333`,
    `<%= config.bin %> <%= command.id %> --cluster-arn ${ARN} --oidc-issuer ${ISSUER} --bucket kubecost-data-444455556666 --parent-role-arn arn:aws:iam::444455556666:role/kubecost-s3-exporter --json`,
  ]

  static override flags = iamPolicyFlags

  async run(): Promise<IamPolicies> {
    const {flags} = await this.parse(IamPolicy)
    const oidcProvider = flags['oidc-provider'] ?? flags['oidc-issuer']
    if (!oidcProvider)
      throw new ConfigError("Give --oidc-provider or --oidc-issuer: the IRSA role trusts the cluster's OIDC provider")
    const policies = iamPolicies({
      cluster: flags['cluster-arn'],
      oidcProvider,
      bucket: flags.bucket,
      prefix: flags.prefix,
      namespace: flags.namespace,
      serviceAccount: flags['service-account'],
      roleName: flags['role-name'],
      parentRoleArn: flags['parent-role-arn'],
      caSecret: flags['ca-cert-secret'],
      caSecretRegion: flags['ca-cert-secret-region'],
      kmsKeyArn: flags['kms-key'],
      pipelineRegion: flags['pipeline-region'],
      datasetId: flags['dataset-id'],
      resultsLocation: flags['results-location'],
      resultsKmsKey: flags['results-kms-key'],
      quicksightRoleArn: flags['quicksight-role-arn']?.arn,
      workgroup: flags.workgroup,
    })
    const logger = this.logger()
    for (const warning of policies.warnings) logger.warn(warning)
    if (!this.jsonEnabled()) this.log(iamPoliciesText(policies))
    return policies
  }
}
