/**
 * Preloaded into the Chorus gateways the bench starts (`node --expose-gc --import tsx --import <this>`): a
 * SIGUSR2 runs a full garbage collection, so the heap read from `/metrics` right after holds live data only, as
 * the relays' `/heap` does. The gateway itself is unchanged; nothing else listens for SIGUSR2.
 */
const collect = globalThis.gc;
if (collect) process.on('SIGUSR2', () => collect());

export {};
