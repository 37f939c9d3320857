/** What the edge asserted about a request, read only from headers the
 * verified signature covers. Unknown or unparseable facts are `null`. */
export interface VerifiedFacts {
  readonly clientIp: string | null;
  readonly country: string | null;
  readonly asn: number | null;
  readonly colo: string | null;
  readonly requestId: string | null;
  readonly user: string | null;
  readonly claims: unknown | null;
  readonly botScore: number | null;
  readonly botClass: string | null;
  /** Key that signed (the edge rotates keys by keyid). */
  readonly keyid: string;
  /** Signature `created`, Unix seconds. */
  readonly created: number;
  /** Signature `expires`, Unix seconds. */
  readonly expires: number;
  readonly nonce: string | null;
}

/** A JSON Web Key: OKP/Ed25519 (`x`) or oct (`k`), with `kid`. */
export interface Jwk {
  kty: string;
  kid: string;
  crv?: string;
  x?: string;
  k?: string;
  [member: string]: unknown;
}

export interface VerifierOptions {
  /** `"edge-2026:BASE64,edge-2025:BASE64"` (the `EDGE_VERIFY_KEYS` format;
   * `kid:hmac:BASE64` for HMAC), or a list of such strings and JWKs. */
  keys: string | Array<string | Jwk>;
  /** Tolerated clock difference, seconds (default 10). */
  maxSkew?: number;
  /** Longest accepted `expires - created`, seconds (default 300). */
  maxValidity?: number;
  /** Only consider the signature with this label. */
  label?: string;
  /** Required `tag` (default the edge's); `null` or `false`: any. */
  requiredTag?: string | null | false;
  /** Components every signature must cover (default the edge's set). */
  requiredComponents?: string[];
  requireNonce?: boolean;
  requireExpires?: boolean;
  /** Nonces remembered against replay (default 100000); 0 turns it off. */
  replayCapacity?: number;
  /** Unix seconds; for tests. */
  clock?: () => number;
  /** Who checks Ed25519 signatures (the rest of verification is always the
   * Rust core's). `"auto"` (default): node:crypto (OpenSSL) where it can
   * verify synchronously, else curve25519-dalek in the wasm module (Edge
   * runtime, browsers, workerd). `"node"`: node:crypto or throw. `"wasm"`:
   * always the module. Or a factory called once per Ed25519 key with its 32
   * bytes, returning a synchronous `(message, signature) => boolean` (or
   * `null` to keep that key in wasm); a check that throws or returns a
   * non-boolean refuses the request with reason `signature_check_failed`. */
  ed25519?: 'auto' | 'node' | 'wasm' | Ed25519Factory;
}

/** See `VerifierOptions.ed25519`. */
export type Ed25519Factory = (publicKey: Uint8Array) => ((message: Uint8Array, signature: Uint8Array) => boolean) | null | undefined;

/** Header forms accepted: Fetch `Headers`, Node's `rawHeaders`, `[name, value]`
 * pairs, a `Map`, or an object like Node's `req.headers`. */
export type HeaderInput =
  | Headers
  | string[]
  | Array<[string, string | Uint8Array]>
  | Map<string, string | Uint8Array>
  | Record<string, string | string[] | Uint8Array | undefined>;

export class VerifyError extends Error {
  /** The Rust `VerifyError` variant in snake_case: `missing_signature`,
   * `bad_signature`, `expired`, `replayed`, `unknown_keyid`, `malformed`,
   * `signature_check_failed` (the host Ed25519 check threw), ... */
  readonly reason: string;
}

export type Outcome =
  | { ok: true; facts: VerifiedFacts; strip: string[] }
  | { ok: false; error: VerifyError; strip: string[] };

export class Verifier {
  constructor(options: VerifierOptions);
  /** What checks Ed25519 signatures: `"node:crypto"`, `"custom"` (a factory
   * given as `ed25519`), or `"wasm"` (the module; also when no key is Ed25519). */
  readonly ed25519Backend: 'node:crypto' | 'custom' | 'wasm';
  /** Outcome for parts; `strip` names headers the app must not see. */
  checkParts(method: string, url: string, headers: HeaderInput, now?: number): Outcome;
  /** Outcome for a Fetch Request, plus its headers without `strip`. */
  check(request: Request, now?: number): Outcome & { headers: Headers };
  /** Facts of a Fetch Request; throws `VerifyError`. */
  verify(request: Request, now?: number): VerifiedFacts;
  /** Facts of a request given as parts; throws `VerifyError`. */
  verifyParts(method: string, url: string, headers: HeaderInput, now?: number): VerifiedFacts;
}

/** Header lines as `[name, value, ...]`; throws TypeError on wrong types. */
export function flatHeaders(headers: HeaderInput): string[];

export { edgeAuth } from './express';
