/** Assertions the cost integration tests share: a cost line equals the hand computation within 0.5%. */
import { expect } from 'vitest';
import { handCost, type HandQuantities } from '../cost/hand-computation.js';

/** `actual` within 0.5% of `expected` (or 1e-9 near zero); `what` names the figure in the failure. */
export function expectClose(actual: number, expected: number, what: string): void {
  const tolerance = Math.max(Math.abs(expected) * 0.005, 1e-9);
  expect(Math.abs(actual - expected), `${what}: ${actual} vs hand ${expected}`).toBeLessThanOrEqual(tolerance);
}

/** The hand figures a cost line is compared with beyond the always-checked ones. */
export type OptionalLineField = 'memoryRequested' | 'storage';

/** Every figure of a cost line (CPU, memory, cost, and the `also` ones) equals the hand computation. */
export function expectLineClose(line: Record<string, unknown>, q: HandQuantities, what: string, also: readonly OptionalLineField[]): void {
  expectClose(line['cpuCoreHours'] as number, q.cpuAllocated, `${what} cpuCoreHours`);
  expectClose(line['cpuRequestedCoreHours'] as number, q.cpuRequested, `${what} cpuRequested`);
  expectClose(line['cpuUsedCoreHours'] as number, q.cpuUsed, `${what} cpuUsed`);
  expectClose(line['memoryGiBHours'] as number, q.memoryAllocated, `${what} memoryGiBHours`);
  if (also.includes('memoryRequested')) expectClose(line['memoryRequestedGiBHours'] as number, q.memoryRequested, `${what} memoryRequested`);
  expectClose(line['memoryUsedGiBHours'] as number, q.memoryUsed, `${what} memoryUsed`);
  if (also.includes('storage')) expectClose(line['storageGiBHours'] as number, q.storage, `${what} storage`);
  expectClose(line['totalCost'] as number, handCost(q), `${what} totalCost`);
}
