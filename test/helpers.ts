/** Running the built CLI as a child process, the way users and the CronJob run it. */
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtemp, readdir, rm} from 'node:fs/promises'
import {type AddressInfo, createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const BIN = join(ROOT, 'bin', 'run.js')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Environment variables the CLI reads, removed so the machine's own settings cannot leak into a test. */
const CLI_ENV_VARS = [
  'PARSE_THREADS',
  'OIDC_PROVIDER',
  'OIDC_ISSUER',
  'EXPORTER_NAMESPACE',
  'EXPORTER_SERVICE_ACCOUNT',
  'EXPORTER_ROLE_NAME',
  'S3_KMS_KEY_ARN',
  'PIPELINE_REGION',
  'S3_BUCKET_NAME',
  'S3_PREFIX',
  'OUTPUT_DIR',
  'CLUSTER_ID',
  'SPLIT_BY_CLUSTER',
  'CLUSTER_MAP',
  'CLUSTER_MAP_FILE',
  'IRSA_PARENT_IAM_ROLE_ARN',
  'KUBECOST_API_ENDPOINT',
  'COST_SOURCE',
  'BACKFILL_PERIOD_DAYS',
  'AGGREGATION',
  'CONNECTION_TIMEOUT',
  'KUBECOST_ALLOCATION_API_READ_TIMEOUT',
  'KUBECOST_ASSETS_API_READ_TIMEOUT',
  'TLS_VERIFY',
  'KUBECOST_CA_CERTIFICATE_FILE',
  'KUBECOST_CA_CERTIFICATE_SECRET_NAME',
  'KUBECOST_CA_CERTIFICATE_SECRET_REGION',
  'LABELS',
  'ANNOTATIONS',
  'S3_ENDPOINT_URL',
  'S3_REQUEST_TIMEOUT',
  'S3_CALL_DEADLINE',
  'AWS_REQUEST_TIMEOUT',
  'AWS_CALL_DEADLINE',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'LOG_FORMAT',
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3',
  'TMPDIR',
  'RUN_DEADLINE',
  'MAX_ROWS_PER_DAY',
  'KUBECOST_ALLOCATION_API_DEADLINE',
  'KUBECOST_ASSETS_API_DEADLINE',
  'KUBECOST_API_MAX_ENTRY_MB',
  'KUBECOST_API_MAX_RESPONSE_MB',
  'AWS_ENDPOINT_URL_QUICKSIGHT',
  'AWS_ENDPOINT_URL_GLUE',
  'AWS_ENDPOINT_URL_STS',
  'QUICKSIGHT_DATASET_ID',
  'QUICKSIGHT_ACCOUNT_ID',
  'QUICKSIGHT_REGION',
  'REFRESH_TYPE',
  'REFRESH_WAIT',
  'REFRESH_TIMEOUT',
  'CONFIGURE_SCHEDULE',
  'LOOKBACK_DAYS',
  'SCHEDULE_TIME',
  'SCHEDULE_TIMEZONE',
  // deploy-glue and crawl
  'AWS_ENDPOINT_URL_GLUE',
  'AWS_ENDPOINT_URL_ATHENA',
  'GLUE_DATABASE',
  'GLUE_TABLE',
  'GLUE_CRAWLER',
  'CRAWLER_ROLE_ARN',
  'CRAWLER_SCHEDULE',
  'ATHENA_VIEW',
  'VIEW_MONTHS',
  'ALLOW_COLUMN_REMOVAL',
  'GLUE_ADOPT',
  'DRY_RUN',
  'GLUE_CHECK',
  'GLUE_REGION',
  'ATHENA_WORKGROUP',
  'CREATE_ATHENA_WORKGROUP',
  'ATHENA_RESULTS_LOCATION',
  'ATHENA_RESULTS_KMS_KEY',
  'CRAWL_TIMEOUT',
  'CRAWL_WAIT',
]

/** The environment a CLI child process gets: this one's, less every variable the CLI reads, plus `env`. */
export function cliEnv(env: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !CLI_ENV_VARS.includes(k)) base[k] = v
  // No shared config or credentials files: tests pass credentials explicitly.
  base.AWS_CONFIG_FILE = '/nonexistent/aws-config'
  base.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials'
  base.AWS_EC2_METADATA_DISABLED = 'true'
  return {...base, ...env}
}

/**
 * Starts the built CLI, or `wrapper` with the CLI's arguments after it (e.g. `['unshare', '--pid',
 * '--fork', process.execPath, BIN]`); `done` resolves when it has exited.
 */
export function spawnCli(
  args: string[],
  env: Record<string, string> = {},
  wrapper?: string[],
): {child: ChildProcess; done: Promise<CliResult>} {
  const [file, ...prefix] = wrapper ?? [process.execPath, BIN]
  const child = spawn(file ?? process.execPath, [...prefix, ...args], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', code => resolve({code: code ?? -1, stdout, stderr}))
  })
  return {child, done}
}

export async function runCli(args: string[], env: Record<string, string> = {}, wrapper?: string[]): Promise<CliResult> {
  return spawnCli(args, env, wrapper).done
}

export async function tempDir(prefix = 'kubecost-cid-test-'): Promise<{path: string; remove(): Promise<void>}> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return {path, remove: () => rm(path, {recursive: true, force: true})}
}

/** Every file under `dir`, as slash-separated paths relative to it, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {recursive: true, withFileTypes: true}).catch(() => [])
  return entries
    .filter(e => e.isFile())
    .map(e => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort()
}

/**
 * A loopback URL where nothing listens, so a connection to it is refused: a port the kernel handed
 * out for port 0, closed again. The race is small and cannot pass a test falsely: until the next
 * connection, another process could be given the same ephemeral port (Linux hands them out in a
 * rotating, randomised order, so at once again is unlikely), and then the connection would be
 * answered, not refused, and the test would fail rather than pass.
 */
export async function refusedUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise<void>((resolve, reject) => server.close(error => (error ? reject(error) : resolve())))
  return `http://127.0.0.1:${port}`
}
