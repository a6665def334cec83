// The fake's mutable world: key status, project grouping, quotas, scripted outcomes,
// per-model response shaping, the resources keys created and the request and Live logs. Everything per-model is keyed by the
// bare model name so parallel test files can isolate themselves with unique models.

import { LiveSessionLog } from "./live-log.ts";
import { bareModelName } from "./model-name.ts";
import { QuotaLedger } from "./quota.ts";
import { RequestLog } from "./request-log.ts";
import type { FakeConfig } from "./resource-types.ts";
import { FakeResources } from "./resources.ts";
import type {
  FakeControl,
  KeyConfig,
  LogFilter,
  LogSnapshot,
  ModelShape,
  QuotaConfig,
  ScriptConfig,
  ScriptedOutcome,
} from "./types.ts";

const ANY_MODEL = "*";

export class FakeState implements FakeControl {
  readonly quota = new QuotaLedger();
  readonly requests = new RequestLog();
  readonly resources = new FakeResources();
  readonly live = new LiveSessionLog();
  #keys = new Map<string, KeyConfig>();
  #scripts = new Map<string, ScriptedOutcome[]>();
  #shapes = new Map<string, ModelShape>();

  reset(): void {
    this.quota.reset();
    this.requests.reset();
    this.resources.reset();
    this.live.reset();
    this.#keys.clear();
    this.#scripts.clear();
    this.#shapes.clear();
  }

  /** Merges into the key's existing configuration. */
  setKey(config: KeyConfig): void {
    this.#keys.set(config.key, { ...this.#keys.get(config.key), ...config });
  }

  keyConfig(key: string): KeyConfig | undefined {
    return this.#keys.get(key);
  }

  /** The Google project a key belongs to: its configured project, else its own one-key project. */
  projectOf(key: string): string {
    const project = this.#keys.get(key)?.project;
    return project === undefined ? `key:${key}` : `project:${project}`;
  }

  /** Resource settings (batch delay, list page size); merges. */
  configure(config: FakeConfig): void {
    this.resources.configure(config);
  }

  setQuota(config: QuotaConfig): void {
    this.quota.setLimits({ ...config, model: bareModelName(config.model) });
  }

  /** Appends to the queue, so scripts can be built up over several calls. */
  script(config: ScriptConfig): void {
    const id = `${config.key}|${config.model === undefined ? ANY_MODEL : bareModelName(config.model)}`;
    const outcomes = config.outcomes.map((outcome) => (typeof outcome === "string" ? { kind: outcome } : outcome));
    this.#scripts.set(id, [...(this.#scripts.get(id) ?? []), ...outcomes]);
  }

  /** Consumes the next scripted outcome: the model-specific queue first, then the key-wide one. */
  takeScripted(key: string, model: string | null): ScriptedOutcome | undefined {
    const ids = model === null ? [`${key}|${ANY_MODEL}`] : [`${key}|${model}`, `${key}|${ANY_MODEL}`];
    for (const id of ids) {
      const next = this.#scripts.get(id)?.shift();
      if (next !== undefined) return next;
    }
    return undefined;
  }

  /** Merges into the model's existing shape. */
  setModel(shape: ModelShape): void {
    const model = bareModelName(shape.model);
    this.#shapes.set(model, { ...this.#shapes.get(model), ...shape, model });
  }

  shapeOf(model: string): ModelShape {
    return this.#shapes.get(model) ?? { model };
  }

  log(filter: LogFilter = {}): LogSnapshot {
    const bare = filter.model === undefined ? filter : { ...filter, model: bareModelName(filter.model) };
    const snapshot = this.requests.snapshot(bare);
    // A tag travels in headers, which only the upgrade request's entry holds.
    const tagged = filter.tag === undefined ? null : new Set(snapshot.requests.map((entry) => entry.id));
    const liveSessions = this.live.snapshot(bare).filter((session) => tagged === null || tagged.has(session.requestId));
    return { ...snapshot, liveSessions };
  }
}
