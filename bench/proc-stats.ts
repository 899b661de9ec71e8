// Memory and file descriptors of a server process and its children (nginx's
// worker is a child of its master), read from /proc (proc(5): VmRSS in
// /proc/<pid>/status, one entry per open fd in /proc/<pid>/fd).
import { readdir, readFile } from 'node:fs/promises';

export interface ProcStats {
  /** Resident set size of the process and its descendants, MB (10^6 bytes). */
  rssMb: number;
  /** Open file descriptors of the process and its descendants. */
  fds: number;
}

async function childrenOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const task of tasks) {
    const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    for (const child of text.trim().split(/\s+/)) if (child !== '') found.push(Number(child));
  }
  return found;
}

/** The pid and every descendant still running. */
export async function processTree(pid: number): Promise<number[]> {
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    tree.push(next);
    queue.push(...(await childrenOf(next)));
  }
  return tree;
}

async function rssKb(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const match = status === undefined ? null : /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) : undefined;
}

/** RSS and fds summed over the process tree; undefined when the process is gone. */
export async function procStats(pid: number, pids?: readonly number[]): Promise<ProcStats | undefined> {
  const tree = pids ?? (await processTree(pid));
  let kb = 0;
  let fds = 0;
  let alive = false;
  for (const member of tree) {
    const rss = await rssKb(member);
    if (rss === undefined) continue;
    alive = true;
    kb += rss;
    fds += (await readdir(`/proc/${member}/fd`).catch(() => [] as string[])).length;
  }
  return alive ? { rssMb: Math.round((kb * 1024) / 1e4) / 100, fds } : undefined;
}

/**
 * Samples RSS every `intervalMs` while `work` runs and returns the growth (max − the sample
 * taken just before, MB) with work's result. The tree is resolved once, before work starts.
 */
export async function rssGrowthDuring<T>(
  pid: number,
  intervalMs: number,
  work: () => Promise<T>,
): Promise<{ result: T; growthMb: number }> {
  const tree = await processTree(pid);
  const baseline = (await procStats(pid, tree))?.rssMb ?? 0;
  let max = baseline;
  const sample = async (): Promise<void> => {
    const stats = await procStats(pid, tree);
    if (stats !== undefined) max = Math.max(max, stats.rssMb);
  };
  const timer = setInterval(() => void sample(), intervalMs);
  try {
    const result = await work();
    await sample();
    return { result, growthMb: Math.round((max - baseline) * 100) / 100 };
  } finally {
    clearInterval(timer);
  }
}

/** Clock ticks per second for /proc/<pid>/stat (sysconf(_SC_CLK_TCK), 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User + system CPU time of the process tree so far, µs (proc(5): fields 14 and 15 of /proc/<pid>/stat). */
export async function cpuMicros(pids: readonly number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) "; fields[0] is field 3
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1e6) / TICKS_PER_SECOND;
}
