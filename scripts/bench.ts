/**
 * npm run bench [-- <allocations per day>]
 *
 * Measures the real `kubecost-cid export` on large synthetic days served by the project's fake
 * Kubecost, against a reference measured in the same run on the same data: DuckDB converting the
 * day's allocations, as newline-delimited JSON on disk, straight to Snappy Parquet. Every figure is
 * a whole child process (wall seconds from spawn to exit; CPU seconds and peak RSS from the OS via
 * getrusage), and is printed as one `bench:` line so runs can be compared across commits.
 *
 * Single runs on a shared machine vary by ±30 %: the reference and the 1-day export run interleaved,
 * BENCH_ROUNDS rounds (default 5), so a slow stretch of the machine hits both sides of a round, and the
 * ratio reported is the median of the per-round ratios. Each round also runs the export with
 * `--parse-threads 0` (everything on the main thread), so the parse threads' share is visible.
 */
import {execFileSync, spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {once} from 'node:events'
import {createWriteStream} from 'node:fs'
import {mkdir, readFile, readdir, rm, stat} from 'node:fs/promises'
import {availableParallelism} from 'node:os'
import {join} from 'node:path'

import {defaultParseThreads} from '../src/flags/limits.js'

import {dayAllocations} from '../test/fakes/kubecost-data.js'
import {FakeKubecost} from '../test/fakes/kubecost-server.js'

const ROOT = join(import.meta.dirname, '..')
const WORK = join(ROOT, 'bench-output')
const allocations = Number(process.argv[2] ?? process.env.BENCH_ALLOCATIONS ?? 100_000)
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5))
const NOW = '2026-06-10T12:00:00Z'
// today-3 and the four days before it
const DAYS = ['2026-06-03', '2026-06-04', '2026-06-05', '2026-06-06', '2026-06-07']
const LABELS = 'app, app.kubernetes.io/name, app.kubernetes.io/part-of, team'
const ANNOTATIONS = 'prometheus.io/scrape, owner'
const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/bench'
const RSS_PRELOAD = join(ROOT, 'scripts', 'rss-preload.mjs')
const CLI = join(ROOT, 'bin', 'run.js')

interface Measured {
  seconds: number
  /** User and system CPU time of the process, all its threads. */
  cpuSeconds: number
  peakRssMb: number
  /** From spawn until the fake began sending the (first) allocation body: startup, availability, assets. */
  beforeBodySeconds?: number
  code: number
  stderr: string
}

/** When the fake began sending an allocation body for the run being measured (performance.now()). */
let bodyStartedAt: number | undefined

/**
 * Runs a program (`bin/run.js` as users run it, through its shebang, or a node script) with a
 * preload that reports the process's own resource usage (getrusage) on exit.
 */
async function measure(program: string, args: string[]): Promise<Measured> {
  const rssFile = join(WORK, `rss-${process.hrtime.bigint()}.json`)
  bodyStartedAt = undefined
  const started = performance.now()
  const child = spawn(program, args, {
    cwd: ROOT,
    env: {...process.env, BENCH_RSS_FILE: rssFile, NODE_OPTIONS: `--import=${RSS_PRELOAD}`},
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const [code] = (await once(child, 'exit')) as [number]
  const seconds = (performance.now() - started) / 1000
  const usage = JSON.parse(await readFile(rssFile, 'utf8')) as {
    maxRSS: number
    userCPUTime: number
    systemCPUTime: number
  }
  return {
    seconds,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    peakRssMb: usage.maxRSS / 1024,
    ...(bodyStartedAt === undefined ? {} : {beforeBodySeconds: (bodyStartedAt - started) / 1000}),
    code,
    stderr,
  }
}

function check(what: string, result: Measured): Measured {
  if (result.code !== 0) {
    console.error(result.stderr)
    throw new Error(`${what} exited ${result.code}`)
  }

  return result
}

/** Renders a day as the Allocation API body, and (optionally) the same allocations as NDJSON. */
async function render(day: string, bodyFile: string, ndjsonFile?: string): Promise<void> {
  const body = createWriteStream(bodyFile)
  const ndjson = ndjsonFile ? createWriteStream(ndjsonFile) : undefined
  const write = async (stream: NodeJS.WritableStream, text: string) => {
    if (!stream.write(text)) await once(stream, 'drain')
  }

  await write(body, '{"code":200,"status":"success","data":[{')
  let first = true
  for (const allocation of dayAllocations(day, {cluster: 'bench', containers: allocations})) {
    const json = JSON.stringify(allocation)
    await write(body, `${first ? '' : ','}${JSON.stringify(allocation.name)}:${json}`)
    if (ndjson) await write(ndjson, `${json}\n`)
    first = false
  }

  body.end('}]}')
  ndjson?.end()
  await Promise.all([once(body, 'close'), ndjson ? once(ndjson, 'close') : undefined])
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** One digest of every Parquet file an export wrote, so runs (and commits) can be checked byte for byte. */
async function outputDigest(dir: string): Promise<string> {
  const files = (await readdir(dir, {recursive: true})).filter(f => f.endsWith('.parquet')).sort()
  const hash = createHash('sha256')
  for (const file of files) hash.update(file).update(await readFile(join(dir, file)))
  return `${files.length}_files_${hash.digest('hex').slice(0, 16)}`
}

const line = (text: string) => console.log(`bench: ${text}`)
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)
const s2 = (seconds: number) => seconds.toFixed(2)

await rm(WORK, {recursive: true, force: true})
await mkdir(join(WORK, 'data'), {recursive: true})
console.error(`Rendering ${DAYS.length} days of ${allocations} allocations...`)
const bodies: Record<string, string> = {}
for (const day of DAYS) {
  bodies[day] = join(WORK, 'data', `${day}.json`)
  await render(day, bodies[day], day === DAYS.at(-1) ? join(WORK, 'data', 'reference.ndjson') : undefined)
}

const bodyBytes = (await stat(bodies[DAYS.at(-1) as string] as string)).size
const fake = await FakeKubecost.start({
  cluster: 'bench',
  days: DAYS,
  containersPerDay: allocations,
  allocationBodies: bodies,
  onAllocationBody: () => (bodyStartedAt ??= performance.now()),
})
try {
  const exportArgs = (out: string, days: number) => [
    'export',
    '--cluster-arn',
    ARN,
    '--output-dir',
    join(WORK, out),
    '--kubecost-url',
    fake.url,
    '--backfill-days',
    String(days),
    '--now',
    NOW,
    '--labels',
    LABELS,
    '--annotations',
    ANNOTATIONS,
  ]

  // The fake sums a day's allocations the first time it is asked for the day's availability; an
  // untimed dry run over every day does that here, not inside the first round's export.
  check('warm-up dry run', await measure(CLI, [...exportArgs('out-warm-up', DAYS.length), '--dry-run']))

  const references: Measured[] = []
  const exports: Measured[] = []
  const mainOnly: Measured[] = []
  for (let i = 0; i < ROUNDS; i++) {
    console.error(
      `Round ${i + 1} of ${ROUNDS}: DuckDB reference (NDJSON -> Snappy Parquet), then export of 1 day, then again with --parse-threads 0...`,
    )
    const script = join(ROOT, 'scripts', 'bench-reference.mjs')
    const ndjson = join(WORK, 'data', 'reference.ndjson')
    references.push(
      check('reference', await measure(process.execPath, [script, ndjson, join(WORK, `reference-${i}.parquet`)])),
    )
    exports.push(check('export 1 day', await measure(CLI, exportArgs(`out-1day-${i}`, 1))))
    mainOnly.push(
      check(
        'export 1 day, main thread only',
        await measure(CLI, [...exportArgs(`out-1day-main-${i}`, 1), '--parse-threads', '0']),
      ),
    )
  }

  const outputs = [...exports.map((_, i) => `out-1day-${i}`), ...mainOnly.map((_, i) => `out-1day-main-${i}`)]
  const digests = new Set(await Promise.all(outputs.map(async out => outputDigest(join(WORK, out)))))
  if (digests.size !== 1) throw new Error(`the 1-day exports differ: ${[...digests].join(', ')}`)

  console.error('export, 5 days...')
  const fiveDays = check('export 5 days', await measure(CLI, exportArgs('out-5days', 5)))

  console.error('export with nothing to collect, and --help...')
  const idle = check('export (nothing to do)', await measure(CLI, exportArgs('out-1day-0', 1)))
  const helps: number[] = []
  for (let i = 0; i < 5; i++) helps.push(check('--help', await measure(CLI, ['--help'])).seconds)

  const rows = allocations + 5
  const ratios = exports.map((e, i) => e.seconds / (references[i] as Measured).seconds)
  const oneDaySeconds = median(exports.map(e => e.seconds))
  const beforeBody = median(exports.map(e => e.beforeBodySeconds ?? Number.NaN))
  const oneDayRss = Math.max(...exports.map(e => e.peakRssMb))
  const cliVersion = execFileSync(CLI, ['--version'], {encoding: 'utf8'}).trim()
  const threads = process.env.PARSE_THREADS ?? String(defaultParseThreads())
  line(
    `allocations_per_day=${allocations} rows_per_day=${rows} body_mb=${mb(bodyBytes)} rounds=${ROUNDS} parse_threads=${threads} cpus=${availableParallelism()} cli=${cliVersion.replaceAll(' ', '_')}`,
  )
  line(
    `reference_duckdb_ndjson_to_parquet_seconds_median=${s2(median(references.map(r => r.seconds)))} reference_cpu_seconds_median=${s2(median(references.map(r => r.cpuSeconds)))} reference_peak_rss_mb=${Math.max(...references.map(r => r.peakRssMb)).toFixed(0)}`,
  )
  line(
    `export_1day_seconds_median=${s2(oneDaySeconds)} export_1day_cpu_seconds_median=${s2(median(exports.map(e => e.cpuSeconds)))} allocations_per_second=${(rows / oneDaySeconds).toFixed(0)}`,
  )
  line(
    `export_1day_seconds_before_allocation_body_median=${s2(beforeBody)} (startup + availability + assets) export_1day_seconds_from_allocation_body_median=${s2(median(exports.map(e => e.seconds - (e.beforeBodySeconds ?? Number.NaN))))}`,
  )
  line(
    `rounds_export_seconds=${exports.map(e => s2(e.seconds)).join(',')} rounds_reference_seconds=${references.map(r => s2(r.seconds)).join(',')}`,
  )
  line(
    `export_to_reference_ratio=${median(ratios).toFixed(2)} (median of per-round ratios; target <= 1.5) rounds=${ratios.map(r => r.toFixed(2)).join(',')} ratio_of_medians=${(oneDaySeconds / median(references.map(r => r.seconds))).toFixed(2)}`,
  )
  const mainRatios = mainOnly.map((e, i) => e.seconds / (references[i] as Measured).seconds)
  line(
    `export_1day_parse_threads_0_seconds_median=${s2(median(mainOnly.map(e => e.seconds)))} export_1day_parse_threads_0_cpu_seconds_median=${s2(median(mainOnly.map(e => e.cpuSeconds)))} export_1day_parse_threads_0_to_reference_ratio=${median(mainRatios).toFixed(2)} export_1day_parse_threads_0_peak_rss_mb=${Math.max(...mainOnly.map(e => e.peakRssMb)).toFixed(0)}`,
  )
  line(`export_1day_peak_rss_mb=${oneDayRss.toFixed(0)} (highest of the rounds; target <= 300)`)
  line(
    `export_5day_seconds=${s2(fiveDays.seconds)} export_5day_cpu_seconds=${s2(fiveDays.cpuSeconds)} export_5day_peak_rss_mb=${fiveDays.peakRssMb.toFixed(0)} (target <= 300)`,
  )
  line(`export_5day_to_1day_rss_ratio=${(fiveDays.peakRssMb / oneDayRss).toFixed(2)} (target <= 1.1)`)
  line(
    `export_nothing_to_collect_seconds=${s2(idle.seconds)} export_nothing_to_collect_peak_rss_mb=${idle.peakRssMb.toFixed(0)}`,
  )
  line(`help_seconds_median_of_5=${s2(median(helps))} (target <= 0.5)`)
  line(`export_1day_output=${[...digests][0] ?? ''} (identical in every round, with and without parse threads)`)
} finally {
  await fake.close()
}
