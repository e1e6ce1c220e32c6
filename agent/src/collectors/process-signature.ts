/**
 * A cheap signature of the watched processes, for the daemon's poll: the pids found for each
 * `watch.processes` entry and the raw bytes of the representative's environ, cmdline, status uid/gid
 * lines, limits and exe/cwd links (or the errno of each read), hashed. Nothing is parsed, no
 * runtime version is asked: when the signature changes, the daemon reruns the `process` collector.
 */
import { createHash } from 'node:crypto';
import type { ProcessConfig } from '@envparity/shared';
import { type ExecResult, execCommand } from '../exec.js';
import { DEFAULT_PROC_ROOT, readProcFile, readProcLink } from './process-proc.js';
import { commandLineTable, type Exec, type ResolveOptions, resolveProcesses } from './process-resolve.js';

export type ProcessSignatureOptions = Omit<ResolveOptions, 'exec'>;

/**
 * `systemctl show` answers reused by the poll for this long: it runs only for a unit whose cgroup
 * is not under system.slice (stopped, or in another slice), and must not spawn every 2 s.
 */
export const SYSTEMCTL_CACHE_MS = 10_000;
const systemctlAnswers = new Map<string, { at: number; result: Promise<ExecResult> }>();

const cachedExec: Exec = (file, args, options) => {
  const key = JSON.stringify([file, args]);
  const now = Date.now();
  const cached = systemctlAnswers.get(key);
  if (cached && now - cached.at < SYSTEMCTL_CACHE_MS) return cached.result;
  const result = execCommand(file, args, options);
  systemctlAnswers.set(key, { at: now, result });
  result.catch(() => systemctlAnswers.delete(key));
  return result;
};

/** Hex sha256 over every entry's resolution and its representative's raw /proc entries. */
export async function processSignature(
  specs: readonly ProcessConfig[],
  options: ProcessSignatureOptions = {},
): Promise<string> {
  const procRoot = options.procRoot ?? DEFAULT_PROC_ROOT;
  const hash = createHash('sha256');
  const commandLines = specs.some((spec) => spec.match !== undefined) ? commandLineTable(procRoot) : undefined;
  const parts = await Promise.all(
    specs.map(async (spec) => {
      const resolved = await resolveProcesses(spec, {
        ...options,
        exec: cachedExec,
        ...(commandLines ? { commandLines } : {}),
      });
      const chunks: (string | Buffer)[] = [spec.name, resolved.pids.join(','), resolved.problem ?? ''];
      const pid = resolved.pids[0];
      if (pid !== undefined) {
        const [environ, cmdline, limits, status] = await Promise.all([
          readProcFile(pid, 'environ', procRoot),
          readProcFile(pid, 'cmdline', procRoot),
          readProcFile(pid, 'limits', procRoot),
          readProcFile(pid, 'status', procRoot),
        ]);
        for (const read of [environ, cmdline, limits]) chunks.push(read.ok ? read.data : `!${read.code}`);
        // Only the id lines of status: the rest (memory, state) moves all the time.
        chunks.push(
          status.ok ? (status.data.toString('utf8').match(/^[UG]id:.*$/gm) ?? []).join('\n') : `!${status.code}`,
        );
        for (const link of await Promise.all([readProcLink(pid, 'exe', procRoot), readProcLink(pid, 'cwd', procRoot)]))
          chunks.push(link.ok ? link.target : `!${link.code}`);
      }
      return chunks;
    }),
  );
  for (const chunks of parts) {
    for (const chunk of chunks) {
      hash.update(chunk);
      hash.update('\0');
    }
  }
  return hash.digest('hex');
}
