/**
 * The network between shardgate and the in-memory pushgateways. Every call
 * is two events: the request reaches the shard after a seeded latency
 * (requests to one shard arrive in the order they were sent, as on one
 * pushgateway write queue), and the answer comes back after another. A
 * virtual timer rejects the call at `timeoutMs` with a timeout while the
 * request may still be applied later: the caller is in doubt.
 *
 * Faults, drawn per call: slow legs (1-15 s), a request lost on the way
 * (reset, not applied), an answer lost on the way back (reset, applied), a
 * 500 (not applied). A dead shard refuses connections quickly.
 *
 * SimShardClient is the ShardClient of the rebalancer and health checks.
 */
import { type ApiGroup } from '../../src/upstream/metrics-api.js';
import { type ShardClient } from '../../src/upstream/shard-client.js';
import { PushgatewayHttpError } from '../../src/upstream/pushgateway-client.js';
import { type Prng } from './prng.js';
import { type SimScheduler } from './sim-scheduler.js';
import { keyOfPath, type ShardRequest, type SimPushgateway } from './sim-pushgateway.js';
import { groupId } from '../../src/groupingkey/grouping-key.js';
import { type Trace } from './trace.js';

/** A transport failure, with the code undici would give it. */
export class SimNetworkError extends Error {
  override readonly name = 'SimNetworkError';
  constructor(
    readonly code: 'ECONNREFUSED' | 'ECONNRESET' | 'UND_ERR_HEADERS_TIMEOUT',
    target: string,
  ) {
    super(`${code} talking to ${target}`);
  }
}

/** Per-call fault probabilities. */
export interface FaultRates {
  readonly slow: number;
  readonly lostRequest: number;
  readonly lostAnswer: number;
  readonly serverError: number;
}

export const CALM: FaultRates = { slow: 0, lostRequest: 0, lostAnswer: 0, serverError: 0 };
export const BACKGROUND: FaultRates = { slow: 0.01, lostRequest: 0.003, lostAnswer: 0.003, serverError: 0.003 };
export const FLAKY: FaultRates = { slow: 0.2, lostRequest: 0.05, lostAnswer: 0.05, serverError: 0.05 };

export class SimNetwork {
  readonly #sched: SimScheduler;
  readonly #prng: Prng;
  readonly #trace: Trace;
  readonly #shards = new Map<string, SimPushgateway>();
  readonly #lastArrival = new Map<string, number>();
  readonly #flaky = new Map<string, number>();
  #rates: FaultRates = BACKGROUND;
  /** Calls sent and not settled yet. */
  pending = 0;
  /**
   * Told of every write or delete a shard applies after its caller gave up:
   * to shardgate it is a stray like a planted one, which the next sweep
   * removes (the checker grants it the same grace).
   */
  onLateWrite: ((target: string, id: string) => void) | undefined;

  constructor(sched: SimScheduler, prng: Prng, trace: Trace) {
    this.#sched = sched;
    this.#prng = prng;
    this.#trace = trace;
  }

  addShard(shard: SimPushgateway): void {
    this.#shards.set(shard.name, shard);
  }

  /** Background fault rates for every call (CALM while healing). */
  set rates(r: FaultRates) {
    this.#rates = r;
    if (r === CALM) this.#flaky.clear();
  }

  /** Makes calls to `target` FLAKY until virtual time `until`. */
  flakyUntil(target: string, until: number): void {
    this.#flaky.set(target, until);
  }

  call(who: string, target: string, req: ShardRequest, timeoutMs: number): Promise<{ status: number; groups?: ApiGroup[] }> {
    const sched = this.#sched;
    const shard = this.#shards.get(target);
    const rates = (this.#flaky.get(target) ?? -1) > sched.now ? FLAKY : this.#rates;
    const fault = this.#draw(rates);
    const what = `${who} ${req.kind === 'write' ? req.method : req.kind} ${target}${'path' in req ? ` ${req.path}` : ''}`;
    this.pending++;
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (outcome: string, done: () => void): void => {
        if (settled) return;
        settled = true;
        this.pending--;
        cancelTimeout();
        if (req.kind !== 'health') this.#trace.add(sched.now, `${what} -> ${outcome}`);
        done();
      };
      const fail = (code: SimNetworkError['code']): void => settle(code, () => reject(new SimNetworkError(code, target)));
      const cancelTimeout = sched.after(timeoutMs, () => fail('UND_ERR_HEADERS_TIMEOUT'));
      if (shard === undefined || shard.state === 'dead') {
        sched.after(this.#prng.int(0, 3), () => fail('ECONNREFUSED'));
        return;
      }
      // Strictly after the previous arrival: events at one instant are ordered by a seeded draw.
      const arrival = Math.max(sched.now + this.#latency(fault === 'slow-request'), (this.#lastArrival.get(target) ?? -1) + 0.001);
      this.#lastArrival.set(target, arrival);
      sched.at(arrival, () => {
        if (fault === 'lost-request') return fail('ECONNRESET');
        if (fault === 'server-error') return void sched.after(this.#latency(false), () => settle('500', () => reject(new PushgatewayHttpError(target, 500, 'simulated failure'))));
        const accepted = shard.receive(req, (answer) => {
          // Applied after its caller gave up: the in-doubt write that lands late.
          if (settled && answer !== 'reset' && (req.kind === 'write' || req.kind === 'delete')) {
            this.#trace.add(sched.now, `${what} APPLIED LATE`);
            this.onLateWrite?.(target, groupId(keyOfPath(req.path)));
          }
          sched.after(this.#latency(fault === 'slow-answer'), () => {
            if (answer === 'reset' || fault === 'lost-answer') return fail('ECONNRESET');
            if (answer.status >= 200 && answer.status < 300) return settle(String(answer.status), () => resolve(answer));
            settle(String(answer.status), () => reject(new PushgatewayHttpError(target, answer.status, 'rejected')));
          });
        });
        if (!accepted) fail('ECONNRESET');
      });
    });
  }

  #draw(r: FaultRates): 'none' | 'slow-request' | 'slow-answer' | 'lost-request' | 'lost-answer' | 'server-error' {
    const x = this.#prng.next();
    if (x < r.slow) return this.#prng.chance(0.5) ? 'slow-request' : 'slow-answer';
    if (x < r.slow + r.lostRequest) return 'lost-request';
    if (x < r.slow + r.lostRequest + r.lostAnswer) return 'lost-answer';
    if (x < r.slow + r.lostRequest + r.lostAnswer + r.serverError) return 'server-error';
    return 'none';
  }

  #latency(slow: boolean): number {
    return slow ? this.#prng.int(1000, 15_000) : this.#prng.int(0, 20);
  }
}

/**
 * The ShardClient over the simulated network. `writes` counts PUT/POST/DELETE
 * calls (to tell a quiet round); `onFailure` hears of every failed read
 * (path undefined) or write.
 */
export class SimShardClient implements ShardClient {
  readonly #net: SimNetwork;
  readonly #who: string;
  writes = 0;
  onFailure: (target: string, path: string | undefined) => void = () => undefined;

  constructor(net: SimNetwork, who: string) {
    this.#net = net;
    this.#who = who;
  }

  async checkHealthy(target: string, timeoutMs: number): Promise<void> {
    await this.#net.call(this.#who, target, { kind: 'health' }, timeoutMs);
  }

  async listGroups(target: string, timeoutMs: number): Promise<ApiGroup[]> {
    const answer = await this.#call(target, { kind: 'list' }, timeoutMs);
    return answer.groups ?? [];
  }

  async push(target: string, method: 'PUT' | 'POST', path: string, body: string, timeoutMs: number): Promise<void> {
    this.writes++;
    await this.#call(target, { kind: 'write', method, path, body }, timeoutMs);
  }

  async delete(target: string, path: string, timeoutMs: number): Promise<void> {
    this.writes++;
    await this.#call(target, { kind: 'delete', path }, timeoutMs);
  }

  async #call(target: string, req: ShardRequest, timeoutMs: number): Promise<{ status: number; groups?: ApiGroup[] }> {
    try {
      return await this.#net.call(this.#who, target, req, timeoutMs);
    } catch (err) {
      this.onFailure(target, 'path' in req ? req.path : undefined);
      throw err;
    }
  }
}
