import type { Verifier, VerifierOptions, VerifiedFacts, VerifyError } from './index';

export type EdgeGuardOptions = VerifierOptions;

export type GuardResult =
  | { ok: true; facts: VerifiedFacts; headers: Headers }
  | { ok: false; error: VerifyError; response: Response };

/** `x-edge-verified-facts`: the facts as JSON on the forwarded request. */
export const FACTS_HEADER: string;

/** One call per request: a 401 `response` on refusal; on success the
 * request's headers without uncovered trust headers, plus the facts header. */
export function edgeGuard(options: EdgeGuardOptions | Verifier): (request: Request) => GuardResult;

/** Reads the facts a guard forwarded (route handlers); `null` if absent. */
export function forwardedFacts(headers: Headers): VerifiedFacts | null;
