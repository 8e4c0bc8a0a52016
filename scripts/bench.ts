/**
 * npm run bench [-- <allocations per day>]
 *
 * Measures the real `kubecost-cid export` on large synthetic days served by the project's fake
 * Kubecost, against a reference measured in the same run on the same data: DuckDB converting the
 * day's allocations, as newline-delimited JSON on disk, straight to Snappy Parquet. Every figure is
 * a whole child process (wall seconds from spawn to exit; peak RSS from the OS via getrusage), and
 * is printed as one `bench:` line so runs can be compared across commits.
 */
import {execFileSync, spawn} from 'node:child_process'
import {once} from 'node:events'
import {createWriteStream} from 'node:fs'
import {mkdir, readFile, rm, stat} from 'node:fs/promises'
import {join} from 'node:path'

import {dayAllocations} from '../test/fakes/kubecost-data.js'
import {FakeKubecost} from '../test/fakes/kubecost-server.js'

const ROOT = join(import.meta.dirname, '..')
const WORK = join(ROOT, 'bench-output')
const allocations = Number(process.argv[2] ?? process.env.BENCH_ALLOCATIONS ?? 100_000)
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
  peakRssMb: number
  code: number
  stderr: string
}

/**
 * Runs a program (`bin/run.js` as users run it, through its shebang, or a node script) with a
 * preload that reports the process's own peak RSS (getrusage) on exit.
 */
async function measure(program: string, args: string[]): Promise<Measured> {
  const rssFile = join(WORK, `rss-${process.hrtime.bigint()}.json`)
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
  const {maxRSS} = JSON.parse(await readFile(rssFile, 'utf8')) as {maxRSS: number}
  return {seconds, peakRssMb: maxRSS / 1024, code, stderr}
}

function check(what: string, result: Measured): void {
  if (result.code !== 0) {
    console.error(result.stderr)
    throw new Error(`${what} exited ${result.code}`)
  }
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

async function repeat(times: number, run: (i: number) => Promise<Measured>, what: string): Promise<Measured[]> {
  const results: Measured[] = []
  for (let i = 0; i < times; i++) {
    const result = await run(i)
    check(what, result)
    results.push(result)
  }

  return results
}

/** The run with the median wall time, reporting the highest peak RSS of all runs. */
function median(results: Measured[]): Measured {
  const sorted = [...results].sort((a, b) => a.seconds - b.seconds)
  const middle = sorted[Math.floor(sorted.length / 2)] as Measured
  return {...middle, peakRssMb: Math.max(...results.map(r => r.peakRssMb))}
}

const line = (text: string) => console.log(`bench: ${text}`)
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)

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

  // Both sides are run three times and their medians compared: single runs vary by tens of percent here.
  console.error('Reference: DuckDB NDJSON -> Snappy Parquet (3 runs)...')
  const reference = median(
    await repeat(
      3,
      async i =>
        measure(process.execPath, [
          join(ROOT, 'scripts', 'bench-reference.mjs'),
          join(WORK, 'data', 'reference.ndjson'),
          join(WORK, `reference-${i}.parquet`),
        ]),
      'reference',
    ),
  )

  console.error('export, 1 day (3 runs)...')
  const oneDay = median(await repeat(3, async i => measure(CLI, exportArgs(`out-1day-${i}`, 1)), 'export 1 day'))

  console.error('export, 5 days...')
  const fiveDays = await measure(CLI, exportArgs('out-5days', 5))
  check('export 5 days', fiveDays)

  console.error('export with nothing to collect, and --help...')
  const idle = await measure(CLI, exportArgs('out-1day-0', 1))
  check('export (nothing to do)', idle)
  const helps: number[] = []
  for (let i = 0; i < 5; i++) {
    const help = await measure(CLI, ['--help'])
    check('--help', help)
    helps.push(help.seconds)
  }

  const help = helps.sort((a, b) => a - b)[2] as number
  const rows = allocations + 5
  const cliVersion = execFileSync(CLI, ['--version'], {encoding: 'utf8'}).trim()
  line(
    `allocations_per_day=${allocations} rows_per_day=${rows} body_mb=${mb(bodyBytes)} cli=${cliVersion.replaceAll(' ', '_')}`,
  )
  line(
    `reference_duckdb_ndjson_to_parquet_seconds_median_of_3=${reference.seconds.toFixed(2)} reference_peak_rss_mb=${reference.peakRssMb.toFixed(0)}`,
  )
  line(
    `export_1day_seconds_median_of_3=${oneDay.seconds.toFixed(2)} allocations_per_second=${(rows / oneDay.seconds).toFixed(0)}`,
  )
  line(`export_to_reference_ratio=${(oneDay.seconds / reference.seconds).toFixed(2)} (target <= 1.5)`)
  line(`export_1day_peak_rss_mb=${oneDay.peakRssMb.toFixed(0)} (target <= 300)`)
  line(`export_5day_seconds=${fiveDays.seconds.toFixed(2)} export_5day_peak_rss_mb=${fiveDays.peakRssMb.toFixed(0)}`)
  line(`export_5day_to_1day_rss_ratio=${(fiveDays.peakRssMb / oneDay.peakRssMb).toFixed(2)} (target <= 1.1)`)
  line(
    `export_nothing_to_collect_seconds=${idle.seconds.toFixed(2)} export_nothing_to_collect_peak_rss_mb=${idle.peakRssMb.toFixed(0)}`,
  )
  line(`help_seconds_median_of_5=${help.toFixed(2)} (target <= 0.5)`)
} finally {
  await fake.close()
}
