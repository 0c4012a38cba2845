/**
 * pacslink's public API: what users may import from `pacslink`. Deep imports are blocked by
 * the package's `exports` map.
 */
export * from './hl7/index.js';
export { PacslinkError, UsageError, type PlainError } from './errors.js';
