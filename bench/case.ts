// One bench case for one library, in its own process:
//   node --import tsx bench/case.ts '<case name>' <impl> ['<expected losses, JSON>']
// Prints one line, `RESULT {...}` or `ERROR ...`, for bench/run.ts.
import { CASES } from './cases';
import { load, type Impl } from './libs';

const [name, impl, expectJson] = process.argv.slice(2);

async function main() {
  const c = CASES.find((k) => k.name === name);
  if (!c) throw new Error(`no bench case named '${name}'`);
  const lib = await load(impl as Impl);
  const result = c.run(lib, expectJson ? (JSON.parse(expectJson) as number[]) : undefined);
  console.log('RESULT ' + JSON.stringify(result));
}

main()
  .catch((e: unknown) => {
    const msg = e instanceof Error ? `${e.message} | ${e.stack?.split('\n')[1]?.trim()}` : String(e);
    console.log('ERROR ' + msg.replace(/\n/g, ' '));
    process.exitCode = 1;
  })
  // worker threads (ours) and tfjs timers must not keep the process alive
  .finally(() => setTimeout(() => process.exit(), 10).unref());
