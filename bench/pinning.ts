// CPU pinning with taskset: the servers (registry, nginx, trustgate and its
// extra replicas) on one CPU, so each proxy and the registry behind it share one
// core, as on a one-core host; the load generators (wrk, hey, and this harness
// once set up, which times cold-verification, blob-1gib and the herd itself) on
// another, so they do not steal CPU from what they measure.
// Without taskset or with fewer than two usable CPUs everything runs unpinned.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const TASKSET_BIN = '/usr/bin/taskset';

/**
 * `shared` (the default): the registry and the proxy in front of it share one CPU, as on a one-core
 * host, so every CPU cycle a proxy spends is taken from the registry. `split`: the registry has a
 * CPU of its own, as an upstream on its own host would; the proxies share the other with the load
 * generators. `unpinned`: nothing pinned, as on a shared node (the harness that measured #15's figures).
 */
export type PinLayout = 'shared' | 'split' | 'unpinned';

export interface PinPlan {
  layout: PinLayout;
  /** CPU list for the registry, or undefined (unpinned). */
  registry: string | undefined;
  /** CPU list for nginx and every trustgate process (trustgate-cached, cold-start's, the herd's replicas), or undefined (unpinned). */
  server: string | undefined;
  /** CPU list for wrk, hey and the harness after set-up, or undefined (unpinned). */
  load: string | undefined;
  /** One line for the report. */
  note: string;
}

/** "0-2,5" → [0, 1, 2, 5] */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(',')) {
    const [from, to] = part.split('-').map(Number) as [number, number | undefined];
    for (let cpu = from; cpu <= (to ?? from); cpu++) cpus.push(cpu);
  }
  return cpus;
}

export async function planPinning(layout: PinLayout = 'shared'): Promise<PinPlan> {
  const unpinned = (note: string): PinPlan => ({ layout, registry: undefined, server: undefined, load: undefined, note });
  // #15: as on a shared node, every process on every CPU, and wrk on 2 threads.
  if (layout === 'unpinned') return unpinned('unpinned (layout unpinned): every process may run on every CPU; wrk uses 2 threads');
  if (!existsSync(TASKSET_BIN)) return unpinned('unpinned: taskset not found (Debian package util-linux)');
  const { stdout } = await run(TASKSET_BIN, ['-cp', String(process.pid)]);
  const cpus = parseCpuList(stdout.slice(stdout.lastIndexOf(':') + 1));
  if (cpus.length < 2) return unpinned(`unpinned: only CPU ${cpus.join(',')} is usable, nothing to separate`);
  const [server, load] = cpus.map(String) as [string, string];
  const unused = cpus.length > 2 ? ` (CPUs ${cpus.slice(2).join(',')} unused)` : '';
  if (layout === 'split') {
    return {
      layout,
      registry: server,
      server: load,
      load,
      note:
        `taskset (layout split): the registry alone on CPU ${server}; nginx, trustgate (and trustgate-cached, cold-start's fresh processes, the herd's replicas), wrk, hey and the harness ` +
        `(its own requests: cold-verification, blob-1gib(-cached), cold-start, thundering-herd) share CPU ${load}${unused}`,
    };
  }
  return {
    layout,
    registry: server,
    server,
    load,
    note:
      `taskset (layout shared): registry, nginx and trustgate (and trustgate-cached, cold-start's fresh processes, the herd's replicas) share CPU ${server}; wrk, hey and the harness ` +
      `(its own requests: cold-verification, blob-1gib(-cached), cold-start, thundering-herd) run on CPU ${load}` +
      unused,
  };
}

/** The command and arguments that run `bin args` pinned to `cpu` (unchanged when cpu is undefined). */
export function pinned(cpu: string | undefined, bin: string, args: readonly string[]): [string, string[]] {
  return cpu === undefined ? [bin, [...args]] : [TASKSET_BIN, ['-c', cpu, bin, ...args]];
}

/** Pins every thread of a running process. */
export async function pinRunning(pid: number, cpu: string): Promise<void> {
  await run(TASKSET_BIN, ['-a', '-cp', cpu, String(pid)]);
}

/** The pid of the one process whose command line contains `needle`, e.g. a unique config path. */
export async function findPid(needle: string): Promise<number> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (cmdline.includes(needle)) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  if (found.length !== 1) throw new Error(`expected one process with "${needle}" on its command line, found ${found.length}`);
  return found[0]!;
}
