// SCOPE_AUTH_CONSOLE: whether the server answers the admin console at /console (and redirects
// / there). On by default; off, /console is a 404 like any unknown path, and the admin API is
// unchanged.

const ON = ['true', '1', 'yes', 'on'];
const OFF = ['false', '0', 'no', 'off'];

/** The variable's value as a switch, or null when it is neither on nor off. */
export function consoleSwitch(raw: string): boolean | null {
  const value = raw.toLowerCase();
  if (ON.includes(value)) return true;
  if (OFF.includes(value)) return false;
  return null;
}

export const CONSOLE_SWITCH_EXPECTED = `expected ${ON[0]} or ${OFF[0]}`;
