import {Flags} from '@oclif/core'

import {
  DEFAULTS,
  parseKmsKeyArn,
  parseNamespace,
  parseOidcProvider,
  parseRoleName,
  parseSecret,
  parseServiceAccountName,
} from '../lib/iam/policies.js'
import {type ClusterIdentity, parseClusterArn} from '../lib/cluster.js'
import {parseBucketName, parseRegion} from '../lib/validate.js'
import {awsFlags} from './aws.js'
import {input} from './common.js'
import {destinationFlags} from './destination.js'
import {parseS3Location, resultsKmsKeyFlag} from './glue.js'
import {bucketPolicyFlags} from './policy.js'

/** iam-policy's flags: the cluster, its identity provider and service account, the bucket, and the optional extras. */
export const iamPolicyFlags = {
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
    ...input({flag: 'results-location', env: 'ATHENA_RESULTS_LOCATION'}, parseS3Location),
    description:
      "the workgroup's query result location, which deploy-glue's verification query and QuickSight write to [default: Athena's former default, s3://aws-athena-query-results-<account>-<region>/, with a warning]",
  }),
  'results-kms-key': resultsKmsKeyFlag({
    description: 'the KMS key (ARN, id or alias) the workgroup encrypts query results with (SSE-KMS)',
  }),
  'quicksight-role-arn': {...bucketPolicyFlags['quicksight-role-arn'], helpGroup: undefined},
}
