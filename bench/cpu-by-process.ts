import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU seconds used by the processes of this machine, read from /proc (Linux only), grouped by a label: the bench
 * names its own processes by pid, the rest go by command name (postgres, beam.smp). A bench on two shared cores needs
 * this to tell which participant is the bottleneck; wall-clock profiles cannot, because a preempted process looks busy.
 */
// USER_HZ: the unit of /proc/<pid>/stat times; 100 on every Linux architecture Node supports (getconf CLK_TCK).
const clockTicksPerSecond = 100;

export type CpuSnapshot = Map<string, { label: string; ticks: number }>;

function readStat(pid: string): { comm: string; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    // utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3.
    return { comm, ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

export function cpuSnapshot(named: Record<string, number | undefined>): CpuSnapshot {
  const byPid = new Map<string, string>();
  for (const [label, pid] of Object.entries(named)) if (pid !== undefined) byPid.set(String(pid), label);
  const snapshot: CpuSnapshot = new Map();
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return snapshot;
  }
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat) snapshot.set(pid, { label: byPid.get(pid) ?? stat.comm, ticks: stat.ticks });
  }
  return snapshot;
}

/** CPU seconds per label between two snapshots; a process that started in between counts from zero. */
export function cpuSecondsBetween(before: CpuSnapshot, after: CpuSnapshot): Map<string, number> {
  const seconds = new Map<string, number>();
  for (const [pid, { label, ticks }] of after) {
    const used = (ticks - (before.get(pid)?.ticks ?? 0)) / clockTicksPerSecond;
    if (used > 0) seconds.set(label, (seconds.get(label) ?? 0) + used);
  }
  return new Map([...seconds].sort((a, b) => b[1] - a[1]));
}

/**
 * The whole machine's busy CPU seconds (every state but idle and iowait, from /proc/stat's first line). Beside
 * the per-process figures it shows what no listed process was charged for: processes that exited, interrupts,
 * the hypervisor's steal.
 */
export function machineBusySeconds(): number {
  try {
    const fields =
      readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / clockTicksPerSecond;
  } catch {
    return Number.NaN;
  }
}
