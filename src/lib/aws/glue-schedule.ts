import {GetCrawlerCommand, type GlueClient} from '@aws-sdk/client-glue'

import type {AwsCallContext} from './errors.js'

/** The crawler's schedule expression (`cron(...)`), or undefined when it runs only on demand. */
export async function getCrawlerSchedule(
  glue: {
    client: GlueClient
    send: <Output>(call: () => Promise<Output>, context: Omit<AwsCallContext, 'identity'>) => Promise<Output>
  },
  name: string,
): Promise<string | undefined> {
  const {Crawler: crawler} = await glue.send(() => glue.client.send(new GetCrawlerCommand({Name: name})), {
    action: 'glue:GetCrawler',
    resource: `crawler ${name}`,
  })
  return crawler?.Schedule?.ScheduleExpression ?? undefined
}
