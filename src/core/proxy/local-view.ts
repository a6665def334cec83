import type { AcquireRequest, AttemptFailure, DisabledCounts, Lease, Ownership, UsageReport, ViewStamp, ViewUpdate } from "../key-pool";
import { canServe, chooseKey, type Binding, type QuotaOracle } from "../key-store/choose-key";
import { markFor } from "../key-store/cooldown";
import { PoolState, type ViewMark } from "../key-store/pool-state";
import { QuotaBook, quotaKey, type PendingSend } from "../key-store/quota-book";
import { Recency } from "../key-store/recency";

// One isolate's copy of the key manager's pool: keys, disables and marks as of the last
// view the manager sent, plus what this isolate learned since. Requests choose keys
// from it with the manager's own choice (choose-key.ts), so the common path awaits no
// remote call, even when the view is more than a second old (see STALE_AFTER_MS).
// Runtime-neutral: any server that runs several processes can use it.

/** A view older than this is refreshed in the background while it is still used. */
export const REFRESH_AFTER_MS = 500;
/** A refusal (no key left) from a view older than this is checked against a fresh one first. */
export const RECHECK_AFTER_MS = 100;
/**
 * A view older than this is not trusted alone: a request still chooses from it, but asks
 * for a fresh one at once and abandons its attempt if that view, arriving before the
 * upstream's answer, says the key can no longer serve it (local-pool.ts, forward.ts).
 *
 * The guarantee that follows: an active isolate learns every change to the pool (marks,
 * disables, removals, resets, quota counts) within about a second, from the background
 * refreshes past REFRESH_AFTER_MS and the usage batches' answers. An isolate idle for
 * longer starts every request that reaches it before a fresh view arrived on its old view
 * (each asks for its own), and abandons each as soon as that view arrives if it says the
 * key can no longer serve it; creations and Live sessions wait for it instead. Marks this
 * isolate learned itself are never forgotten, whatever view arrives.
 */
export const STALE_AFTER_MS = 1_000;
/** Owners cached per isolate; the oldest entry is dropped beyond this. */
const MAX_OWNERS = 4_096;
/**
 * A request sent and never reported stops counting against its quota after this long, in
 * case its end went unseen; a stream still running then is rare. An attempt known to end
 * without a count (a client error, a 5xx, a client that left) stops at once (withdraw()).
 */
const PENDING_MAX_MS = 10 * 60_000;

/** A request this isolate sent that the manager has not counted yet. */
interface Sent extends PendingSend {
  keyId: string;
  /** Set once its usage report is on its way to the manager. */
  delivering: boolean;
}

const markId = (keyId: string, model: string): string => `${keyId}\n${model}`;

export class LocalView {
  readonly #state = new PoolState();
  readonly #recency = new Recency();
  #stamp: ViewStamp | null = null;
  /** When the manager was asked for the view now held (the view is at least that fresh). */
  #askedAt = Number.NEGATIVE_INFINITY;
  /** Answers to calls made before this do not count as fresh (a change was made since). */
  #invalidatedAt = Number.NEGATIVE_INFINITY;
  /** A background refresh is on its way. */
  refreshing = false;
  /** Resource name → its owner. Owners never change, so an entry is good until it expires. */
  readonly #owners = new Map<string, Ownership>();
  /** Marks this isolate learned from a failure that no view from the manager carries yet. */
  readonly #learned = new Map<string, ViewMark>();
  /**
   * Keys this isolate learned Google refuses (invalid, suspended), until the manager has
   * recorded it, with when: a view taken before that must not hand them out again. Kept
   * PENDING_MAX_MS at most, should the report never arrive.
   */
  readonly #learnedDisables = new Map<string, number>();
  /** The manager's quota counts as of the view. */
  readonly #quota = new QuotaBook();
  /** Requests sent that the manager's counts do not hold yet, per quota scope and model. */
  readonly #sent = new Map<string, Sent[]>();
  /** Who disabled the keys the view holds disabled, as of the last view. */
  #disabled: DisabledCounts = {};

  /**
   * This isolate changed its copy itself (a failure it learned or saw confirmed): counts sent
   * on top of it would keep that change past what the manager holds, so the next answer is
   * a whole view (the stamp the calls send is null until one came).
   */
  #wholeWanted = false;

  /** What calls to the manager send as the view they hold. */
  get stamp(): ViewStamp | null {
    return this.#wholeWanted ? null : this.#stamp;
  }

  /** How old the view is; Infinity before the first one. */
  age(now: number): number {
    return now - this.#askedAt;
  }

  /** This isolate changed the pool: the next request waits for a view taken after the change. */
  invalidate(now: number): void {
    this.#askedAt = Number.NEGATIVE_INFINITY;
    this.#invalidatedAt = now;
  }

  /** Takes a manager's answer to a call made at `askedAt`; an answer older than the view held is ignored. */
  apply(update: ViewUpdate, given: number): void {
    const askedAt = given < this.#invalidatedAt ? Number.NEGATIVE_INFINITY : given;
    const { stamp, view, quota, since } = update;
    const held = this.#stamp;
    const sameEpoch = held !== null && held.epoch === stamp.epoch;
    if (view === undefined && quota === undefined) {
      // "Unchanged since what you sent": still news if nothing newer arrived meanwhile.
      if (sameEpoch && held.version === stamp.version) this.#askedAt = Math.max(this.#askedAt, askedAt);
      return;
    }
    if (sameEpoch && stamp.version < held.version) return;
    if (view === undefined) {
      // Counts changed since the stamp the call sent (`since`), and nothing else: on a view
      // at least that new, these entries bring it up to this stamp. Not on an older one (a
      // late whole view of this epoch taken after another epoch's), nor another epoch's.
      if (!sameEpoch || quota === undefined || since === undefined || held.version < since) return;
      this.#quota.update(quota);
    } else {
      this.#wholeWanted = false;
      this.#state.load(view.keys, view.marks);
      this.#quota.load(view.quota);
      this.#disabled = view.disabled;
      for (const mark of this.#learned.values()) this.#state.lengthen(mark.keyId, mark.model, mark.until);
      for (const [keyId, at] of this.#learnedDisables) {
        if (at > given - PENDING_MAX_MS) this.#state.disable(keyId);
        else this.#learnedDisables.delete(keyId);
      }
    }
    this.#stamp = stamp;
    this.#askedAt = sameEpoch && stamp.version === held.version ? Math.max(this.#askedAt, askedAt) : askedAt;
  }

  /** Applies a failure at once, so no request of this isolate picks that key again meanwhile. */
  learn(failure: AttemptFailure, now: number): void {
    this.#wholeWanted = true;
    const { keyId, model, fault } = failure;
    if (fault.kind === "key-disabled") {
      this.#learnedDisables.set(keyId, now);
      this.#state.disable(keyId);
      return;
    }
    if (model === null) return;
    // The refused request was not counted by Google.
    this.#unsend(keyId, model);
    if (fault.kind === "quota-day" || fault.kind === "quota-minute") this.#quota.learn(this.#state.scopeOf(keyId), model, fault.limits ?? [], now);
    const until = markFor(fault, undefined, now).until;
    // A named quota is the whole group's, as the manager will record it.
    const marked = fault.kind === "quota-unknown" ? [keyId] : this.#state.sharingQuota(keyId);
    for (const member of marked) {
      this.#learned.set(markId(member, model), { keyId: member, model, until });
      this.#state.lengthen(member, model, until);
    }
  }

  /**
   * Whether a key handed out from an older view can still serve its request by this one
   * (chooseKey's rule). The request's own send, counted when the key was handed out, is
   * not held against it.
   */
  stillServes(keyId: string, model: string | null, now: number): boolean {
    return canServe(this.#state, keyId, model, now, this.#oracle(now, keyId));
  }

  /** An attempt abandoned before it was answered, or ended without anything to count: it counts against nothing. */
  withdraw(keyId: string, model: string | null): void {
    if (model !== null) this.#unsend(keyId, model);
  }

  /** Forgets one of this isolate's sends with the key that no usage report carries yet. */
  #unsend(keyId: string, model: string): void {
    const found = this.#undelivered(keyId, model);
    if (found !== undefined) found.list.splice(found.list.indexOf(found.send), 1);
  }

  /**
   * One of this isolate's sends with the key for the model that no usage report carries yet:
   * under the key's quota scope as this view has it, else under the scope it was sent in. A
   * view that removed the key or moved it to another group since would otherwise leave the
   * send counting against its old group until PENDING_MAX_MS.
   */
  #undelivered(keyId: string, model: string): { list: Sent[]; send: Sent } | undefined {
    const inList = (list: Sent[] | undefined) => {
      const send = list?.find((candidate) => candidate.keyId === keyId && !candidate.delivering);
      return list === undefined || send === undefined ? undefined : { list, send };
    };
    const found = inList(this.#sent.get(quotaKey(this.#state.scopeOf(keyId), model)));
    if (found !== undefined) return found;
    const suffix = quotaKey("", model);
    for (const [key, list] of this.#sent) {
      const elsewhere = key.endsWith(suffix) ? inList(list) : undefined;
      if (elsewhere !== undefined) return elsewhere;
    }
    return undefined;
  }

  /** The manager has recorded this failure: its views carry the mark from now on. */
  confirm(failure: AttemptFailure): void {
    // The marks it lengthened stay in the copy: a whole view sets them back to the manager's.
    this.#wholeWanted = true;
    const { model } = failure;
    if (failure.fault.kind === "key-disabled") this.#learnedDisables.delete(failure.keyId);
    if (model === null) return;
    for (const member of this.#state.sharingQuota(failure.keyId)) this.#learned.delete(markId(member, model));
  }

  /** Usage reports on their way to the manager: the sends they count stop being this isolate's to count once it answered. */
  delivering(reports: readonly UsageReport[]): Sent[] {
    const taken: Sent[] = [];
    for (const report of reports) {
      const send = this.#undelivered(report.keyId, report.model)?.send;
      if (send === undefined) continue;
      send.delivering = true;
      send.tokens = report.promptTokens;
      taken.push(send);
    }
    return taken;
  }

  /** The manager counted these (or will never count them: the delivery failed). */
  delivered(sends: readonly Sent[]): void {
    const done = new Set(sends);
    for (const [key, sent] of this.#sent) {
      const left = sent.filter((send) => !done.has(send));
      if (left.length === 0) this.#sent.delete(key);
      else this.#sent.set(key, left);
    }
  }

  /** Remembers owners the manager named that Google vouched for (a creation): those never change. */
  cacheOwners(owners: readonly Ownership[]): void {
    for (const owner of owners) {
      if (owner.inferred === true) continue;
      this.#owners.delete(owner.name);
      this.#owners.set(owner.name, owner);
      if (this.#owners.size > MAX_OWNERS) {
        const oldest = this.#owners.keys().next().value;
        if (oldest !== undefined) this.#owners.delete(oldest);
      }
    }
  }

  forgetOwners(names: readonly string[]): void {
    for (const name of names) this.#owners.delete(name);
  }

  /**
   * The cached owners of the request's resources, and the resources whose owner is not
   * cached (only the manager knows whether anyone recorded one).
   */
  ownersOf(request: AcquireRequest, now: number): { owners: Ownership[]; uncached: string[] } {
    const owners: Ownership[] = [];
    const uncached: string[] = [];
    for (const name of request.resources ?? []) {
      const owner = this.#owners.get(name);
      if (owner === undefined || owner.expiresAt <= now) uncached.push(name);
      else owners.push(owner);
    }
    return { owners, uncached };
  }

  choose(request: AcquireRequest, binding: Binding, now: number): Lease {
    this.#dropEnded(now);
    const lease = chooseKey(this.#state, this.#recency, request, binding, now, this.#oracle(now));
    if (lease.keyId === null && lease.cause === "disabled") return { ...lease, disabled: this.#disabled };
    if (lease.keyId !== null && request.model !== null) {
      const key = quotaKey(this.#state.scopeOf(lease.keyId), request.model);
      this.#sent.set(key, [...(this.#sent.get(key) ?? []), { keyId: lease.keyId, at: now, tokens: 0, delivering: false }]);
    }
    return lease;
  }

  /** `own`: a key whose first undelivered send is the asking request's own, left out of its counts. */
  #oracle(now: number, own?: string): QuotaOracle {
    const pending = (scope: string, model: string) => {
      const sent = this.#sent.get(quotaKey(scope, model)) ?? [];
      if (own === undefined) return sent;
      const index = sent.findIndex((send) => send.keyId === own && !send.delivering);
      return index < 0 ? sent : sent.toSpliced(index, 1);
    };
    return {
      blockedUntil: (keyId, model) => {
        const scope = this.#state.scopeOf(keyId);
        return this.#quota.blockedUntil(scope, model, now, pending(scope, model));
      },
      assess: (keyId, model) => {
        const scope = this.#state.scopeOf(keyId);
        return this.#quota.assess(scope, model, now, pending(scope, model));
      },
    };
  }

  enabledKeys(): string[] {
    return this.#state.enabledKeys();
  }

  #dropEnded(now: number): void {
    for (const [id, mark] of this.#learned) if (mark.until <= now) this.#learned.delete(id);
    for (const [key, sent] of this.#sent) {
      if ((sent[0]?.at ?? now) > now - PENDING_MAX_MS) continue;
      const left = sent.filter((send) => send.at > now - PENDING_MAX_MS);
      if (left.length === 0) this.#sent.delete(key);
      else this.#sent.set(key, left);
    }
  }
}
