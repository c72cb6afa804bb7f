import { ImporterError } from "../../src/errors.js";

/**
 * The error a promise rejects with, checked to be of `type` (ImporterError by default); fails the test when the
 * promise resolves or rejects with anything else.
 */
export async function caught<E extends Error = ImporterError>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E = ImporterError as unknown as abstract new (
    ...args: never[]
  ) => E,
): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name}`);
}
