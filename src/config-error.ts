// The error of a configuration the operator must fix: thrown by config.ts and the modules it
// reads the environment with, and by the checks that need the catalogue (allowances.ts).
// Its message names the variable and what it accepts, never a secret the variable holds.
export class ConfigError extends Error {
  override name = 'ConfigError';
}
