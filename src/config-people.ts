// The settings of people's sign-in: how long an invitation or password-reset link works, and
// how long a session lasts idle and at most. config.ts reads the variables (whole seconds,
// as every other duration there); this checks how they fit together, and words why not.

export interface PeopleConfig {
  /** SCOPE_AUTH_INVITATION_TTL: invitation and password-reset links work this long. */
  readonly invitationTtlSeconds: number;
  /** SCOPE_AUTH_SESSION_IDLE: a session unused this long has ended. */
  readonly sessionIdleSeconds: number;
  /** SCOPE_AUTH_SESSION_MAX: a session ends this long after sign-in, however busy. */
  readonly sessionMaxSeconds: number;
}

export const PEOPLE_LIMITS = {
  SCOPE_AUTH_INVITATION_TTL: [300, 30 * 86_400],
  SCOPE_AUTH_SESSION_IDLE: [60, 30 * 86_400],
  SCOPE_AUTH_SESSION_MAX: [300, 90 * 86_400],
} as const;

export type PeopleEnvName = keyof typeof PEOPLE_LIMITS;

/** `seconds(name, min, max)` reads one variable (throwing for a bad one); a message when they do not fit together. */
export function peopleConfig(seconds: (name: PeopleEnvName, min: number, max: number) => number): PeopleConfig | string {
  const read = (name: PeopleEnvName) => seconds(name, PEOPLE_LIMITS[name][0], PEOPLE_LIMITS[name][1]);
  const config = {
    invitationTtlSeconds: read('SCOPE_AUTH_INVITATION_TTL'),
    sessionIdleSeconds: read('SCOPE_AUTH_SESSION_IDLE'),
    sessionMaxSeconds: read('SCOPE_AUTH_SESSION_MAX'),
  };
  if (config.sessionIdleSeconds > config.sessionMaxSeconds) {
    return `SCOPE_AUTH_SESSION_IDLE=${config.sessionIdleSeconds} is invalid: it must not exceed SCOPE_AUTH_SESSION_MAX (${config.sessionMaxSeconds})`;
  }
  return Object.freeze(config);
}
