export async function main(_argv: readonly string[]): Promise<number> {
  process.stdout.write('envparity-aggregator: not implemented yet\n');
  return 0;
}
