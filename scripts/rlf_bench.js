// rlf_bench.js PORT REQUESTS CONCURRENCY KEYS PREFIX -- rate-limiter-flexible's
// RateLimiterRedis (over ioredis, one connection) deciding REQUESTS
// consume() calls on 127.0.0.1:PORT with CONCURRENCY of them in flight,
// keys PREFIX:0..KEYS-1 in turn. Prints one line of JSON: decisions/s over
// the wall clock, and this process's CPU seconds (user + system). Run by
// `ratelab perf-redis` beside ratelab's own realtime client, from the
// node_modules that `make perf-redis` installs into build/rlf.
'use strict';
const path = require('path');
const modules = process.env.RLF_MODULES || path.join(__dirname, '..', 'build', 'rlf', 'node_modules');
const Redis = require(path.join(modules, 'ioredis'));
const { RateLimiterRedis } = require(path.join(modules, 'rate-limiter-flexible'));

const [port, requests, concurrency, keys] = process.argv.slice(2, 6).map(Number);
const prefix = process.argv[6] || 'rlf';
if (!(port > 0 && requests > 0 && concurrency > 0 && keys > 0)) {
  console.error('usage: rlf_bench.js PORT REQUESTS CONCURRENCY KEYS [PREFIX]');
  process.exit(2);
}
const redis = new Redis({ host: '127.0.0.1', port, enableOfflineQueue: true, maxRetriesPerRequest: 1 });
// 20 points per 2 s: the same long-run rate and burst as ratelab's
// rate=10 capacity=20 bucket (rlf counts in fixed windows).
const limiter = new RateLimiterRedis({ storeClient: redis, points: 20, duration: 2, keyPrefix: prefix });

async function main() {
  await redis.ping();
  let next = 0, admitted = 0, refused = 0, failed = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  async function worker() {
    while (next < requests) {
      const key = String(next++ % keys);
      try {
        await limiter.consume(key);
        admitted++;
      } catch (e) {
        if (e instanceof Error) failed++; else refused++;   // a refusal rejects with a RateLimiterRes
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ decisions_per_s: requests / wall, wall_s: wall, admitted, refused, failed,
                               cpu_s: (cpu.user + cpu.system) / 1e6 }));
  redis.disconnect();
}
main().catch((e) => { console.error('rlf_bench: ' + e.message); process.exit(1); });
