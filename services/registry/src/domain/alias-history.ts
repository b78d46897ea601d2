/** One move of an alias, oldest first. */
export interface AliasMove {
  readonly version: number;
  readonly trigger: 'gate' | 'manual' | 'rollback';
}

/**
 * The versions the alias went through that a rollback can return to: promotions push, a rollback pops the version
 * it left. The last entry is the current version.
 */
export function promotionStack(history: readonly AliasMove[]): number[] {
  const stack: number[] = [];
  for (const move of history) {
    if (move.trigger === 'rollback') {
      // Back to an earlier version: drop everything above it.
      const at = stack.lastIndexOf(move.version);
      if (at >= 0) stack.length = at + 1;
      else stack.push(move.version);
    } else {
      stack.push(move.version);
    }
  }
  return stack;
}

/**
 * The version a rollback moves the alias to: the one it pointed at before the current version was promoted,
 * skipping the current version's repeats and versions marked bad; undefined when there is none.
 */
export function rollbackTarget(history: readonly AliasMove[], isBad: (version: number) => boolean): number | undefined {
  const stack = promotionStack(history);
  const current = stack[stack.length - 1];
  for (let i = stack.length - 2; i >= 0; i--) {
    const version = stack[i] as number;
    if (version !== current && !isBad(version)) return version;
  }
  return undefined;
}
