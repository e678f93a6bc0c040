// The test suite's redis-server and worker processes are the benchmark's (benchmarks/hosts.ts).
export { redisMissing, startRedis, type TestRedis } from './redis-server.ts';
export { startWorkerProcess, type WorkerProcess } from './worker-process.ts';
