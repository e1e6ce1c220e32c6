// One aggregator process for the fleet benchmark (scripts/bench-fleet.js): spawned with its
// output always drained (a full pipe would block the aggregator's logger and distort the
// figures), the lines handed to `remember`, and the URL of its `listening` line kept.
import { spawn } from 'node:child_process';

export function spawnAggregatorProcess({ command, argv, cwd, env, remember }) {
  const proc = spawn(command, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const handle = { proc, listeningUrl: undefined, exited: undefined };
  handle.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  let stdoutRest = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk) => {
    const lines = (stdoutRest + chunk).split('\n');
    stdoutRest = lines.pop() ?? '';
    for (const line of lines) {
      remember(line);
      if (handle.listeningUrl === undefined && line.includes('listening')) {
        try {
          const entry = JSON.parse(line);
          if (entry.msg === 'listening' && typeof entry.url === 'string') handle.listeningUrl = entry.url;
        } catch {}
      }
    }
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk) => {
    for (const line of chunk.split('\n')) if (line.trim() !== '') remember(`stderr: ${line}`);
    if (process.env.BENCH_SHOW_STDERR) process.stderr.write(chunk);
  });
  return handle;
}
