// Counts ajv compilations by schema $id. Imported before '../src', so the spy is in place before the library compiles.
import Ajv2020 from 'ajv/dist/2020';

export const compiledIds: string[] = [];
const originalCompile = Ajv2020.prototype.compile;
Ajv2020.prototype.compile = function countingCompile(this: Ajv2020, ...args: Parameters<Ajv2020['compile']>) {
  const schema = args[0] as { $id?: string };
  compiledIds.push(schema.$id ?? '(anonymous)');
  return originalCompile.apply(this, args);
} as Ajv2020['compile'];
