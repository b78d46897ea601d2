/**
 * Sums up a V8 CPU profile of bench/features (BENCH_CPU_PROFILE): self time per owner (the first of ingestion, the
 * feature store, the consumer runner... on the sample's stack), per package or file, and the top functions; with a
 * record count, the milliseconds per record of each owner.
 * Usage: node bench/dist/features/profile-summary.js <file.cpuprofile> [records] [top functions]
 * The profile samples the main thread only (the embedded ClickHouse's threads are not in it), and time spent waiting
 * for the CPU inside a system call counts for that call (writev under load).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Checked in order: the first that matches any frame of the stack owns the sample. */
const OWNERS: ReadonlyArray<readonly [string, RegExp]> = [
  ['pg: issuing statements', /^pg\.Client\.query$/],
  ['bench: sender and its consumers', /bench\/dist\//],
  ['ingestion', /services\/ingestion\//],
  ['feature store', /services\/feature-store\//],
  ['outbox relay', /libs\/messaging\/dist\/src\/outbox\.js/],
  ['consumer runner: decode, validate, inbox', /libs\/messaging\/dist\/src\/(consumer|cloud-event|inbox)\.js/],
  ['nest rpc pipeline', /@nestjs\/microservices|libs\/messaging\/dist\/src\/nest\//],
  ['http server: nest, express, auth', /express|@nestjs\/platform|libs\/auth\/|libs\/http\/|node:_http_server/],
  ['producer', /libs\/messaging\/dist\/src\/producer\.js/],
  ['kafkajs: fetch and produce loops', /kafkajs/],
  ['pg: results', /node_modules\/pg/],
  ['clickhouse client', /chdb|@clickhouse/],
];

function main(): void {
  const [file, recordsArg, topArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary.js <file.cpuprofile> [records] [top functions]');
  const records = recordsArg ? Number(recordsArg) : undefined;
  const top = Number(topArg ?? 30);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const owners = new Map<string, number>();
  const packages = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    total += us;
    const frame = byId.get(id)!.callFrame;
    const url = frame.url.replace(/^file:\/\//, '').replace(/^.*?\/((services|libs|bench)\/)/, '$1');
    add(functions, `${frame.functionName || '(anonymous)'} ${url}:${frame.lineNumber + 1}`, us);
    add(packages, packageOf(url, frame.functionName), us);
    add(owners, ownerOf(id, byId, parent), us);
  }
  const show = (title: string, table: Map<string, number>, rows: number, perRecord: boolean): void => {
    console.log(`\n${title} (main thread ${(total / 1000).toFixed(0)} ms${records ? `, ${records} records` : ''})`);
    for (const [name, us] of [...table].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
      const ms = `${(us / 1000).toFixed(0)} ms`.padStart(9);
      const share = `${((100 * us) / total).toFixed(1)}%`.padStart(6);
      const per = perRecord && records ? `${(us / 1000 / records).toFixed(3)} ms/record`.padStart(18) : '';
      console.log(`${ms} ${share}${per}  ${name}`);
    }
  };
  show('self time by owner (first match on the stack)', owners, 20, true);
  show('self time by package or file', packages, 20, false);
  show('self time by function', functions, top, false);
}

function add(table: Map<string, number>, key: string, us: number): void {
  table.set(key, (table.get(key) ?? 0) + us);
}

function packageOf(url: string, functionName: string): string {
  if (!url) return `(${functionName})`;
  const dependency = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1]!;
  if (url.startsWith('node:')) return 'node internals';
  return url.split('/').slice(0, 2).join('/');
}

function ownerOf(id: number, byId: Map<number, ProfileNode>, parent: Map<number, number>): string {
  const frame = byId.get(id)!.callFrame;
  if (['(garbage collector)', '(idle)', '(program)'].includes(frame.functionName)) return frame.functionName;
  const stack: Array<ProfileNode['callFrame']> = [];
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!.callFrame);
  for (const [owner, pattern] of OWNERS)
    if (stack.some((f) => pattern.test(pattern.source.startsWith('^') ? f.functionName : f.url))) return owner;
  return `other: ${packageOf(frame.url.replace(/^file:\/\//, ''), frame.functionName)}`;
}

main();
