import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {awsFlags, destinationFlags, input} from '../flags.js'
import {type ClusterIdentity, parseClusterArn} from '../lib/cluster.js'
import {ConfigError, InvalidInputError} from '../lib/errors.js'
import {
  DEFAULTS,
  type IamPolicies,
  iamPolicies,
  iamPoliciesText,
  parseKmsKeyArn,
  parseNamespace,
  parseOidcProvider,
  parseRoleName,
  parseSecret,
  parseServiceAccountName,
} from '../lib/iam/policies.js'
import {parseBucketName, parseRegion} from '../lib/validate.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE'

export default class IamPolicy extends BaseCommand {
  static override summary =
    "Print the least-privilege IAM roles and policies of a cluster's exporter, the Glue crawler and the operator commands"
  static override description = [
    "For the exporter: the IRSA role's trust policy (audience sts.amazonaws.com, subject system:serviceaccount:<namespace>:<service account>) and its permissions: S3 directly, or with --parent-role-arn only sts:AssumeRole on the parent role, whose trust and permissions are printed too.",
    "S3 access is s3:PutObject on this cluster's daily files only and s3:ListBucket only under its account_id=/region= partition; --ca-cert-secret adds secretsmanager:GetSecretValue on that secret, --kms-key adds kms:GenerateDataKey through S3. Then the Glue crawler role and each operator command's own policy. Nothing is created: --json gives the documents to infrastructure code.",
  ].join('\n\n')

  static override examples = [
    `<%= config.bin %> <%= command.id %> --cluster-arn ${ARN} --oidc-issuer ${ISSUER} --bucket kubecost-data-111122223333`,
    `<%= config.bin %> <%= command.id %> --cluster-arn ${ARN} --oidc-issuer ${ISSUER} --bucket kubecost-data-444455556666 --parent-role-arn arn:aws:iam::444455556666:role/kubecost-s3-exporter --json`,
  ]

  static override flags = {
    'cluster-arn': Flags.custom<ClusterIdentity>({
      ...input({flag: 'cluster-arn', env: 'CLUSTER_ID'}, (value, n) => parseClusterArn(value, n)),
      description: 'EKS cluster ARN: the exporter role lives in its account, its files under its account and region',
      required: true,
    })(),
    'oidc-provider': Flags.string({
      ...input({flag: 'oidc-provider', env: 'OIDC_PROVIDER'}, parseOidcProvider),
      description: "the cluster's IAM OIDC provider (oidc.eks.<region>.amazonaws.com/id/<ID>, or its ARN)",
      exactlyOne: ['oidc-provider', 'oidc-issuer'],
    }),
    'oidc-issuer': Flags.string({
      ...input({flag: 'oidc-issuer', env: 'OIDC_ISSUER'}, parseOidcProvider),
      description: "the cluster's OIDC issuer URL (aws eks describe-cluster --query cluster.identity.oidc.issuer)",
    }),
    bucket: Flags.string({
      ...input({flag: 'bucket', env: 'S3_BUCKET_NAME'}, parseBucketName),
      description: 'the Kubecost data bucket',
      required: true,
    }),
    prefix: {...destinationFlags.prefix, helpGroup: undefined},
    namespace: Flags.string({
      ...input({flag: 'namespace', env: 'EXPORTER_NAMESPACE'}, parseNamespace),
      description: "namespace of the exporter's service account",
      default: 'kubecost',
    }),
    'service-account': Flags.string({
      ...input({flag: 'service-account', env: 'EXPORTER_SERVICE_ACCOUNT'}, parseServiceAccountName),
      description: "the exporter's service account",
      default: 'kubecost-s3-exporter',
    }),
    'role-name': Flags.string({
      ...input({flag: 'role-name', env: 'EXPORTER_ROLE_NAME'}, parseRoleName),
      description: 'name of the IRSA role [default: kubecost-s3-exporter-<cluster>]',
    }),
    'parent-role-arn': {...awsFlags['parent-role-arn'], helpGroup: undefined},
    'ca-cert-secret': Flags.string({
      ...input({flag: 'ca-cert-secret', env: 'KUBECOST_CA_CERTIFICATE_SECRET_NAME'}, parseSecret),
      description: "Secrets Manager secret (name or ARN) with Kubecost's CA bundle",
    }),
    'ca-cert-secret-region': Flags.string({
      ...input({flag: 'ca-cert-secret-region', env: 'KUBECOST_CA_CERTIFICATE_SECRET_REGION'}, parseRegion),
      description: "region of --ca-cert-secret [default: the cluster's]",
    }),
    'kms-key': Flags.string({
      ...input({flag: 'kms-key', env: 'S3_KMS_KEY_ARN'}, parseKmsKeyArn),
      description: "ARN of the bucket's SSE-KMS key",
    }),
    'pipeline-region': Flags.string({
      ...input({flag: 'pipeline-region', env: 'PIPELINE_REGION'}, parseRegion),
      description: "region of Glue, Athena and QuickSight [default: the cluster's]",
    }),
    'dataset-id': Flags.string({
      description: 'QuickSight dataset id',
      env: 'QUICKSIGHT_DATASET_ID',
      default: DEFAULTS.datasetId,
    }),
    workgroup: Flags.string({
      description: 'dedicated Athena workgroup that deploy-glue manages',
      env: 'ATHENA_WORKGROUP',
    }),
    'results-location': Flags.string({
      ...input({flag: 'results-location', env: 'ATHENA_RESULTS_LOCATION'}, (v, n) => {
        if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(v.trim()))
          throw new InvalidInputError(n.flag, n.env, v, 'not an S3 location such as s3://my-bucket/athena-results/')
        return v.trim()
      }),
      description: "the workgroup's query result location, which deploy-glue's verification query writes to",
    }),
  }

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
      workgroup: flags.workgroup,
    })
    if (!this.jsonEnabled()) this.log(iamPoliciesText(policies))
    return policies
  }
}
