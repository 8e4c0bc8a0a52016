import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import * as k8s from '@kubernetes/client-node'
import {CronJob} from 'kubernetes-models/batch/v1'
import {ServiceAccount} from 'kubernetes-models/v1'
import {parseAllDocuments} from 'yaml'

import {ROOT, tempDir} from '../helpers.js'
import {CHART, helm, kubectlBinary} from './helm.js'
import {FakeKubeApi} from './kube-api.js'

/*
 * The chart, checked with the real helm (lint --strict, template, its values.schema.json) and its
 * output checked against the Kubernetes API types offline: kubernetes-models validates types, enums
 * and required fields; a walk over @kubernetes/client-node's attribute type maps rejects unknown
 * fields, which kubernetes-models lets through.
 */

const ARN = 'arn:aws:eks:eu-west-1:111122223333:cluster/prod'
const REQUIRED = {clusterArn: ARN, bucket: 'kubecost-data-111122223333'}
const ROLE = 'arn:aws:iam::111122223333:role/kubecost-s3-exporter-prod'

/** Split mode's values: a federated Kubecost primary, no clusterArn. */
const SPLIT = {
  bucket: REQUIRED.bucket,
  splitByCluster: true,
  clusterMap: {'cluster-one': ARN, 'cluster-two': 'arn:aws:eks:us-east-1:444455556666:cluster/staging'},
  clusterMapConfigMap: {name: 'cluster-map', key: 'clusters.txt'},
}

/** Every value the chart has, set to something other than its default. */
const EVERY_VALUE = {
  ...REQUIRED,
  prefix: 'exports/kubecost',
  source: 'opencost',
  kubecostUrl: 'https://kubecost.example.internal:9443',
  backfillDays: 30,
  aggregation: 'pod',
  labels: ['app', 'app.kubernetes.io/name'],
  annotations: ['owner'],
  parentRoleArn: 'arn:aws:iam::444455556666:role/kubecost-s3-exporter',
  s3Endpoint: 'https://minio.example.internal:9000',
  s3TimeoutSeconds: 90,
  s3DeadlineSeconds: 600,
  awsTimeoutSeconds: 10,
  awsDeadlineSeconds: 60,
  runDeadlineSeconds: 9000,
  maxRowsPerDay: 3_000_000,
  parseThreads: 2,
  logFormat: 'json',
  kubecost: {
    connectTimeoutSeconds: 5,
    allocationReadTimeoutSeconds: 120.5,
    assetsReadTimeoutSeconds: 45,
    retries: 0,
    retryDelaySeconds: 1.5,
    allocationDeadlineSeconds: 900,
    assetsDeadlineSeconds: 400,
    maxEntryMb: 128,
    maxResponseMb: 4096,
    tlsVerify: false,
    // One CA source at a time, as the CLI takes them: the ConfigMap is CA_FILE's.
    caCert: {secretName: 'kubecost-ca', secretRegion: 'eu-central-1'},
  },
  extraEnv: [
    {name: 'AWS_REGION', value: 'eu-west-1'},
    {name: 'HTTPS_PROXY', valueFrom: {secretKeyRef: {name: 'proxy', key: 'url'}}},
  ],
  image: {repository: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/kubecost-cid', tag: '1.2.3', pullPolicy: 'Always'},
  imagePullSecrets: [{name: 'registry'}],
  serviceAccount: {create: true, name: 'cost-exporter', roleArn: ROLE, annotations: {'example.com/owner': 'finops'}},
  schedule: '30 2 * * *',
  timeZone: 'Europe/Paris',
  suspend: true,
  startingDeadlineSeconds: 600,
  backoffLimit: 4,
  activeDeadlineSeconds: 10_000,
  successfulJobsHistoryLimit: 5,
  failedJobsHistoryLimit: 7,
  ttlSecondsAfterFinished: 86_400,
  terminationGracePeriodSeconds: 45,
  tmpSizeLimit: '2Gi',
  resources: {requests: {cpu: '500m', memory: '512Mi'}, limits: {cpu: '2', memory: '1Gi'}},
  podAnnotations: {'example.com/scrape': 'false'},
  podLabels: {team: 'finops'},
  nodeSelector: {'kubernetes.io/os': 'linux'},
  tolerations: [{key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule'}],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          {matchExpressions: [{key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64']}]},
        ],
      },
    },
  },
  priorityClassName: 'low',
}

/** The other CA source: a ConfigMap holding the bundle. */
const CA_FILE = {...REQUIRED, kubecost: {caCert: {configMap: {name: 'kubecost-ca', key: 'bundle.pem'}}}}

type Manifest = Record<string, unknown> & {
  kind: string
  metadata: {name: string; namespace?: string; annotations?: Record<string, string>}
}

let dir: {path: string; remove(): Promise<void>}
let n = 0

before(async () => {
  dir = await tempDir('kubecost-cid-chart-')
})
after(async () => dir.remove())

async function valuesFile(values: unknown): Promise<string> {
  const file = join(dir.path, `values-${n++}.json`)
  await writeFile(file, JSON.stringify(values))
  return file
}

async function template(values: unknown, extra: string[] = []): Promise<Manifest[]> {
  const r = await helm(['template', 'cost', CHART, '--namespace', 'finops', '-f', await valuesFile(values), ...extra])
  assert.equal(r.code, 0, r.stderr)
  return parseManifests(r.stdout)
}

/** The objects as rendered, plain: no client library's deserialisation, which would drop unknown fields. */
function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map(d => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null)
}

function cronJob(manifests: Manifest[]) {
  const found = manifests.filter(m => m.kind === 'CronJob')
  assert.equal(found.length, 1)
  return found[0] as unknown as {
    metadata: {name: string; namespace: string}
    spec: Record<string, unknown> & {
      jobTemplate: {
        metadata: {labels: Record<string, string>}
        spec: Record<string, unknown> & {template: {spec: k8s.V1PodSpec}}
      }
    }
  }
}

const podOf = (manifests: Manifest[]) => cronJob(manifests).spec.jobTemplate.spec.template.spec
const containerOf = (manifests: Manifest[]) => podOf(manifests).containers[0] as k8s.V1Container

/** Rejects any field the Kubernetes API type does not have, naming its path. */
function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return []
  const array = /^Array<(.+)>$/.exec(type)
  if (array)
    return Array.isArray(value)
      ? value.flatMap((v, i) => unknownFields(v, array[1] as string, `${path}[${i}]`))
      : [`${path}: not a list`]
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type)
  if (map) return Object.entries(value).flatMap(([key, v]) => unknownFields(v, map[1] as string, `${path}.${key}`))
  const model = (
    k8s as unknown as Record<string, {getAttributeTypeMap?: () => Array<{baseName: string; type: string}>}>
  )[type]
  if (!model?.getAttributeTypeMap) return []
  if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: not an object`]
  const attributes = model.getAttributeTypeMap()
  return Object.entries(value).flatMap(([key, v]) => {
    const attribute = attributes.find(a => a.baseName === key)
    return attribute ? unknownFields(v, attribute.type, `${path}.${key}`) : [`${path}.${key}: not a field of ${type}`]
  })
}

/** Validates each rendered object against its Kubernetes API type. */
function validate(manifests: Manifest[]): void {
  for (const m of manifests) {
    const known = {CronJob: [CronJob, 'V1CronJob'], ServiceAccount: [ServiceAccount, 'V1ServiceAccount']} as const
    const entry = known[m.kind as keyof typeof known]
    assert.ok(entry, `unexpected kind ${m.kind}`)
    const [Model, type] = entry
    try {
      new Model(m).validate()
    } catch (error) {
      throw new Error(`${m.kind} ${m.metadata.name} is not a valid ${type}: ${(error as Error).message}`)
    }

    assert.deepEqual(unknownFields(m, type, m.kind), [])
  }
}

/** The env var names every CLI flag reads, from the built commands' own flag definitions. */
async function cliEnvVars(): Promise<Set<string>> {
  const {default: Export} = (await import(join(ROOT, 'dist', 'commands', 'export.js'))) as {
    default: {flags: Record<string, {env?: string}>}
  }
  return new Set(Object.values(Export.flags).flatMap(f => (f.env ? [f.env] : [])))
}

describe('chart: helm lint --strict', () => {
  it('passes with only the required values', async () => {
    const r = await helm(['lint', '--strict', CHART, '-f', await valuesFile(REQUIRED)])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/)
  })

  it('passes with every value set', async () => {
    const r = await helm(['lint', '--strict', CHART, '-f', await valuesFile(EVERY_VALUE)])
    assert.equal(r.code, 0, r.stdout + r.stderr)
  })

  it('fails without the cluster ARN, saying which value is missing', async () => {
    const r = await helm(['template', 'cost', CHART, '-f', await valuesFile({bucket: 'kubecost-data'})])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /clusterArn is required: the EKS cluster ARN \(CLUSTER_ID\)/)
  })

  it('fails without the bucket', async () => {
    const r = await helm(['template', 'cost', CHART, '-f', await valuesFile({clusterArn: ARN})])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /bucket is required: the S3 bucket \(S3_BUCKET_NAME\)/)
  })
})

describe('chart: values.schema.json rejects bad values', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an unknown top-level key', {bucketName: 'x'}, /additional properties 'bucketName' not allowed/],
    [
      'an unknown nested key',
      {serviceAccount: {name: 'x', roleARN: ROLE}},
      /at '\/serviceAccount': additional properties 'roleARN' not allowed/,
    ],
    [
      'an unknown Kubecost key',
      {kubecost: {readTimeout: 5}},
      /at '\/kubecost': additional properties 'readTimeout' not allowed/,
    ],
    ['a cluster name instead of its ARN', {clusterArn: 'prod'}, /at '\/clusterArn': 'prod' does not match pattern/],
    [
      'an s3:// URL as bucket',
      {bucket: 's3://kubecost-data'},
      /at '\/bucket': 's3:\/\/kubecost-data' does not match pattern/,
    ],
    ['back-fill days as a string', {backfillDays: '15'}, /at '\/backfillDays': got string, want integer/],
    ['zero back-fill days', {backfillDays: 0}, /at '\/backfillDays': minimum: got 0, want 1/],
    ['an unknown source', {source: 'prometheus'}, /at '\/source': value must be one of 'kubecost', 'opencost'/],
    [
      'an OpenCost URL without a scheme',
      {kubecostUrl: 'opencost.opencost:9003'},
      /at '\/kubecostUrl': 'opencost.opencost:9003' does not match pattern/,
    ],
    ['an unknown aggregation', {aggregation: 'pods'}, /at '\/aggregation': value must be one of 'container', 'pod'/],
    ['labels as one string', {labels: 'app,team'}, /at '\/labels': got string, want array/],
    ['a label that is no Kubernetes key', {labels: ['a b']}, /at '\/labels\/0': 'a b' does not match pattern/],
    [
      'a timeout of 0',
      {kubecost: {connectTimeoutSeconds: 0}},
      /at '\/kubecost\/connectTimeoutSeconds': minimum: got 0, want 0\.001/,
    ],
    // The CLI's own limits, which it would otherwise refuse at every run, exit 2.
    [
      'back-fill days over the 400 the CLI takes',
      {backfillDays: 401},
      /at '\/backfillDays': maximum: got 401, want 400/,
    ],
    [
      'more than the 20 retries the CLI takes',
      {kubecost: {retries: 21}},
      /at '\/kubecost\/retries': maximum: got 21, want 20/,
    ],
    [
      'a timeout under the millisecond the CLI takes',
      {kubecost: {assetsReadTimeoutSeconds: 0.0001}},
      /at '\/kubecost\/assetsReadTimeoutSeconds': minimum: got 0\.0001, want 0\.001/,
    ],
    [
      'a run deadline under a millisecond (0 is none)',
      {runDeadlineSeconds: 0.0005},
      /at '\/runDeadlineSeconds': minimum: got 0\.0005, want 0\.001/,
    ],
    [
      'a negative Kubecost deadline',
      {kubecost: {allocationDeadlineSeconds: -1}},
      /at '\/kubecost\/allocationDeadlineSeconds': minimum: got -1, want 0\.001/,
    ],
    [
      'both CA sources, which the CLI refuses together',
      {kubecost: {caCert: {secretName: 'kubecost-ca', configMap: {name: 'kubecost-ca', key: 'ca.crt'}}}},
      /at '\/kubecost\/caCert': value must be 'one CA source: secretName or configMap\.name, not both'/,
    ],
    [
      'an unquoted image tag, saying to quote it',
      {image: {repository: 'kubecost-cid', tag: 1.1}},
      /at '\/image\/tag': value must be 'a string: put it in quotes \("1\.10", "2024"\) or pass it with --set-string; unquoted, YAML reads 1\.10 as the number 1\.1'/,
    ],
    [
      'an unquoted prefix, saying to quote it',
      {prefix: 2024},
      /at '\/prefix': .*value must be 'a string: put it in quotes/s,
    ],
    [
      'an unquoted CA secret name, saying to quote it',
      {kubecost: {caCert: {secretName: 123}}},
      /at '\/kubecost\/caCert\/secretName': .*value must be 'a string: put it in quotes/s,
    ],
    [
      "a label key whose column would pass Glue's 255 characters",
      {labels: [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(46)}/${'n'.repeat(63)}`]},
      /at '\/labels\/0': maxLength: got 238, want 237/,
    ],
    [
      "an annotation key whose column would pass Glue's 255 characters",
      {annotations: [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(41)}/${'n'.repeat(63)}`]},
      /at '\/annotations\/0': maxLength: got 233, want 232/,
    ],
    ['tlsVerify as a string', {kubecost: {tlsVerify: 'no'}}, /at '\/kubecost\/tlsVerify': got string, want boolean/],
    ['an unknown log format', {logFormat: 'yaml'}, /at '\/logFormat': value must be one of 'text', 'json'/],
    [
      'a user ARN as parent role',
      {parentRoleArn: 'arn:aws:iam::444455556666:user/x'},
      /at '\/parentRoleArn': .* does not match pattern/,
    ],
    [
      'an unknown pull policy',
      {image: {repository: 'x', pullPolicy: 'Sometimes'}},
      /at '\/image\/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'/,
    ],
    ['an extra env var without a name', {extraEnv: [{value: 'x'}]}, /at '\/extraEnv\/0': missing property 'name'/],
    [
      'an unknown resource',
      {resources: {limits: {gpu: 1}}},
      /at '\/resources\/limits': additional properties 'gpu' not allowed/,
    ],
    [
      'a memory limit that is no quantity',
      {resources: {limits: {memory: '512 MB'}}},
      /at '\/resources\/limits\/memory': '512 MB' does not match pattern/,
    ],
    [
      'a grace period the CLI cannot stop within',
      {terminationGracePeriodSeconds: 5},
      /at '\/terminationGracePeriodSeconds': minimum: got 5, want 11/,
    ],
    [
      'serviceAccount.create as a string',
      {serviceAccount: {name: 'x', create: 'yes'}},
      /at '\/serviceAccount\/create': got string, want boolean/,
    ],
  ]
  for (const [what, values, message] of cases) {
    it(`rejects ${what}`, async () => {
      const r = await helm(['template', 'cost', CHART, '-f', await valuesFile({...REQUIRED, ...values})])
      assert.notEqual(r.code, 0, `accepted: ${JSON.stringify(values)}`)
      assert.match(r.stderr, /values don't meet the specifications of the schema/)
      assert.match(r.stderr, message)
    })
  }
})

describe('chart: values the CLI would refuse, caught at install', () => {
  it('takes a quoted image tag that looks like a number, as it is', async () => {
    assert.equal(
      containerOf(await template({...REQUIRED, image: {repository: 'kubecost-cid', tag: '1'}})).image,
      'kubecost-cid:1',
    )
    assert.equal(containerOf(await template(REQUIRED, ['--set-string', 'image.tag=1.10'])).image, 'kubecost-cid:1.10')
  })

  it('refuses --set image.tag=1 (a number on the command line too), saying to use --set-string', async () => {
    const r = await helm(['template', 'cost', CHART, '-f', await valuesFile(REQUIRED), '--set', 'image.tag=1'])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /at '\/image\/tag': value must be 'a string: .*--set-string/)
  })

  it('takes one CA source at a time, and the limits themselves', async () => {
    const values = {
      ...REQUIRED,
      backfillDays: 400,
      runDeadlineSeconds: 0.001,
      kubecost: {retries: 20, connectTimeoutSeconds: 0.001, caCert: {secretName: 'kubecost-ca'}},
    }
    const env = Object.fromEntries((containerOf(await template(values)).env ?? []).map(e => [e.name, e.value]))
    assert.equal(env.BACKFILL_PERIOD_DAYS, '400')
    assert.equal(env.KUBECOST_API_RETRIES, '20')
    assert.equal(env.CONNECTION_TIMEOUT, '0.001')
    assert.equal(env.RUN_DEADLINE, '0.001')
    assert.equal(env.KUBECOST_CA_CERTIFICATE_SECRET_NAME, 'kubecost-ca')
    const file = {...REQUIRED, kubecost: {caCert: {configMap: {name: 'kubecost-ca', key: 'ca.crt'}}}}
    assert.equal(
      Object.fromEntries((containerOf(await template(file)).env ?? []).map(e => [e.name, e.value]))
        .KUBECOST_CA_CERTIFICATE_FILE,
      '/etc/kubecost-ca/ca.crt',
    )
  })

  for (const kind of ['labels', 'annotations'] as const) {
    it(`refuses ${kind} that differ only in case, naming both (Athena could not tell their columns apart)`, async () => {
      const r = await helm([
        'template',
        'cost',
        CHART,
        '-f',
        await valuesFile({...REQUIRED, [kind]: ['app', 'team', 'App']}),
      ])
      assert.notEqual(r.code, 0)
      assert.match(
        r.stderr,
        new RegExp(`${kind}: "app" and "App" differ only in case; Athena could not tell their columns apart`),
      )
    })
  }

  it('takes the same key as a label and as an annotation: two columns', async () => {
    const env = Object.fromEntries(
      (containerOf(await template({...REQUIRED, labels: ['app'], annotations: ['App']})).env ?? []).map(e => [
        e.name,
        e.value,
      ]),
    )
    assert.equal(env.LABELS, 'app')
    assert.equal(env.ANNOTATIONS, 'App')
  })
})

describe('chart: rendered manifests', () => {
  it('are valid Kubernetes objects with the required values, and with every value set', async () => {
    const minimal = await template(REQUIRED)
    assert.deepEqual(minimal.map(m => m.kind).sort(), ['CronJob', 'ServiceAccount'])
    validate(minimal)
    validate(await template(EVERY_VALUE))
  })

  it('the validation itself rejects an unknown field, a wrong enum and a missing required field', async () => {
    const [good] = (await template(REQUIRED)).filter(m => m.kind === 'CronJob')
    const copy = () => JSON.parse(JSON.stringify(good)) as ReturnType<typeof cronJob> & Manifest
    const unknown = copy()
    ;(
      unknown.spec.jobTemplate.spec.template.spec.containers[0] as unknown as Record<string, unknown>
    ).securityContexts = {}
    assert.throws(() => validate([unknown]), /securityContexts: not a field of V1Container/)
    const badEnum = copy()
    badEnum.spec.concurrencyPolicy = 'Never'
    assert.throws(() => validate([badEnum]), /concurrencyPolicy must be equal to one of the allowed values/)
    const missing = copy()
    delete missing.spec.schedule
    assert.throws(() => validate([missing]), /data\/spec must have required property schedule/)
  })

  it('put every object in the release namespace', async () => {
    for (const values of [REQUIRED, EVERY_VALUE]) {
      for (const m of await template(values))
        assert.equal(m.metadata.namespace, 'finops', `${m.kind} ${m.metadata.name}`)
    }
  })

  it('schedule the CronJob as configured: quoted daily default, time zone, Forbid, limits, Never', async () => {
    const r = await helm(['template', 'cost', CHART, '-f', await valuesFile(REQUIRED)])
    assert.match(r.stdout, /^ {2}schedule: "0 0 \* \* \*"$/m)
    const {spec} = cronJob(parseManifests(r.stdout))
    assert.equal(spec.timeZone, 'Etc/UTC')
    assert.equal(spec.concurrencyPolicy, 'Forbid')
    assert.equal(spec.successfulJobsHistoryLimit, 3)
    assert.equal(spec.failedJobsHistoryLimit, 3)
    assert.equal(spec.jobTemplate.spec.backoffLimit, 2)
    assert.equal(spec.jobTemplate.spec.activeDeadlineSeconds, 10_800)
    const pod = spec.jobTemplate.spec.template.spec
    assert.equal(pod.restartPolicy, 'Never')
    assert.equal(pod.terminationGracePeriodSeconds, 30)
    // Finished Jobs expire by default (4 days), or when told, or never (null: the history limits alone).
    assert.equal(spec.jobTemplate.spec.ttlSecondsAfterFinished, 345_600)
    const kept = cronJob(await template({...REQUIRED, ttlSecondsAfterFinished: null})).spec.jobTemplate.spec
    assert.ok(!('ttlSecondsAfterFinished' in kept))
    const all = cronJob(await template(EVERY_VALUE)).spec
    assert.equal(all.schedule, '30 2 * * *')
    assert.equal(all.timeZone, 'Europe/Paris')
    assert.equal(all.suspend, true)
    assert.equal(all.jobTemplate.spec.ttlSecondsAfterFinished, 86_400)
    assert.equal(all.jobTemplate.spec.template.spec.terminationGracePeriodSeconds, 45)
  })

  it('meet the restricted Pod Security standard', async () => {
    for (const values of [REQUIRED, EVERY_VALUE]) {
      const manifests = await template(values)
      const pod = podOf(manifests)
      const c = containerOf(manifests)
      assert.equal(pod.securityContext?.runAsNonRoot, true)
      assert.equal(pod.securityContext?.runAsUser, 65_532)
      assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault')
      assert.equal(pod.hostNetwork ?? false, false)
      assert.equal(pod.hostPID ?? false, false)
      assert.equal(c.securityContext?.runAsNonRoot, true)
      assert.equal(c.securityContext?.runAsUser, 65_532)
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false)
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true)
      assert.equal(c.securityContext?.privileged, false)
      assert.deepEqual(c.securityContext?.capabilities, {drop: ['ALL']})
      assert.equal(c.securityContext?.seccompProfile?.type, 'RuntimeDefault')
      // Restricted allows only these volume types.
      for (const v of pod.volumes ?? [])
        assert.ok(v.emptyDir ?? v.configMap ?? v.secret ?? v.projected, `volume ${v.name}`)
    }
  })

  it('give the container a size-limited emptyDir at /tmp, and resources', async () => {
    const manifests = await template(REQUIRED)
    const pod = podOf(manifests)
    const c = containerOf(manifests)
    assert.deepEqual(pod.volumes?.find(v => v.name === 'tmp')?.emptyDir, {sizeLimit: '1Gi'})
    assert.deepEqual(c.volumeMounts?.find(m => m.mountPath === '/tmp')?.name, 'tmp')
    assert.deepEqual(c.resources, {requests: {cpu: '250m', memory: '256Mi'}, limits: {cpu: '2', memory: '512Mi'}})
    const all = await template(EVERY_VALUE)
    assert.deepEqual(podOf(all).volumes?.find(v => v.name === 'tmp')?.emptyDir, {sizeLimit: '2Gi'})
    assert.deepEqual(containerOf(all).resources, EVERY_VALUE.resources)
  })

  it('run the image and tag given, the export command', async () => {
    assert.equal(containerOf(await template(REQUIRED)).image, 'kubecost-cid:0.1.0')
    const c = containerOf(await template(EVERY_VALUE))
    assert.equal(c.image, '111122223333.dkr.ecr.eu-west-1.amazonaws.com/kubecost-cid:1.2.3')
    assert.equal(c.imagePullPolicy, 'Always')
    assert.deepEqual(c.args, ['export'])
  })
})

describe('chart: the service account', () => {
  it('is created with the IRSA role annotation, and used by the pod', async () => {
    const manifests = await template(EVERY_VALUE)
    const sa = manifests.find(m => m.kind === 'ServiceAccount')
    assert.equal(sa?.metadata.name, 'cost-exporter')
    assert.deepEqual(sa?.metadata.annotations, {'eks.amazonaws.com/role-arn': ROLE, 'example.com/owner': 'finops'})
    assert.equal(podOf(manifests).serviceAccountName, 'cost-exporter')
    assert.equal(podOf(manifests).automountServiceAccountToken, false)
  })

  it('is not created when serviceAccount.create is false, and its name is still used', async () => {
    const manifests = await template({...REQUIRED, serviceAccount: {create: false, name: 'existing-sa'}})
    assert.deepEqual(
      manifests.map(m => m.kind),
      ['CronJob'],
    )
    assert.equal(podOf(manifests).serviceAccountName, 'existing-sa')
  })
})

describe('chart: environment', () => {
  it('renders every setting as the env var the CLI reads for it', async () => {
    const env = Object.fromEntries(
      (containerOf(await template(EVERY_VALUE)).env ?? []).map(e => [e.name, e.value ?? e.valueFrom]),
    )
    assert.deepEqual(env, {
      CLUSTER_ID: ARN,
      S3_BUCKET_NAME: 'kubecost-data-111122223333',
      S3_PREFIX: 'exports/kubecost',
      COST_SOURCE: 'opencost',
      KUBECOST_API_ENDPOINT: 'https://kubecost.example.internal:9443',
      BACKFILL_PERIOD_DAYS: '30',
      AGGREGATION: 'pod',
      LABELS: 'app,app.kubernetes.io/name',
      ANNOTATIONS: 'owner',
      IRSA_PARENT_IAM_ROLE_ARN: 'arn:aws:iam::444455556666:role/kubecost-s3-exporter',
      S3_ENDPOINT_URL: 'https://minio.example.internal:9000',
      S3_REQUEST_TIMEOUT: '90',
      S3_CALL_DEADLINE: '600',
      AWS_REQUEST_TIMEOUT: '10',
      AWS_CALL_DEADLINE: '60',
      RUN_DEADLINE: '9000',
      MAX_ROWS_PER_DAY: '3000000',
      PARSE_THREADS: '2',
      LOG_FORMAT: 'json',
      CONNECTION_TIMEOUT: '5',
      KUBECOST_ALLOCATION_API_READ_TIMEOUT: '120.5',
      KUBECOST_ASSETS_API_READ_TIMEOUT: '45',
      KUBECOST_API_RETRIES: '0',
      KUBECOST_API_RETRY_DELAY: '1.5',
      KUBECOST_ALLOCATION_API_DEADLINE: '900',
      KUBECOST_ASSETS_API_DEADLINE: '400',
      KUBECOST_API_MAX_ENTRY_MB: '128',
      KUBECOST_API_MAX_RESPONSE_MB: '4096',
      TLS_VERIFY: 'false',
      KUBECOST_CA_CERTIFICATE_SECRET_NAME: 'kubecost-ca',
      KUBECOST_CA_CERTIFICATE_SECRET_REGION: 'eu-central-1',
      AWS_REGION: 'eu-west-1',
      HTTPS_PROXY: {secretKeyRef: {name: 'proxy', key: 'url'}},
    })
  })

  it("renders only env vars that the CLI's export flags declare (besides extraEnv)", async () => {
    const cli = await cliEnvVars()
    assert.ok(cli.has('CLUSTER_ID') && cli.size > 10, 'the flag definitions were read')
    const extra = new Set(EVERY_VALUE.extraEnv.map(e => e.name))
    for (const values of [REQUIRED, EVERY_VALUE, SPLIT, CA_FILE]) {
      const names = (containerOf(await template(values)).env ?? []).map(e => e.name).filter(name => !extra.has(name))
      assert.deepEqual(
        names.filter(name => !cli.has(name)),
        [],
        'env vars the CLI does not read',
      )
    }
  })

  it('has a value for every env var of the export flags, or the gap is named', async () => {
    // OUTPUT_DIR is the local destination, for trying the CLI out; a CronJob writes to S3.
    const notForTheCronJob = new Set(['OUTPUT_DIR'])
    const rendered = new Set<string>()
    // Split mode's values exclude clusterArn, and the CA file excludes the CA secret: each renders on its own.
    for (const values of [EVERY_VALUE, SPLIT, CA_FILE]) {
      for (const e of containerOf(await template(values)).env ?? []) rendered.add(e.name)
    }
    const missing = [...(await cliEnvVars())].filter(name => !rendered.has(name) && !notForTheCronJob.has(name))
    assert.deepEqual(
      missing,
      [],
      'export reads these env vars but the chart has no value for them: add one to values.yaml, values.schema.json and templates/cronjob.yaml',
    )
  })

  it('points an OpenCost release at OpenCost by its source alone, leaving the URL to the CLI’s default for it', async () => {
    const env = (containerOf(await template({...REQUIRED, source: 'opencost'})).env ?? []).map(e => [e.name, e.value])
    assert.deepEqual(
      env.filter(([name]) => name === 'COST_SOURCE' || name === 'KUBECOST_API_ENDPOINT'),
      [['COST_SOURCE', 'opencost']],
    )
  })

  it("leaves out empty settings, so the CLI's defaults apply", async () => {
    const names = (containerOf(await template(REQUIRED)).env ?? []).map(e => e.name)
    for (const name of [
      'KUBECOST_API_ENDPOINT',
      'S3_PREFIX',
      'LABELS',
      'ANNOTATIONS',
      'IRSA_PARENT_IAM_ROLE_ARN',
      'S3_ENDPOINT_URL',
      'RUN_DEADLINE',
      'KUBECOST_ALLOCATION_API_DEADLINE',
      'KUBECOST_ASSETS_API_DEADLINE',
      'KUBECOST_CA_CERTIFICATE_SECRET_NAME',
      'KUBECOST_CA_CERTIFICATE_FILE',
    ]) {
      assert.ok(!names.includes(name), name)
    }
  })

  it('mounts the CA ConfigMap read-only where KUBECOST_CA_CERTIFICATE_FILE points', async () => {
    const manifests = await template(CA_FILE)
    validate(manifests)
    const env = (containerOf(manifests).env ?? []).filter(e => e.name.startsWith('KUBECOST_CA_'))
    assert.deepEqual(env, [{name: 'KUBECOST_CA_CERTIFICATE_FILE', value: '/etc/kubecost-ca/bundle.pem'}])
    const mount = containerOf(manifests).volumeMounts?.find(m => m.name === 'kubecost-ca')
    assert.deepEqual(mount, {name: 'kubecost-ca', mountPath: '/etc/kubecost-ca', readOnly: true})
    assert.deepEqual(podOf(manifests).volumes?.find(v => v.name === 'kubecost-ca')?.configMap, {
      name: 'kubecost-ca',
      items: [{key: 'bundle.pem', path: 'bundle.pem'}],
    })
  })
})

describe('chart: split mode (a federated Kubecost primary)', () => {
  it('renders SPLIT_BY_CLUSTER, CLUSTER_MAP and CLUSTER_MAP_FILE, mounts the map ConfigMap, and leaves out CLUSTER_ID', async () => {
    const manifests = await template(SPLIT)
    validate(manifests)
    const env = Object.fromEntries((containerOf(manifests).env ?? []).map(e => [e.name, e.value]))
    assert.equal(env.SPLIT_BY_CLUSTER, 'true')
    assert.equal(env.CLUSTER_MAP, `cluster-one=${ARN},cluster-two=arn:aws:eks:us-east-1:444455556666:cluster/staging`)
    assert.equal(env.CLUSTER_MAP_FILE, '/etc/kubecost-cluster-map/clusters.txt')
    assert.ok(!('CLUSTER_ID' in env))
    assert.deepEqual(
      containerOf(manifests).volumeMounts?.find(m => m.name === 'cluster-map'),
      {name: 'cluster-map', mountPath: '/etc/kubecost-cluster-map', readOnly: true},
    )
    assert.deepEqual(podOf(manifests).volumes?.find(v => v.name === 'cluster-map')?.configMap, {
      name: 'cluster-map',
      items: [{key: 'clusters.txt', path: 'clusters.txt'}],
    })
  })

  it('leaves the split settings out when split mode is off', async () => {
    const names = (containerOf(await template(REQUIRED)).env ?? []).map(e => e.name)
    for (const name of ['SPLIT_BY_CLUSTER', 'CLUSTER_MAP', 'CLUSTER_MAP_FILE']) assert.ok(!names.includes(name), name)
    assert.ok(!podOf(await template(REQUIRED)).volumes?.some(v => v.name === 'cluster-map'))
  })

  for (const [what, values, expected] of [
    ['a clusterArn beside splitByCluster', {...SPLIT, clusterArn: ARN}, /clusterArn must be empty with splitByCluster/],
    [
      'splitByCluster without a map',
      {bucket: REQUIRED.bucket, splitByCluster: true},
      /splitByCluster needs clusterMap .* or clusterMapConfigMap.name/,
    ],
    [
      'a cluster name instead of an ARN in clusterMap',
      {...SPLIT, clusterMap: {'cluster-one': 'prod'}},
      /at '\/clusterMap\/cluster-one': 'prod' does not match pattern/,
    ],
  ] as const) {
    it(`refuses ${what}`, async () => {
      const r = await helm(['template', 'cost', CHART, '-f', await valuesFile(values)])
      assert.notEqual(r.code, 0)
      assert.match(r.stderr, expected)
    })
  }
})

describe('chart: NOTES.txt', () => {
  const notes = async (values: unknown) => {
    const r = await helm([
      'install',
      'cost',
      CHART,
      '--dry-run=client',
      '--namespace',
      'finops',
      '-f',
      await valuesFile(values),
    ])
    assert.equal(r.code, 0, r.stderr)
    return r.stdout.slice(r.stdout.indexOf('NOTES:'))
  }

  it('gives the command that runs the job now, in the release namespace', async () => {
    assert.match(
      await notes({...REQUIRED, serviceAccount: {name: 'kubecost-s3-exporter', roleArn: ROLE}}),
      /kubectl create job --from=cronjob\/cost-kubecost-s3-exporter cost-kubecost-s3-exporter-manual-\$\(date \+%s\) -n finops/,
    )
  })

  it("follows one job's logs, the latest of this release's: kubectl refuses to follow more than 5 pods at once", async () => {
    const text = await notes({...REQUIRED, serviceAccount: {name: 'kubecost-s3-exporter', roleArn: ROLE}})
    const commands = text.split('\n').filter(line => /^ {2}kubectl logs /.test(line))
    assert.deepEqual(commands, [
      "  kubectl logs -n finops -f job/$(kubectl get jobs -n finops -l app.kubernetes.io/name=kubecost-s3-exporter,app.kubernetes.io/instance=cost --sort-by=.metadata.creationTimestamp -o jsonpath='{.items[-1:].metadata.name}')",
    ])
    // The selector matches what the CronJob stamps on its Jobs (and kubectl create job --from copies).
    const {labels} = cronJob(await template(REQUIRED)).spec.jobTemplate.metadata
    assert.equal(labels['app.kubernetes.io/name'], 'kubecost-s3-exporter')
    assert.equal(labels['app.kubernetes.io/instance'], 'cost')
  })

  it('has a logs command that a real kubectl runs: it follows the latest Job of this release', async () => {
    const text = await notes({...REQUIRED, serviceAccount: {name: 'kubecost-s3-exporter', roleArn: ROLE}})
    const command = text
      .split('\n')
      .find(line => /^ {2}kubectl logs /.test(line))
      ?.trim()
    assert.ok(command)
    const {labels} = cronJob(await template(REQUIRED)).spec.jobTemplate.metadata
    // What the history limits keep (three succeeded, three failed), a run started by hand, and another release.
    const day = (n: number) => `2026-12-0${n}T00:00:00Z`
    const api = await FakeKubeApi.start('finops', [
      ...[1, 2, 3, 4, 5, 6].map(n => ({
        name: `cost-kubecost-s3-exporter-2941${n}`,
        labels,
        created: day(n),
        log: `scheduled run ${n}\n`,
      })),
      {
        name: 'cost-kubecost-s3-exporter-manual-1765011600',
        labels,
        created: '2026-12-06T09:00:00Z',
        log: 'manual run\n',
      },
      {
        name: 'other-kubecost-s3-exporter-29419200',
        labels: {...labels, 'app.kubernetes.io/instance': 'other'},
        created: day(7),
        log: "another release's run\n",
      },
    ])
    try {
      const kubectl = await kubectlBinary()
      const result = await new Promise<{code: number; stdout: string; stderr: string}>(resolve => {
        execFile(
          'bash',
          ['-c', command],
          {env: {PATH: `${dirname(kubectl)}:/usr/bin:/bin`, KUBECONFIG: api.kubeconfig, HOME: dir.path}},
          (error, stdout, stderr) => resolve({code: error ? Number(error.code ?? 1) : 0, stdout, stderr}),
        )
      })
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stdout, 'manual run\n')
      assert.ok(
        api.requests.some(
          r => r.includes('/pods/cost-kubecost-s3-exporter-manual-1765011600-pod/log?') && r.includes('follow=true'),
        ),
        api.requests.join('\n'),
      )
    } finally {
      await api.close()
    }
  })

  it('warns when the service account gets no IAM role, and not when it does', async () => {
    const warning =
      /^WARNING: serviceAccount\.roleArn is empty\. The pod has no IAM role of its own \(IRSA\), so S3 refuses$/m
    const none = await notes(REQUIRED)
    assert.match(none, warning)
    assert.match(
      none,
      /`kubecost-cid iam-policy` prints the role; then helm upgrade with\n--set serviceAccount\.roleArn=/,
    )
    assert.match(
      await notes({...REQUIRED, serviceAccount: {create: false, name: 'existing'}}),
      /service account existing gets one another way \(an EKS Pod Identity\nassociation, or an eks\.amazonaws\.com\/role-arn annotation it already carries\)/,
    )
    assert.doesNotMatch(
      await notes({...REQUIRED, serviceAccount: {name: 'kubecost-s3-exporter', roleArn: ROLE}}),
      /WARNING/,
    )
    assert.doesNotMatch(
      await notes({
        ...REQUIRED,
        serviceAccount: {name: 'kubecost-s3-exporter', annotations: {'eks.amazonaws.com/role-arn': ROLE}},
      }),
      /WARNING/,
    )
  })
})
