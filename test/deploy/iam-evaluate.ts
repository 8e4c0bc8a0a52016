import type {PolicyJson} from '../../src/lib/iam/policies.js'
import type {evaluate} from '../../src/lib/policy/evaluator.js'

/*
 * The policies are checked by the project's own evaluator, asking it what IAM would answer to each
 * call a command makes. The evaluator reads bucket policies (which always name a principal); an
 * identity policy applies to whoever holds it, so its statements are given to it as applying to any
 * principal. This adapter is the one place that knows the evaluator's document shape.
 */
type EvaluatorPolicy = Parameters<typeof evaluate>[0]

export function asDocument(policy: PolicyJson): EvaluatorPolicy {
  const list = (v: string | string[] | undefined) => (v === undefined ? undefined : [v].flat())
  return {
    version: policy.Version,
    size: JSON.stringify(policy).length,
    statements: policy.Statement.map((s, index) => ({
      index,
      sid: s.Sid,
      effect: s.Effect,
      principal: {kind: 'any' as const},
      action: list(s.Action),
      resource: list(s.Resource ?? '*'),
      conditions: Object.entries(s.Condition ?? {}).flatMap(([operator, block]) =>
        Object.entries(block).map(([key, values]) => ({operator, key, values: [values].flat()})),
      ),
    })),
  }
}
