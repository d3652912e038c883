/**
 * HTTP basic authentication against the web config's `basic_auth_users`
 * (bcrypt hashes), as the exporter-toolkit does it: an unknown user is
 * checked against a fixed hash so timing does not reveal which users exist;
 * successful checks are cached (verified-credentials.ts); bcrypt runs one
 * check at a time, so a burst of new logins cannot take every core.
 *
 * Contract: `check` answers synchronously (a boolean) when the answer needs
 * no bcrypt work (no header, malformed header, cached success), else a
 * Promise. It never rejects.
 */
import bcrypt from 'bcryptjs';
import { VerifiedCredentials } from './verified-credentials.js';

/** bcrypt of "fakepassword" (the toolkit's own constant), compared for unknown users. */
const FAKE_HASH = '$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi';

export function isBcryptHash(s: string): boolean {
  return /^\$2[abxy]?\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/.test(s);
}

export class BasicAuth {
  readonly #verified = new VerifiedCredentials();
  /** Concurrent first requests with the same credentials share one bcrypt check. */
  readonly #inFlight = new Map<string, Promise<boolean>>();
  #queue: Promise<unknown> = Promise.resolve();

  /** @param authorization the request's Authorization header. */
  check(users: ReadonlyMap<string, string>, authorization: string | undefined): boolean | Promise<boolean> {
    const credentials = parseBasic(authorization);
    if (credentials === undefined) return false;
    const { user, password } = credentials;
    const hash = users.get(user);
    const key = VerifiedCredentials.key(user, hash ?? FAKE_HASH, password);
    if (hash !== undefined && this.#verified.has(key)) return true;
    let pending = this.#inFlight.get(key);
    if (pending === undefined) {
      pending = this.#compare(password, hash ?? FAKE_HASH).then((ok) => {
        this.#inFlight.delete(key);
        const valid = ok && hash !== undefined;
        if (valid) this.#verified.add(key);
        return valid;
      });
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  #compare(password: string, hash: string): Promise<boolean> {
    const run = this.#queue.then(() => bcrypt.compare(password, hash)).catch(() => false);
    this.#queue = run;
    return run;
  }
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
