/**
 * Manual rollout controls through the API. The annotation belongs to src/delivery (controls.ts); this
 * re-export keeps the server's imports where they were.
 */
export { CONTROL_ACTIONS, controlAnnotation, type ControlAction } from '../delivery/controls.js';
