/**
 * The whole job on an embedded default: starts the bundled demo Kubecost (the project's fake
 * Kubecost server, with a week of realistic data and one day missing) and runs the real
 * `kubecost-cid export` into ./demo-output, then shows what was written.
 */
import {spawn} from 'node:child_process'
import {readdirSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'

import {DuckDBInstance} from '@duckdb/node-api'

import {FakeKubecost} from '../test/fakes/kubecost-server.js'

const outputDir = join(process.cwd(), 'demo-output')
const today = new Date()
const day = (offset: number) => new Date(today.getTime() - offset * 86_400_000).toISOString().slice(0, 10)
// Kubecost "has" the last 9 reconciled days except one, so the export shows a gap and a back-fill.
const days = [3, 4, 5, 6, 8, 9, 10, 11, 12].map(n => day(n))

const fake = await FakeKubecost.start({cluster: 'demo', days, containersPerDay: 200})
const args = [
  'bin/run.js',
  'export',
  '--cluster-arn',
  'arn:aws:eks:us-east-1:111122223333:cluster/demo',
  '--output-dir',
  outputDir,
  '--kubecost-url',
  fake.url,
  '--backfill-days',
  '7',
  '--labels',
  'app, app.kubernetes.io/name, team',
  '--annotations',
  'prometheus.io/scrape',
]
console.log(`Demo Kubecost at ${fake.url}\n$ kubecost-cid ${args.slice(1).join(' ')}\n`)
// Asynchronous, so that the demo Kubecost in this process keeps answering while the CLI runs.
const code = await new Promise<number>(resolve => {
  spawn(process.execPath, args, {stdio: 'inherit'}).on('exit', status => resolve(status ?? 1))
})
await fake.close()
if (code !== 0) process.exit(code)

const files: string[] = []
const walk = (dir: string) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else files.push(path)
  }
}

walk(outputDir)
console.log(`\nFiles in ${relative(process.cwd(), outputDir)}/:`)
for (const file of files.sort()) console.log(`  ${relative(outputDir, file)}  (${statSync(file).size} bytes)`)

const db = await (await DuckDBInstance.create(':memory:')).connect()
const reader = await db.runAndReadAll(`
  SELECT "properties.namespace" AS namespace, count(*)::INTEGER AS rows, round(sum("totalCost"), 2) AS total_cost
  FROM read_parquet('${outputDir}/**/*.snappy.parquet') GROUP BY 1 ORDER BY 3 DESC`)
console.log('\nCost by namespace over all exported days (read back with DuckDB):')
console.table(reader.getRowObjectsJS())
console.log('Run it again: nothing is written the second time (every available day is present).')
