// The machine a report was measured on (shared by bench and load).
import { arch, availableParallelism, cpus, platform, totalmem } from 'node:os';

export interface SystemInfo {
  node: string;
  platform: string;
  cpu: string;
  cores: number;
  memoryGB: number;
  engineThreads: number;
}

export function systemInfo(engineThreads: number): SystemInfo {
  return {
    node: process.version,
    platform: `${platform()} ${arch()}`,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    engineThreads,
  };
}
