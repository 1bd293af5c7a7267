/**
 * Colour for the views: only when stdout is a terminal and NO_COLOR is unset or empty
 * (https://no-color.org); renderers take a `Colors` so that golden tests run without colour.
 */
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

/** Whether to colour output written to a stream, given the environment. */
export function shouldColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}

export function colorsFor(enabled: boolean): Colors {
  return pc.createColors(enabled);
}

/** No colour at all (tests, pipes, -o json). */
export const plain: Colors = pc.createColors(false);
