#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the root `prepare` script).
// It is also the entry of the one-file bundle and the single executable (agent/scripts/bundle.mjs),
// so it uses no top-level await (the executable's script is CommonJS).

// `envparity-agent collect --json | head` closes the pipe early: end quietly, as Unix tools do.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

function fail(error) {
  process.stderr.write(`envparity-agent: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
}

const args = process.argv.slice(2);

// A bare `--version` (asked by package managers, health checks, inventory scripts) answers before
// the CLI and its schemas load: the same line commander prints, in a fraction of the time.
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  import('../dist/version.js').then(({ AGENT_VERSION }) => {
    process.stdout.write(`${AGENT_VERSION}\n`);
  }, fail);
} else {
  import('../dist/cli.js')
    .then(({ main }) => main(args))
    .then((code) => {
      process.exitCode = code;
    }, fail);
}
