/**
 * A JSON Schema (draft 2020-12) as written in `<use-case>.request.ts` files, `as const`, so that FromSchema can
 * read the TypeScript type off it. Loose on purpose: ajv checks the schema itself when it is compiled.
 */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

/** An object schema: what request bodies, path params and query strings are described by. */
export type ObjectSchema = { readonly type: 'object'; readonly [keyword: string]: unknown };

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type RequiredKeys<S> = S extends { readonly required: readonly (infer K)[] } ? K & string : never;

type Additional<S> = S extends { readonly additionalProperties: false }
  ? unknown
  : S extends { readonly additionalProperties: infer A }
    ? A extends true
      ? Readonly<Record<string, unknown>>
      : Readonly<Record<string, FromSchema<A>>>
    : S extends { readonly unevaluatedProperties: false }
      ? unknown
      : Readonly<Record<string, unknown>>;

type FromObject<S> = S extends { readonly properties: infer P }
  ? Simplify<
      { readonly [K in keyof P & RequiredKeys<S>]: FromSchema<P[K]> } & {
        readonly [K in Exclude<keyof P, RequiredKeys<S>>]?: FromSchema<P[K]>;
      }
    > &
      Additional<S>
  : Additional<S>;

type FromType<T, S> = T extends 'string'
  ? string
  : T extends 'number' | 'integer'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'array'
          ? S extends { readonly items: infer I }
            ? readonly FromSchema<I>[]
            : readonly unknown[]
          : T extends 'object'
            ? FromObject<S>
            : never;

/**
 * The (read-only) TypeScript type of the values a schema accepts, for the keywords request schemas use: type (one or a
 * list), const, enum, properties/required/additionalProperties, items, oneOf/anyOf (a union, each branch read
 * with the keywords of the schema around it). Keywords that only narrow (minLength, pattern, format...) are ignored;
 * $ref is not followed (request schemas inline their parts).
 */
export type FromSchema<S> = S extends true
  ? unknown
  : S extends false
    ? never
    : S extends { readonly const: infer C }
      ? C
      : S extends { readonly enum: readonly (infer E)[] }
        ? E
        : S extends { readonly oneOf: readonly (infer B)[] }
          ? FromSchema<Omit<S, 'oneOf'> & B>
          : S extends { readonly anyOf: readonly (infer B)[] }
            ? FromSchema<Omit<S, 'anyOf'> & B>
            : S extends { readonly type: readonly (infer T)[] }
              ? FromType<T, S>
              : S extends { readonly type: infer T }
                ? FromType<T, S>
                : unknown;
