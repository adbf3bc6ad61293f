// An org's require_mfa: a person of it without a second factor may sign in, but their session
// serves only what enrolling one needs (GET and PATCH /v1/me, /v1/me/mfa…, signing out) until
// they have. The restriction is worked out on every request from the person and the org that
// the session's one read joins anyway, not stored with the session: so it applies at once to
// sessions open when an owner turns require_mfa on, resets a person's second factor, or the
// person removes their own, and lifts the moment they confirm one.
export const MFA_ENROLMENT = 'mfa_enrolment';
export type SessionRestriction = typeof MFA_ENROLMENT;

export function enrolmentRestriction(state: { readonly orgRequiresMfa: boolean; readonly mfaEnabledAt: number | null }): SessionRestriction | null {
  return state.orgRequiresMfa && state.mfaEnabledAt === null ? MFA_ENROLMENT : null;
}
