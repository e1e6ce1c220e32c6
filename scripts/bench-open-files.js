// The open-file limit the fleet benchmark's children need (scripts/bench-fleet.js): each side holds
// one socket per agent. Returns the soft limit to raise the children to (undefined: high enough
// already); exits 2 with what to do when the hard limit is too low.
export function openFileLimitForChildren(lg, agents, log) {
  const neededFds = agents + 1024;
  const limit = lg.readOpenFileLimit('self');
  let nofile;
  if (limit && limit.soft < neededFds) {
    if (limit.hard >= neededFds) {
      nofile = neededFds;
      log(
        `open-file soft limit ${limit.soft} < ${neededFds}: children run with \`ulimit -Sn ${neededFds}\` (hard ${limit.hard})`,
      );
    } else {
      console.error(
        `${agents} agents need ~${neededFds} open files in both the aggregator and the fleet process, but the hard limit is ` +
          `${limit.hard}. Raise it (as root: \`ulimit -Hn ${neededFds}\`, LimitNOFILE= in a systemd unit, ` +
          `or nofile in /etc/security/limits.conf; in a container root needs CAP_SYS_RESOURCE for that, else ` +
          `start the container with a higher limit, e.g. \`docker run --ulimit nofile=${neededFds}:${neededFds}\`) ` +
          `or run at most ${Math.max(0, limit.hard - 1024)} agents.`,
      );
      process.exit(2);
    }
  }
  return nofile;
}
