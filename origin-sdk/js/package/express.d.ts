import type { Verifier, VerifierOptions, VerifiedFacts } from './index';

export interface EdgeAuthOptions extends VerifierOptions {
  /** Paths served without a valid signature (`req.edge` is `null`); trust
   * headers are still removed. */
  exempt?: string[];
}

/** Express/Connect middleware: `req.edge` on success, 401 JSON otherwise. */
export function edgeAuth(options: EdgeAuthOptions | Verifier): (req: any, res: any, next: (err?: unknown) => void) => void;

declare global {
  namespace Express {
    interface Request {
      edge?: VerifiedFacts | null;
    }
  }
}
