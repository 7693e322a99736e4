/**
 * The demo page: the adapter card, then five views (single example, batch, linear head, training,
 * benchmark). Without WebGPU the page says so and how to get it, and the single example runs on the
 * float64 reference.
 */
import { CrossEntropy } from '../src/index.js';
import { findAdapter, showAdapter, showLibraryFeatures, showUnavailable } from './adapter.js';
import { BatchView } from './batch.js';
import { BenchmarkView } from './benchmark.js';
import { byId, element, messageOf } from './dom.js';
import { LinearView } from './linear.js';
import { SingleExampleView } from './single-example.js';
import { setUpTabs } from './tabs.js';
import { TrainView } from './train.js';

async function main(): Promise<void> {
  setUpTabs();
  const card = byId('adapter');
  const lookup = await findAdapter();
  let ce: CrossEntropy | null = null;
  if (lookup.adapter) {
    showAdapter(card, lookup.adapter);
    try {
      ce = await CrossEntropy.create();
      showLibraryFeatures(card, ce.subgroupSize);
    } catch (error) {
      card.append(element('p', 'check fail', `Could not start the library on this adapter: ${messageOf(error)}`));
    }
  } else {
    showUnavailable(card, lookup.reason);
  }
  document.body.dataset.webgpu = String(ce !== null);
  new SingleExampleView(ce);
  new BatchView(ce);
  new LinearView(ce);
  new TrainView(ce);
  new BenchmarkView(ce !== null);
  document.body.dataset.ready = 'true';
}

main().catch((error: unknown) => {
  byId('adapter').append(element('p', 'check fail', `The page failed to start: ${messageOf(error)}`));
});
