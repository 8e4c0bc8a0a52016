// Preloaded into a benchmarked process: on exit, writes its own resource usage (peak RSS from
// getrusage) to the file named by BENCH_RSS_FILE.
import {writeFileSync} from 'node:fs'

process.on('exit', () => {
  if (process.env.BENCH_RSS_FILE) writeFileSync(process.env.BENCH_RSS_FILE, JSON.stringify(process.resourceUsage()))
})
