// Bundle entry: the workflows a loop-station worker registers.
export { loopWorkflow } from './loop.js';
export { sessionWorkflow } from './session.js';
export { setupProbeWorkflow } from './setup-probe.js';
