import type {BackfillPlan, DayStatus, PlannedDay} from './lib/backfill.js'
import type {ExportResult} from './lib/export.js'
import {type VerificationReport, verdictLine} from './lib/policy/analyze.js'
import {escapeControl} from './lib/sanitize.js'
import type {SplitExportResult, SplitPlan} from './lib/split.js'

/** Plain-text rendering of results for people; `--json` gets the result objects instead. */

export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(headers), ...rows.map(r => line(r))].join('\n')
}

export function planSummary(plan: readonly PlannedDay[], summary: Record<DayStatus, number>): string {
  const parts = [`${summary.present} present`, `${summary.collect} to collect`]
  if (summary.recollect > 0) parts.push(`${summary.recollect} to re-collect`)
  parts.push(`${summary.unavailable} unavailable`)
  return `${plan.length} candidate day${plan.length === 1 ? '' : 's'}: ${parts.join(', ')}`
}

export function renderPlan(plan: BackfillPlan): string {
  return `${table(
    ['DATE', 'STATUS', 'KEY'],
    plan.days.map(d => [d.date, d.status, d.key]),
  )}\n${planSummary(plan.days, plan.summary)}`
}

/** The end-of-run summary: one line per attempted day, then the totals. */
export function renderOutcomes(result: ExportResult): string[] {
  const lines = result.outcomes.map(o => {
    switch (o.status) {
      case 'written': {
        return `${o.date}: written, ${o.rows} rows, ${o.key}`
      }

      case 'failed': {
        return `${o.date}: failed, ${o.error}`
      }

      case 'skipped': {
        return `${o.date}: skipped, ${o.reason}`
      }
    }
  })
  lines.push(
    `Summary: ${result.written} written, ${result.failed} failed, ${result.skipped} skipped (${planSummary(result.days, result.summary)})${result.dryRun ? ' [dry run]' : ''}`,
  )
  return lines
}

/**
 * Split mode: one row per cluster per candidate day, then the totals and the clusters not mapped.
 * Cluster ids come from the map and from Kubecost: their control characters are shown escaped.
 */
export function renderSplitPlan(plan: SplitPlan): string {
  const lines = [
    table(
      ['DATE', 'CLUSTER', 'KUBECOST CLUSTER', 'STATUS', 'KEY'],
      plan.days.map(d => [d.date, d.cluster, escapeControl(d.kubecostCluster), d.status, d.key]),
    ),
    `${plan.clusters.length} cluster${plan.clusters.length === 1 ? '' : 's'}, ${planSummary(plan.days, plan.summary).replace('candidate day', 'cluster-day')}`,
  ]
  if (plan.unmapped.length > 0) {
    lines.push(
      `Not mapped, not exported: ${plan.unmapped.map(u => `${escapeControl(JSON.stringify(u.kubecostCluster))} (${u.days.length} day${u.days.length === 1 ? '' : 's'})`).join(', ')}`,
    )
  }

  return lines.join('\n')
}

/** The end-of-run summary in split mode: one line per attempted cluster-day, then the totals. */
export function renderSplitOutcomes(result: SplitExportResult): string[] {
  const lines = result.outcomes.map(o => {
    const at = `${o.date} ${o.cluster}`
    switch (o.status) {
      case 'written': {
        return `${at}: written, ${o.rows} rows, ${o.key}`
      }

      case 'failed': {
        return `${at}: failed, ${o.error}`
      }

      case 'skipped': {
        return `${at}: skipped, ${o.reason}`
      }
    }
  })
  for (const u of result.unmappedRows) {
    lines.push(`${u.date} ${escapeControl(JSON.stringify(u.kubecostCluster))}: not mapped, ${u.rows} rows not written`)
  }

  lines.push(
    `Summary: ${result.written} written, ${result.failed} failed, ${result.skipped} skipped (${result.clusters.length} clusters, ${planSummary(result.days, result.summary).replace('candidate day', 'cluster-day')})${result.dryRun ? ' [dry run]' : ''}`,
  )
  return lines
}

/** verify-bucket-policy's report: one line per check, the fixes for those that failed or warned, the verdict. */
export function renderVerification(report: VerificationReport): string {
  const fixes = report.checks
    .filter(c => c.status === 'fail' || c.status === 'warn')
    .map(c => `  ${c.id}: ${c.fix ?? ''}`)
  const rows = report.checks.map(c => [c.status.toUpperCase(), c.id, c.reason])
  return [
    table(['STATUS', 'CHECK', 'REASON'], rows),
    ...(fixes.length > 0 ? ['', 'Fixes:', ...fixes] : []),
    '',
    verdictLine(report),
  ].join('\n')
}
