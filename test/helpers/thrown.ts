import { expect } from 'vitest';
import { InvalidRequestError } from '../../src/errors.js';

/** The InvalidRequestError that `run` throws (the test fails if it throws nothing or another error). */
export function invalidRequestOf(run: () => unknown): InvalidRequestError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return error as InvalidRequestError;
  }
  throw new Error('expected an InvalidRequestError');
}
