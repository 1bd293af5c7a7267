/** The traffic emitter moved to src/localcluster/ (the local stack's demo traffic uses it too). */
export * from '../../src/localcluster/traffic-emitter.js';
