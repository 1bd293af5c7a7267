/**
 * The small condition language of `successCondition`: comparisons of `result` with a number joined
 * by && or || (&& binds tighter), e.g. "result < 0.01" or "result >= 0 && result <= 2". The CRD's
 * pattern admits exactly this grammar; anything else is an InvalidSpecError. Pure.
 */
import { InvalidSpecError } from '../errors.js';

type Op = '<' | '<=' | '>' | '>=' | '==' | '!=';
interface Comparison {
  readonly op: Op;
  readonly value: number;
}
/** Disjunction of conjunctions. */
export type Condition = ReadonlyArray<ReadonlyArray<Comparison>>;

const COMPARISON = /^\s*result\s*(<=|>=|==|!=|<|>)\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)\s*$/;

/** Parses a success condition; throws InvalidSpecError naming `field`. */
export function parseCondition(text: string, field = 'successCondition'): Condition {
  return text.split('||').map((disjunct) =>
    disjunct.split('&&').map((part) => {
      const m = COMPARISON.exec(part);
      if (!m) throw new InvalidSpecError(field, `"${part.trim()}" is not "result <op> <number>"`);
      return { op: m[1] as Op, value: Number(m[2]) };
    }),
  );
}

function compare(result: number, { op, value }: Comparison): boolean {
  switch (op) {
    case '<':
      return result < value;
    case '<=':
      return result <= value;
    case '>':
      return result > value;
    case '>=':
      return result >= value;
    case '==':
      return result === value;
    case '!=':
      return result !== value;
  }
}

/** True when `result` satisfies the condition. */
export function evaluateCondition(condition: Condition, result: number): boolean {
  return condition.some((conj) => conj.every((c) => compare(result, c)));
}
