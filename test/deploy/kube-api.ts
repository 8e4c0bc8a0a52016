/**
 * Just enough of a Kubernetes API server, over plain HTTP, for a real kubectl to run the commands the
 * chart's notes print: discovery of pods and jobs, listing jobs by label selector, reading a job, its
 * pods (by the job's selector) and a pod's log.
 *
 * Behaviour (as the API server does):
 * - Discovery is the legacy form (/api, /apis, /api/v1, /apis/batch/v1); kubectl asks for the
 *   aggregated form first and falls back when the answer is plain JSON.
 * - Lists honour an equality label selector (`a=b,c=d`); anything else in it is refused (400).
 * - A job has one pod, labelled as the job (the chart's pod template carries the same labels) and
 *   with `batch.kubernetes.io/controller-uid`, which the job's selector names.
 * - A missing object is 404 with a Status body; every request is recorded (method and URL).
 */
import {type Server, createServer} from 'node:http'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {listenOnLoopback} from '../fakes/http.js'

type Json = Record<string, unknown>

export interface FakeJob {
  name: string
  labels: Record<string, string>
  created: string
  /** What the job's one pod logged. */
  log: string
}

const resource = (name: string, kind: string, verbs: string[]) => ({
  name,
  singularName: '',
  namespaced: true,
  kind,
  verbs,
})

const DISCOVERY: Record<string, Json> = {
  '/api': {kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: []},
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [
      {
        name: 'batch',
        versions: [{groupVersion: 'batch/v1', version: 'v1'}],
        preferredVersion: {groupVersion: 'batch/v1', version: 'v1'},
      },
    ],
  },
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [resource('pods', 'Pod', ['get', 'list']), resource('pods/log', 'Pod', ['get'])],
  },
  '/apis/batch/v1': {
    kind: 'APIResourceList',
    groupVersion: 'batch/v1',
    resources: [resource('jobs', 'Job', ['get', 'list'])],
  },
}

function matches(selector: string | null, labels: Record<string, string>): boolean {
  if (!selector) return true
  return selector.split(',').every(term => {
    const [key, value] = term.split('=')
    return key !== undefined && labels[key] === value
  })
}

export class FakeKubeApi {
  readonly requests: string[] = []

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly dir: string,
    readonly kubeconfig: string,
  ) {}

  static async start(namespace: string, jobs: FakeJob[]): Promise<FakeKubeApi> {
    const server = createServer()
    const url = await listenOnLoopback(server)
    const dir = await mkdtemp(join(tmpdir(), 'kubecost-cid-kube-'))
    const kubeconfig = join(dir, 'config')
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{name: 'fake', cluster: {server: url}}],
        users: [{name: 'fake', user: {token: 'fake'}}],
        contexts: [{name: 'fake', context: {cluster: 'fake', user: 'fake'}}],
        'current-context': 'fake',
      }),
    )
    const api = new FakeKubeApi(server, url, dir, kubeconfig)
    server.on('request', (req, res) => {
      api.requests.push(`${req.method ?? ''} ${req.url ?? ''}`)
      const [status, body] = answer(namespace, jobs, new URL(req.url ?? '/', url))
      res.writeHead(status, {'content-type': typeof body === 'string' ? 'text/plain' : 'application/json'})
      res.end(typeof body === 'string' ? body : JSON.stringify(body))
    })
    return api
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
    await rm(this.dir, {recursive: true, force: true})
  }
}

const status = (code: number, message: string): [number, Json] => [
  code,
  {kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code},
]

/** The answer to one GET: the status code and a JSON object, or a pod's log as text. */
function answer(namespace: string, jobs: readonly FakeJob[], url: URL): [number, Json | string] {
  const {pathname, searchParams} = url
  const selector = searchParams.get('labelSelector')
  if (selector && !/^[\w./-]+=[\w./-]+(,[\w./-]+=[\w./-]+)*$/.test(selector))
    return status(400, `unsupported selector ${selector}`)
  const discovery = DISCOVERY[pathname]
  if (discovery) return [200, discovery]

  const uid = (j: FakeJob) => `uid-${j.name}`
  const job = (j: FakeJob): Json => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {name: j.name, namespace, labels: j.labels, creationTimestamp: j.created, uid: uid(j)},
    spec: {selector: {matchLabels: {'batch.kubernetes.io/controller-uid': uid(j)}}},
  })
  const podLabels = (j: FakeJob) => ({
    ...j.labels,
    'batch.kubernetes.io/controller-uid': uid(j),
    'batch.kubernetes.io/job-name': j.name,
  })
  const pod = (j: FakeJob): Json => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name: `${j.name}-pod`, namespace, labels: podLabels(j), creationTimestamp: j.created},
    spec: {containers: [{name: 'kubecost-s3-exporter', image: 'kubecost-cid'}]},
    status: {phase: 'Succeeded'},
  })
  const ns = `/namespaces/${namespace}`
  if (pathname === `/apis/batch/v1${ns}/jobs`)
    return [
      200,
      {
        apiVersion: 'batch/v1',
        kind: 'JobList',
        metadata: {},
        items: jobs.filter(j => matches(selector, j.labels)).map(job),
      },
    ]
  if (pathname === `/api/v1${ns}/pods`)
    return [
      200,
      {
        apiVersion: 'v1',
        kind: 'PodList',
        metadata: {},
        items: jobs.filter(j => matches(selector, podLabels(j))).map(pod),
      },
    ]

  const named = (pattern: string) => {
    const name = new RegExp(`^${pattern}$`).exec(pathname)?.[1]
    return jobs.find(j => j.name === name)
  }
  const ofJob = named(`/apis/batch/v1${ns}/jobs/([^/]+)`)
  if (ofJob) return [200, job(ofJob)]
  const ofPod = named(`/api/v1${ns}/pods/([^/]+)-pod`)
  if (ofPod) return [200, pod(ofPod)]
  const ofLog = named(`/api/v1${ns}/pods/([^/]+)-pod/log`)
  if (ofLog) return [200, ofLog.log]
  return status(404, `${pathname} not found`)
}
