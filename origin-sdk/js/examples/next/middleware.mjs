// Next.js middleware (Next >= 15.5, Node.js runtime): verifies the edge's
// signature before any route runs. Copy to `middleware.js` at the project
// root; set EDGE_VERIFY_KEYS. Route handlers read the facts with
// `forwardedFacts(request.headers)` from 'edge-origin-sdk/fetch'.
import { NextResponse } from 'next/server';
import { edgeGuard } from 'edge-origin-sdk/fetch';

const guard = edgeGuard({ keys: process.env.EDGE_VERIFY_KEYS });

export function middleware(request) {
  const result = guard(request);
  if (!result.ok) return result.response; // 401 JSON: unsigned, forged, stale or replayed
  return NextResponse.next({ request: { headers: result.headers } });
}

export const config = { runtime: 'nodejs', matcher: '/((?!_next/static|_next/image|favicon.ico).*)' };
