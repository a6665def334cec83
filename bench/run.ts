// `npm run bench`: starts the fake Gemini upstream, the proxy as users run it (wrangler
// dev, local Durable Object storage), the same proxy as the Node server, the floor
// pass-through and the counting build, all on 127.0.0.1; measures; prints one table;
// writes bench/results/<timestamp>.json.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startFakeUpstream } from "../test/fake-upstream/index.ts";
import buildNodeServer from "../test/setup/build-node-server.ts";
import { startNodeProxy } from "../test/setup/node-proxy.ts";
import { proxyVars, startProxy } from "../test/setup/start-proxy.ts";
import { poolKeys, proxyToken } from "../test/setup/test-keys.ts";
import { readConfig } from "./lib/config.ts";
import { sendMany } from "./lib/bounded-fetch.ts";
import { countRows } from "./lib/do-storage.ts";
import { clientHeaders, generatePath, LOAD_MODEL, promptBody, QUOTA_MODEL } from "./lib/requests.ts";
import type { Target } from "./lib/targets.ts";
import { checksBlock, cpuBlock, lateBlock, renderTable } from "./report/table.ts";
import { checkCpuTargets, checkLateTargets, checkMemoryTargets, checkTargets } from "./report/targets.ts";
import { measureCpuPerRequest } from "./scenarios/cpu-per-request.ts";
import { measureDoCalls } from "./scenarios/do-calls.ts";
import { measureLateManager } from "./scenarios/late-manager.ts";
import { measureQuota } from "./scenarios/quota.ts";
import { measureStreamLatency } from "./scenarios/stream-latency.ts";
import { measureStreamingMemory } from "./scenarios/streaming-memory.ts";
import { measureThroughput } from "./scenarios/throughput.ts";
import { startWranglerDev, type WranglerDev } from "../test/setup/wrangler-dev.ts";

const log = (line: string): void => console.error(line);
const config = readConfig();
const started = Date.now();
const firstKey = poolKeys[0] ?? "";

log(`bench: ${JSON.stringify(config)}`);
const upstream = await startFakeUpstream();
const stops: (() => Promise<void>)[] = [() => upstream.close()];
try {
  const upstreamVars = {
    GEMINI_UPSTREAM_URL: `${upstream.origin}/v1beta`,
    OPENAI_UPSTREAM_URL: `${upstream.origin}/v1beta/openai`,
  };
  async function writeResults(measurements: unknown, checks: unknown): Promise<void> {
    await mkdir("bench/results", { recursive: true });
    const file = join("bench/results", `${new Date(started).toISOString().replaceAll(":", "-")}.json`);
    await writeFile(
      file,
      JSON.stringify(
        { startedAt: new Date(started).toISOString(), seconds: (Date.now() - started) / 1000, config, measurements, checks },
        (key, value: unknown) => (key === "latenciesMs" ? undefined : value),
        2,
      ),
    );
    log(`bench: wrote ${file} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }

  /** The counting build (bench/counting-worker): the proxy whose Durable Object counts its calls. */
  async function startCounting(): Promise<WranglerDev> {
    const counting = await startWranglerDev({
      config: "bench/counting-worker/wrangler.jsonc",
      vars: { ...upstreamVars, API_KEYS: poolKeys.join(","), PROXY_API_KEY: proxyToken, LOG_REQUESTS: "false" },
    });
    stops.push(() => counting.stop());
    return counting;
  }

  if (config.only === "late") {
    // The counting build alone: nothing else is started, so the block takes about a minute.
    const counting = await startCounting();
    log("bench: a Durable Object that answers late (counting build)");
    const lateManager = await measureLateManager(counting.origin, config);
    const checks = checkLateTargets(lateManager);
    console.log(`${lateBlock(lateManager)}\n\n${checksBlock(checks)}`);
    await writeResults({ lateManager }, checks);
  } else {
    await allBlocks();
  }

  async function allBlocks(): Promise<void> {
    // One at a time: three wrangler builds at once would starve this machine.
    const proxy = await startProxy({ runtime: "workers", upstreamOrigin: upstream.origin, keys: poolKeys, proxyToken });
    stops.push(() => proxy.stop());
    await buildNodeServer();
    const node = await startNodeProxy({ vars: proxyVars({ upstreamOrigin: upstream.origin, keys: poolKeys, proxyToken }) });
    stops.push(() => node.stop());
    const floor: WranglerDev = await startWranglerDev({
      config: "bench/floor-worker/wrangler.jsonc",
      vars: { UPSTREAM_ORIGIN: upstream.origin, UPSTREAM_KEY: firstKey },
    });
    stops.push(() => floor.stop());
    log(`bench: upstream ${upstream.origin}, proxy ${proxy.origin}, node ${node.origin}, floor ${floor.origin}`);

    const proxyTarget: Target = { name: "proxy", origin: proxy.origin };
    const nodeTarget: Target = { name: "node", origin: node.origin, pid: node.pid };
    const floorTarget: Target = { name: "floor", origin: floor.origin };
    const directTarget: Target = { name: "direct", origin: upstream.origin };

    if (config.only === "memory") {
      const memory = await measureStreamingMemory(upstream, [floorTarget, proxyTarget, nodeTarget], config, log);
      const checks = checkMemoryTargets(memory);
      console.log(checksBlock(checks));
      await writeResults({ memory }, checks);
    } else {
      await cpuAndTheRest();
    }

    async function cpuAndTheRest(): Promise<void> {
      // First, while both workers are fresh and nothing else has run on them.
      log("bench: CPU per request");
      const cpu = await measureCpuPerRequest(upstream, { proxy: proxyTarget, floor: floorTarget }, config, log);
      if (config.only === "cpu") {
        const checks = checkCpuTargets(cpu);
        console.log(`${cpuBlock(cpu)}\n\n${checksBlock(checks)}`);
        await writeResults({ cpu }, checks);
      } else {
        const measurements = { ...(await measureTheRest()), cpu };
        const checks = checkTargets(measurements);
        console.log(renderTable(measurements, checks));
        await writeResults(measurements, checks);
      }
    }

    /** Every block but CPU, in the order they have always run. */
    async function measureTheRest() {
      log("bench: throughput (non-streaming generateContent)");
      // Prime the object: one sequential request per key creates today's usage row for every
      // key, so the row count below sees growth, not first use.
      await sendMany(poolKeys.length, 1, () =>
        fetch(`${proxy.origin}${generatePath(LOAD_MODEL)}`, { method: "POST", headers: clientHeaders, body: promptBody }),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      const rowsBefore = await countRows(proxy.persistTo);
      const throughput = await measureThroughput([floorTarget, proxyTarget, nodeTarget, directTarget], config, {
        "x-goog-api-key": firstKey,
        "content-type": "application/json",
      }, log);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const proxyRows = {
        before: rowsBefore,
        after: await countRows(proxy.persistTo),
        // Measured requests only; the warm-up added more, which can only lower the per-request figure.
        requests: throughput.proxy.requests,
      };

      log("bench: stream latency");
      const stream = await measureStreamLatency(upstream, [floorTarget, proxyTarget, nodeTarget], config);

      log("bench: memory while streaming");
      const memory = await measureStreamingMemory(upstream, [floorTarget, proxyTarget, nodeTarget], config, log);

      log("bench: quota scenario");
      const quota = await measureQuota(upstream, proxy.origin, config);
      const quotaNode = await measureQuota(upstream, node.origin, config, `${QUOTA_MODEL}-node`);

      log("bench: Durable Object calls (counting build)");
      await floor.stop();
      const counting = await startCounting();
      const doCalls = await measureDoCalls(upstream, counting, config.doRequests);
      log("bench: a Durable Object that answers late (counting build)");
      const lateManager = await measureLateManager(counting.origin, config);
      return { throughput, stream, memory, doCalls, lateManager, proxyRows, quota, quotaNode };
    }
  }
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
}
