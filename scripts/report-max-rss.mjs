// Preloaded with `node --import` by the benchmarks: prints the process's peak RSS (KiB) on exit.
process.on('exit', () => {
  process.stderr.write(`\nENVPARITY_MAX_RSS_KB=${process.resourceUsage().maxRSS}\n`);
});
