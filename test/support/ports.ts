// One implementation, shared with `npm run cluster` (tests may import product scripts; not the reverse).
export { freePort } from '../../scripts/local-cluster/process';
