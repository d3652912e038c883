/**
 * Decompresses a gzip push body with a bound on the output, so a small
 * gzip bomb costs at most `maxBytes` of memory and never reaches a
 * pushgateway (which would decompress it without bound).
 *
 * Like Go's gzip.Reader (what Pushgateway uses), concatenated members are
 * all decoded and anything after the last member that is not another member
 * is an error.
 */
import { gunzip } from 'node:zlib';

export type Gunzipped =
  | { readonly kind: 'ok'; readonly bytes: Buffer }
  | { readonly kind: 'too-large' }
  | { readonly kind: 'corrupt'; readonly reason: string };

export function boundedGunzip(body: Buffer, maxBytes: number): Promise<Gunzipped> {
  return new Promise((resolve) => {
    gunzip(body, { maxOutputLength: maxBytes }, (err, bytes) => {
      if (err === null) return resolve({ kind: 'ok', bytes });
      if ('code' in err && err.code === 'ERR_BUFFER_TOO_LARGE') return resolve({ kind: 'too-large' });
      resolve({ kind: 'corrupt', reason: err.message });
    });
  });
}
