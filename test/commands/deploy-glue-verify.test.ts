/**
 * deploy-glue --verify: after writing the view, a LIMIT 0 Athena query over it in the workgroup,
 * awaited QUEUED → RUNNING → SUCCEEDED, or its failure reported with Athena's reason (exit 1).
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {ROLE, useDeployFakes} from './deploy-fakes.js'

const SQL = 'SELECT * FROM "kubecost_db"."kubecost_view" LIMIT 0'

interface VerifyJson {
  resources: Array<{kind: string; action: string}>
  verified?: {sql: string; workgroup: string; queryId: string; state: string}
}

describe('deploy-glue --verify', () => {
  const fakes = useDeployFakes()

  const deploy = (args: string[], env: Record<string, string> = {}) =>
    fakes.deploy(['--crawler-role-arn', ROLE, '--poll-ms', '20', ...args], env)
  // The SDK adds an idempotency token (ClientRequestToken) of its own to each start.
  const queries = () =>
    fakes.athena.requests
      .filter(r => r.op === 'StartQueryExecution')
      .map(r => ({QueryString: r.body.QueryString, WorkGroup: r.body.WorkGroup}))
  const polls = () => fakes.athena.requests.filter(r => r.op === 'GetQueryExecution').length

  it('reads the view with a LIMIT 0 query in the workgroup, awaited through QUEUED and RUNNING', async () => {
    fakes.athena.query = {queuedPolls: 2, runningPolls: 2, outcome: 'SUCCEEDED'}
    const result = await deploy(['--verify'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(queries(), [{QueryString: SQL, WorkGroup: 'primary'}])
    // Two polls QUEUED, two RUNNING, then SUCCEEDED.
    assert.equal(polls(), 5)
    const id = [...fakes.athena.queries.keys()][0] ?? ''
    assert.match(
      result.stdout,
      new RegExp(
        `^view kubecost_db\\.kubecost_view: read by Athena \\(query ${id} SUCCEEDED in workgroup primary\\)$`,
        'm',
      ),
    )
    assert.match(result.stderr, /Athena query .*: QUEUED/)
    assert.match(result.stderr, /Athena query .*: RUNNING/)
  })

  it('--json carries the query; VERIFY_VIEW turns it on too', async () => {
    const result = await deploy(['--json'], {VERIFY_VIEW: 'true'})
    assert.equal(result.code, 0, result.stderr)
    const json = JSON.parse(result.stdout) as VerifyJson
    assert.deepEqual(
      {...json.verified, queryId: typeof json.verified?.queryId},
      {sql: SQL, workgroup: 'primary', queryId: 'string', state: 'SUCCEEDED'},
    )
    assert.equal(queries().length, 1)
  })

  it("a FAILED query exits 1 with Athena's StateChangeReason; the resources were written", async () => {
    fakes.athena.failNextQuery("SYNTAX_ERROR: line 1:15: Column 'x' cannot be resolved")
    const result = await deploy(['--verify'])
    assert.equal(result.code, 1, result.stderr)
    assert.match(
      result.stderr,
      /Error: Athena could not read view kubecost_db\.kubecost_view: query \S+ FAILED: SYNTAX_ERROR: line 1:15: Column 'x' cannot be resolved/,
    )
    assert.match(result.stderr, /Try: The view is in the Glue catalog but Athena rejects it/)
    assert.match(result.stdout, /^view kubecost_db\.kubecost_view: created$/m)
    assert.ok(fakes.glue.writes().includes('CreateCrawler'))
  })

  it('a CANCELLED query exits 1 too, with its own code under --log-format json', async () => {
    fakes.athena.query = {queuedPolls: 1, runningPolls: 0, outcome: 'CANCELLED', reason: 'Query was cancelled by user'}
    const result = await deploy(['--verify', '--log-format', 'json'])
    assert.equal(result.code, 1)
    const error = result.stderr
      .trim()
      .split('\n')
      .map(l => JSON.parse(l) as {level: string; code?: string; message: string})
      .find(l => l.level === 'ERROR')
    assert.equal(error?.code, 'ATHENA_QUERY_CANCELLED')
    assert.match(error?.message ?? '', /query \S+ CANCELLED: Query was cancelled by user/)
  })

  it('a workgroup without a query result location: exit 1 saying what to set, no query started', async () => {
    fakes.athena.workgroups.set('primary', {Name: 'primary', State: 'ENABLED', Configuration: {}})
    const result = await deploy(['--verify'])
    assert.equal(result.code, 1)
    assert.match(
      result.stderr,
      /Error: Cannot check that Athena reads view kubecost_db\.kubecost_view: workgroup primary has no query result location/,
    )
    assert.match(
      result.stderr,
      /Try: Set the workgroup's query result location .*--create-workgroup kubecost --results-location s3:\/\//,
    )
    assert.deepEqual(queries(), [])
  })

  it('runs in the workgroup deploy-glue creates with --create-workgroup', async () => {
    const result = await deploy([
      '--verify',
      '--create-workgroup',
      'kubecost',
      '--results-location',
      's3://query-results-111122223333/kubecost/',
    ])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(queries(), [{QueryString: SQL, WorkGroup: 'kubecost'}])
  })

  it('a query still queued at --verify-timeout: exit 1 naming the state and the flag', async () => {
    fakes.athena.query = {queuedPolls: 1, runningPolls: 1, outcome: 'SUCCEEDED', forever: true}
    const result = await deploy(['--verify', '--verify-timeout', '0.3'])
    assert.equal(result.code, 1)
    assert.match(
      result.stderr,
      /Athena query \S+ reading view kubecost_db\.kubecost_view was still QUEUED after 0 s \(--verify-timeout\)/,
    )
    assert.match(result.stderr, /raise --verify-timeout \(VERIFY_TIMEOUT\)/)
  })

  it('is not run under --dry-run, which writes nothing', async () => {
    const result = await deploy(['--verify', '--dry-run'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /--verify was not run: --dry-run and --check write nothing/)
    assert.deepEqual(queries(), [])
  })

  it('access denied on StartQueryExecution names the action: exit 1', async () => {
    fakes.athena.fail('StartQueryExecution', 'AccessDeniedException')
    const result = await deploy(['--verify'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /Access denied: athena:StartQueryExecution on workgroup primary as /)
  })

  it('access denied on a workgroup other than primary says iam-policy must be told it', async () => {
    fakes.athena.workgroups.set('analysts', {
      Name: 'analysts',
      State: 'ENABLED',
      Configuration: {ResultConfiguration: {OutputLocation: 's3://query-results-111122223333/analysts/'}},
    })
    fakes.athena.fail('StartQueryExecution', 'AccessDeniedException')
    const result = await deploy(['--verify', '--athena-workgroup', 'analysts'])
    assert.equal(result.code, 1)
    assert.match(
      result.stderr,
      /Try: workgroup analysts is not primary, the workgroup the policy printed by iam-policy allows unless given another, and a name the policy does not allow is denied rather than reported missing: if analysts is mistyped, correct --athena-workgroup \(ATHENA_WORKGROUP\); if it is right, print the policy again with iam-policy --workgroup analysts\./,
    )
  })
})
