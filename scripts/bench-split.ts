/**
 * npm run bench:split [-- <clusters> <allocations per cluster>]
 * npm run bench:split -- sweep [<clusters> ...]
 *
 * Peak RSS of `kubecost-cid export --split-by-cluster` splitting one day of a federated primary
 * (default 10 clusters × 20,000 allocations, served live by the project's fake Kubecost), beside
 * two references measured in the same run: a single-cluster export of the same number of rows in
 * one file, and a split export of one cluster alone. Each figure is a whole child process's peak
 * RSS from getrusage, printed as one `bench-split:` line.
 *
 * `sweep` measures how memory depends on the size of the map rather than on the rows: one day of
 * many clusters with a handful of allocations each (default 100, 400 and 1,000 clusters), each
 * count's peak RSS on a line, then the growth per mapped cluster between the smallest and the
 * largest count, and the largest map with data for the smallest count only.
 */
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {FakeKubecost} from '../test/fakes/kubecost-server.js'
import {listFiles} from '../test/helpers.js'

const ROOT = join(import.meta.dirname, '..')
const WORK = join(ROOT, 'bench-output', 'split')
const sweep = process.argv[2] === 'sweep'
const clusters = sweep ? 0 : Number(process.argv[2] ?? 10)
const perCluster = sweep ? 0 : Number(process.argv[3] ?? 20_000)
const SWEEP = sweep ? process.argv.slice(3).map(Number) : []
/** Container allocations per cluster in a sweep: each cluster's day is a few rows (its nodes' idle rows come on top). */
const SWEEP_CONTAINERS = 4
const NOW = '2026-06-10T12:00:00Z'
const DAY = '2026-06-07' // today-3
const LABELS = 'app, app.kubernetes.io/name, app.kubernetes.io/part-of, team'
const CLI = join(ROOT, 'bin', 'run.js')
const RSS_PRELOAD = join(ROOT, 'scripts', 'rss-preload.mjs')
const idsOf = (count: number) => Array.from({length: count}, (_, i) => `cluster-${String(i).padStart(2, '0')}`)
const ids = idsOf(clusters)
const arnOf = (id: string) => `arn:aws:eks:us-east-1:111122223333:cluster/${id}`

async function measure(args: string[]): Promise<{seconds: number; cpuSeconds: number; peakRssMb: number}> {
  const rssFile = join(WORK, `rss-${process.hrtime.bigint()}.json`)
  const started = performance.now()
  const child = spawn(CLI, args, {
    cwd: ROOT,
    env: {...process.env, BENCH_RSS_FILE: rssFile, NODE_OPTIONS: `--import=${RSS_PRELOAD}`},
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const [code] = (await once(child, 'exit')) as [number]
  if (code !== 0) throw new Error(`kubecost-cid ${args.join(' ')} exited ${code}:\n${stderr}`)
  const usage = JSON.parse(await readFile(rssFile, 'utf8')) as {
    maxRSS: number
    userCPUTime: number
    systemCPUTime: number
  }
  return {
    seconds: (performance.now() - started) / 1000,
    // CPU time tells two runs apart on a busy machine, where wall time mostly measures the others.
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    peakRssMb: usage.maxRSS / 1024,
  }
}

const common = (url: string, out: string) => [
  '--output-dir',
  join(WORK, out),
  '--kubecost-url',
  url,
  '--backfill-days',
  '1',
  '--now',
  NOW,
  '--labels',
  LABELS,
]
const line = (text: string) => console.log(`bench-split: ${text}`)

await rm(WORK, {recursive: true, force: true})
await mkdir(WORK, {recursive: true})
if (sweep) {
  await runSweep(SWEEP.length > 0 ? SWEEP : [100, 400, 1000])
  await rm(WORK, {recursive: true, force: true})
  process.exit(0)
}

const primary = await FakeKubecost.start({
  days: [],
  clusters: Object.fromEntries(ids.map(id => [id, [DAY]])),
  containersPerDay: perCluster,
  chunkEntries: 2000,
})
const single = await FakeKubecost.start({
  cluster: 'single',
  days: [DAY],
  containersPerDay: clusters * perCluster,
  chunkEntries: 2000,
})
try {
  const map = ids.flatMap(id => ['--cluster-map', `${id}=${arnOf(id)}`])
  console.error(`split: ${clusters} clusters × ${perCluster} allocations...`)
  const split = await measure(['export', '--split-by-cluster', ...map, ...common(primary.url, 'split')])
  const files = await listFiles(join(WORK, 'split'))
  if (files.length !== clusters) throw new Error(`expected ${clusters} files, got ${files.length}`)
  console.error(`reference: one cluster of ${clusters * perCluster} allocations...`)
  const whole = await measure(['export', '--cluster-arn', arnOf('single'), ...common(single.url, 'single')])
  console.error(`reference: split of one cluster of ${perCluster} allocations...`)
  const one = await measure([
    'export',
    '--split-by-cluster',
    '--cluster-map',
    `${ids[0] as string}=${arnOf(ids[0] as string)}`,
    ...common(primary.url, 'one'),
  ])
  line(`clusters=${clusters} allocations_per_cluster=${perCluster} rows=${clusters * (perCluster + 5)}`)
  line(
    `split_peak_rss_mb=${split.peakRssMb.toFixed(0)} split_seconds=${split.seconds.toFixed(2)} split_cpu_seconds=${split.cpuSeconds.toFixed(2)}`,
  )
  line(
    `single_cluster_same_rows_peak_rss_mb=${whole.peakRssMb.toFixed(0)} single_cluster_same_rows_seconds=${whole.seconds.toFixed(2)} single_cluster_same_rows_cpu_seconds=${whole.cpuSeconds.toFixed(2)}`,
  )
  line(`split_one_cluster_peak_rss_mb=${one.peakRssMb.toFixed(0)} split_one_cluster_seconds=${one.seconds.toFixed(2)}`)
  line(`split_to_single_rss_ratio=${(split.peakRssMb / whole.peakRssMb).toFixed(2)}`)
} finally {
  await primary.close()
  await single.close()
  await rm(WORK, {recursive: true, force: true})
}

/**
 * Peak RSS of one split day for each count of mapped clusters, a few allocations each; then the
 * largest map again with data for only as many clusters as the smallest count has, which tells what
 * the map itself costs from what the day's data (every cluster's rows and nodes) costs.
 */
async function runSweep(counts: readonly number[]): Promise<void> {
  const measured: Array<{clusters: number; peakRssMb: number}> = []
  const sweepOne = async (count: number, withData: number) => {
    const many = idsOf(count)
    const fake = await FakeKubecost.start({
      days: [],
      clusters: Object.fromEntries(many.slice(0, withData).map(id => [id, [DAY]])),
      containersPerDay: SWEEP_CONTAINERS,
    })
    try {
      // A map this long goes in a file, as it would in a CronJob.
      const map = join(WORK, `clusters-${count}.map`)
      await writeFile(map, many.map(id => `${id}=${arnOf(id)}\n`).join(''))
      console.error(`sweep: ${count} clusters (${withData} with data) × ${SWEEP_CONTAINERS} allocations...`)
      const out = `sweep-${count}-${withData}`
      const run = await measure(['export', '--split-by-cluster', '--cluster-map-file', map, ...common(fake.url, out)])
      const files = await listFiles(join(WORK, out))
      if (files.length !== withData) throw new Error(`expected ${withData} files, got ${files.length}`)
      line(
        `sweep clusters=${count} with_data=${withData} allocations_per_cluster=${SWEEP_CONTAINERS} peak_rss_mb=${run.peakRssMb.toFixed(0)} seconds=${run.seconds.toFixed(2)} cpu_seconds=${run.cpuSeconds.toFixed(2)}`,
      )
      return run
    } finally {
      await fake.close()
    }
  }

  for (const count of counts) measured.push({clusters: count, peakRssMb: (await sweepOne(count, count)).peakRssMb})
  const first = measured[0]
  const last = measured.at(-1)
  if (first && last && last.clusters > first.clusters) {
    line(
      `sweep peak_rss_growth_mb_per_cluster=${((last.peakRssMb - first.peakRssMb) / (last.clusters - first.clusters)).toFixed(3)} (${first.clusters} to ${last.clusters} clusters, each with data)`,
    )
    const mapOnly = await sweepOne(last.clusters, first.clusters)
    line(
      `sweep peak_rss_growth_mb_per_mapped_cluster_without_data=${((mapOnly.peakRssMb - first.peakRssMb) / (last.clusters - first.clusters)).toFixed(3)} (${first.clusters} to ${last.clusters} mapped, ${first.clusters} with data)`,
    )
  }
}
