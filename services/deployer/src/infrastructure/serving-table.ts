import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import type { LoadedModel } from './loaded-model';

export const DEFAULT_ALIAS = 'production';

export type ResolveError = DomainError<'unknown_model' | 'unknown_alias' | 'unknown_version'>;

/**
 * What this replica serves: per model, per alias, the loaded version. A swap replaces the entry in one step (one
 * JavaScript turn), so a request resolves either the old or the new version, never neither.
 */
export class ServingTable {
  private readonly models = new Map<string, Map<string, LoadedModel>>();

  /** Puts the model in place of what served its alias; returns the one it replaced. */
  swap(loaded: LoadedModel): LoadedModel | undefined {
    const { model, alias } = loaded.deployment;
    let aliases = this.models.get(model);
    if (!aliases) {
      aliases = new Map();
      this.models.set(model, aliases);
    }
    const previous = aliases.get(alias);
    aliases.set(alias, loaded);
    return previous;
  }

  serving(model: string, alias: string): LoadedModel | undefined {
    return this.models.get(model)?.get(alias);
  }

  /** The version a request asks for: an explicit version (behind any alias), else the alias (production by default). */
  resolve(model: string, alias?: string, version?: number): Result<LoadedModel, ResolveError> {
    const aliases = this.models.get(model);
    if (!aliases || aliases.size === 0)
      return err(domainError('unknown_model', `model "${model}" is not served here`, { model }));
    if (version !== undefined) {
      const match = [...aliases.values()].find(
        (loaded) => loaded.deployment.version === version && (alias === undefined || loaded.deployment.alias === alias),
      );
      return match
        ? ok(match)
        : err(
            domainError(
              'unknown_version',
              `model "${model}" has no version ${version} served${alias ? ` as ${alias}` : ''}`,
              {
                model,
                version,
                served: this.versionsOf(model),
              },
            ),
          );
    }
    const wanted = alias ?? DEFAULT_ALIAS;
    const loaded =
      aliases.get(wanted) ?? (alias === undefined && aliases.size === 1 ? [...aliases.values()][0] : undefined);
    return loaded
      ? ok(loaded)
      : err(
          domainError('unknown_alias', `model "${model}" has no alias "${wanted}" served`, {
            model,
            alias: wanted,
            aliases: [...aliases.keys()],
          }),
        );
  }

  versionsOf(model: string): number[] {
    const versions = [...(this.models.get(model)?.values() ?? [])].map((loaded) => loaded.deployment.version);
    return [...new Set(versions)].sort((a, b) => a - b);
  }

  all(): LoadedModel[] {
    return [...this.models.values()].flatMap((aliases) => [...aliases.values()]);
  }

  /** Empties the table (shutdown); the caller retires what it returns. */
  clear(): LoadedModel[] {
    const everything = this.all();
    this.models.clear();
    return everything;
  }
}
