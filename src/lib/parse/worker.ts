/**
 * A parse thread: takes blocks of an allocation body, finds the entries it can prove by marker,
 * parses them and builds their rows, and sends back the rows with where each run of entries starts
 * and ends. It never decides what the body means: the main thread checks every run's start against
 * the envelope's state and reads whatever is left itself (see ParallelReader).
 */
import {parentPort} from 'node:worker_threads'

import {NodeIndex} from '../nodes.js'
import {RowBuilder} from '../rows.js'
import {parseBlock} from './block.js'
import type {ToWorker} from './protocol.js'

if (!parentPort) throw new Error('the parse worker runs as a worker thread')
const port = parentPort

let builder: RowBuilder | undefined

port.on('message', (message: ToWorker) => {
  if (message.type === 'context') {
    builder = new RowBuilder({...message.context, nodes: NodeIndex.from(message.context.nodes)})
    return
  }

  if (!builder) throw new Error('a block arrived before its context')
  const {parsed, transfer} = parseBlock(
    builder,
    message.id,
    message.block,
    message.length,
    message.maxEntryBytes,
    message.reuse,
  )
  port.postMessage(parsed, transfer)
})
