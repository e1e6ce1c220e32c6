/**
 * Entry point of a fleet child process (see fleet-process.ts): options from the environment,
 * stats to the parent over IPC once a second, graceful stop on request or on SIGTERM.
 */
import { type FleetOptions, startFleet } from './fleet.js';
import { FLEET_OPTIONS_ENV, type FleetChildMessage } from './fleet-process.js';

function main() {
  const text = process.env[FLEET_OPTIONS_ENV];
  if (!text || !process.send) {
    process.stderr.write(`fleet-child: run through forkFleet() (needs ${FLEET_OPTIONS_ENV} and an IPC channel)\n`);
    process.exit(2);
  }
  const { statsIntervalMs = 1000, ...options } = JSON.parse(text) as FleetOptions & { statsIntervalMs?: number };
  const fleet = startFleet(options);
  const post = (message: FleetChildMessage) => process.send?.(message);
  const timer = setInterval(() => post({ type: 'stats', stats: fleet.stats() }), statsIntervalMs);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    const stats = await fleet.stop();
    process.send?.({ type: 'final', stats } satisfies FleetChildMessage, () => process.exit(0));
  };
  process.on('message', (message: { type?: string; count?: number }) => {
    if (message?.type === 'stop') void stop();
    if (message?.type === 'change' && !stopping) fleet.change(Number(message.count) || 0);
  });
  process.on('SIGTERM', () => void stop());
  // The parent went away: do not linger with thousands of sockets open.
  process.on('disconnect', () => {
    void fleet.stop(1000).then(() => process.exit(0));
  });
}

main();
