import { type Result, err, ok } from '@mlops/core';
import type { Scalar } from './json';

/**
 * The derived-feature expression language: numbers, strings, true/false/null, references to source fields
 * (dot paths allowed) or other features, + - * / and unary minus, comparisons (== != < <= > >=, not chained),
 * parentheses and a fixed set of functions. Parsed by a hand-written tokenizer and recursive-descent parser;
 * never evaluated by eval/Function. Positions are 0-based character offsets into the source text.
 */

export type ArithmeticOperator = '+' | '-' | '*' | '/';
export type ComparisonOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type Expression =
  | { readonly kind: 'literal'; readonly value: Scalar; readonly position: number }
  | { readonly kind: 'reference'; readonly name: string; readonly position: number }
  | { readonly kind: 'negate'; readonly operand: Expression; readonly position: number }
  | {
      readonly kind: 'arithmetic';
      readonly operator: ArithmeticOperator;
      readonly left: Expression;
      readonly right: Expression;
      readonly position: number;
    }
  | {
      readonly kind: 'comparison';
      readonly operator: ComparisonOperator;
      readonly left: Expression;
      readonly right: Expression;
      readonly position: number;
    }
  | {
      readonly kind: 'call';
      readonly name: FunctionName;
      readonly args: readonly Expression[];
      readonly position: number;
    };

export interface ExpressionError {
  readonly message: string;
  readonly position: number;
}

const FUNCTION_ARITY = {
  log: { min: 1, max: 1 },
  exp: { min: 1, max: 1 },
  abs: { min: 1, max: 1 },
  sqrt: { min: 1, max: 1 },
  min: { min: 1, max: Infinity },
  max: { min: 1, max: Infinity },
  coalesce: { min: 1, max: Infinity },
  if: { min: 3, max: 3 },
} as const;

export type FunctionName = keyof typeof FUNCTION_ARITY;
export const FUNCTION_NAMES = Object.keys(FUNCTION_ARITY) as readonly FunctionName[];

function isFunctionName(name: string): name is FunctionName {
  return Object.prototype.hasOwnProperty.call(FUNCTION_ARITY, name);
}

// ---------------------------------------------------------------- tokenizer

type TokenKind = 'number' | 'string' | 'identifier' | 'operator' | '(' | ')' | ',' | 'end';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly position: number;
  readonly value?: number | string;
}

const OPERATORS = ['==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/'] as const;
const IDENTIFIER_START = /[A-Za-z_]/;
const IDENTIFIER_PART = /[A-Za-z0-9_]/;
const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;

function tokenize(source: string): Result<Token[], ExpressionError> {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (/[0-9.]/.test(ch)) {
      const match = NUMBER.exec(source.slice(i));
      if (!match) return tokenError(`unexpected '${ch}'`, i);
      const end = i + match[0].length;
      if (end < source.length && IDENTIFIER_PART.test(source[end] as string)) {
        return tokenError(`malformed number '${source.slice(i, end + 1)}'`, i);
      }
      tokens.push({ kind: 'number', text: match[0], position: i, value: Number(match[0]) });
      i = end;
      continue;
    }
    if (IDENTIFIER_START.test(ch)) {
      const start = i;
      for (;;) {
        while (i < source.length && IDENTIFIER_PART.test(source[i] as string)) i++;
        if (source[i] !== '.') break;
        if (i + 1 >= source.length || !IDENTIFIER_START.test(source[i + 1] as string)) {
          return tokenError(`a dot path needs a field name after '.'`, i);
        }
        i++;
      }
      tokens.push({ kind: 'identifier', text: source.slice(start, i), position: start });
      continue;
    }
    if (ch === '"' || ch === "'") {
      const start = i;
      let text = '';
      i++;
      while (i < source.length && source[i] !== ch) {
        if (source[i] === '\\' && i + 1 < source.length) i++;
        text += source[i];
        i++;
      }
      if (i >= source.length) return tokenError('unterminated string', start);
      i++;
      tokens.push({ kind: 'string', text: source.slice(start, i), position: start, value: text });
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: ch, text: ch, position: i });
      i++;
      continue;
    }
    const operator = OPERATORS.find((op) => source.startsWith(op, i));
    if (operator) {
      tokens.push({ kind: 'operator', text: operator, position: i });
      i += operator.length;
      continue;
    }
    const hint = ch === '=' ? " (did you mean '=='?)" : ch === '!' ? " (did you mean '!='?)" : '';
    return tokenError(`unexpected '${ch}'${hint}`, i);
  }
  tokens.push({ kind: 'end', text: '', position: source.length });
  return ok(tokens);
}

function tokenError(message: string, position: number): Result<never, ExpressionError> {
  return err({ message: `${message} at position ${position}`, position });
}

// ---------------------------------------------------------------- parser

class ParseFailure {
  constructor(readonly error: ExpressionError) {}
}

/** The AST of an expression, or the first error with its position. */
export function parseExpression(source: string): Result<Expression, ExpressionError> {
  if (source.length > MAX_LENGTH)
    return err({
      message: `expression is longer than ${MAX_LENGTH} characters at position ${MAX_LENGTH}`,
      position: MAX_LENGTH,
    });
  const tokens = tokenize(source);
  if (!tokens.ok) return tokens;
  const parser = new Parser(tokens.value);
  try {
    return ok(parser.parseAll());
  } catch (failure) {
    // The parser unwinds with ParseFailure only; anything else is a bug and must surface.
    if (failure instanceof ParseFailure) return err(failure.error);
    throw failure;
  }
}

/** Bound the AST's depth (nesting, and chains like 1+1+...+1) so that no definition can overflow the stack. */
const MAX_NESTING = 64;
const MAX_LENGTH = 2000;

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parseAll(): Expression {
    if (this.peek().kind === 'end') this.fail('empty expression', this.peek().position);
    const expression = this.comparison();
    const next = this.peek();
    if (next.kind !== 'end') this.fail(`unexpected '${next.text}' after a complete expression`, next.position);
    return expression;
  }

  // comparison := additive (cmp additive)?  — chaining (a < b < c) is refused rather than guessed.
  private comparison(): Expression {
    const start = this.peek().position;
    if (++this.depth > MAX_NESTING) this.fail(`expression nests deeper than ${MAX_NESTING} levels`, start);
    try {
      return this.comparisonAtDepth();
    } finally {
      this.depth--;
    }
  }

  private comparisonAtDepth(): Expression {
    const left = this.additive();
    const op = this.peek();
    if (!isComparison(op)) return left;
    this.index++;
    const right = this.additive();
    const after = this.peek();
    if (isComparison(after)) this.fail(`comparisons cannot be chained; use parentheses or if()`, after.position);
    return { kind: 'comparison', operator: op.text as ComparisonOperator, left, right, position: op.position };
  }

  private additive(): Expression {
    let left = this.multiplicative();
    for (let op = this.peek(); op.kind === 'operator' && (op.text === '+' || op.text === '-'); op = this.peek()) {
      this.index++;
      const right = this.multiplicative();
      left = { kind: 'arithmetic', operator: op.text, left, right, position: op.position };
    }
    return left;
  }

  private multiplicative(): Expression {
    let left = this.unary();
    for (let op = this.peek(); op.kind === 'operator' && (op.text === '*' || op.text === '/'); op = this.peek()) {
      this.index++;
      const right = this.unary();
      left = { kind: 'arithmetic', operator: op.text, left, right, position: op.position };
    }
    return left;
  }

  private unary(): Expression {
    const op = this.peek();
    if (op.kind === 'operator' && op.text === '-') {
      this.index++;
      if (++this.depth > MAX_NESTING) this.fail(`expression nests deeper than ${MAX_NESTING} levels`, op.position);
      const operand = this.unary();
      this.depth--;
      return { kind: 'negate', operand, position: op.position };
    }
    return this.primary();
  }

  private primary(): Expression {
    const token = this.next();
    switch (token.kind) {
      case 'number':
        return { kind: 'literal', value: token.value as number, position: token.position };
      case 'string':
        return { kind: 'literal', value: token.value as string, position: token.position };
      case '(': {
        const inner = this.comparison();
        this.expect(')', `missing ')' to close '(' at position ${token.position}`);
        return inner;
      }
      case 'identifier':
        return this.identifier(token);
      case 'end':
        return this.fail('unexpected end of expression', token.position);
      default:
        return this.fail(`unexpected '${token.text}'`, token.position);
    }
  }

  private identifier(token: Token): Expression {
    if (this.peek().kind !== '(') {
      if (token.text === 'true' || token.text === 'false')
        return { kind: 'literal', value: token.text === 'true', position: token.position };
      if (token.text === 'null') return { kind: 'literal', value: null, position: token.position };
      return { kind: 'reference', name: token.text, position: token.position };
    }
    if (!isFunctionName(token.text)) {
      return this.fail(`unknown function '${token.text}' (known: ${FUNCTION_NAMES.join(', ')})`, token.position);
    }
    this.index++;
    const args: Expression[] = [];
    if (this.peek().kind !== ')') {
      args.push(this.comparison());
      while (this.peek().kind === ',') {
        this.index++;
        args.push(this.comparison());
      }
    }
    this.expect(')', `missing ')' to close the arguments of ${token.text}()`);
    const arity = FUNCTION_ARITY[token.text];
    if (args.length < arity.min || args.length > arity.max) {
      const wanted = arity.min === arity.max ? `${arity.min}` : `at least ${arity.min}`;
      this.fail(
        `${token.text}() takes ${wanted} argument${arity.min === 1 && arity.max === 1 ? '' : 's'}, got ${args.length}`,
        token.position,
      );
    }
    return { kind: 'call', name: token.text, args, position: token.position };
  }

  private expect(kind: TokenKind, message: string): void {
    const token = this.peek();
    if (token.kind !== kind)
      this.fail(`${message}, found ${token.kind === 'end' ? 'end of expression' : `'${token.text}'`}`, token.position);
    this.index++;
  }

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private fail(message: string, position: number): never {
    throw new ParseFailure({ message: `${message} at position ${position}`, position });
  }
}

function isComparison(token: Token): boolean {
  return token.kind === 'operator' && ['==', '!=', '<', '<=', '>', '>='].includes(token.text);
}

// ---------------------------------------------------------------- analysis

/** Every name the expression references, with the position of its first use, in order of appearance. */
export function referencedNames(expression: Expression): Map<string, number> {
  const names = new Map<string, number>();
  const visit = (node: Expression): void => {
    switch (node.kind) {
      case 'reference':
        if (!names.has(node.name)) names.set(node.name, node.position);
        return;
      case 'negate':
        return visit(node.operand);
      case 'arithmetic':
      case 'comparison':
        visit(node.left);
        return visit(node.right);
      case 'call':
        return node.args.forEach(visit);
      case 'literal':
        return;
    }
  };
  visit(expression);
  return names;
}

/** The static type of a value; "null" is the literal null, "any" is unknown (e.g. a source field with no declared type). */
export type ValueType = 'number' | 'string' | 'boolean' | 'null' | 'any';

/**
 * The static type of an expression and every type error in it (with positions).
 * `typeOf` gives the type of a referenced name; names it does not know are reported by the caller.
 */
export function checkExpressionTypes(
  expression: Expression,
  typeOf: (name: string) => ValueType,
): { type: ValueType; errors: ExpressionError[] } {
  const errors: ExpressionError[] = [];
  const expectType = (node: Expression, expected: ValueType, what: string): void => {
    const actual = visit(node);
    if (actual !== expected && actual !== 'null' && actual !== 'any') {
      errors.push({
        message: `${what} must be a ${expected}, not a ${actual} (at position ${node.position})`,
        position: node.position,
      });
    }
  };
  const join = (types: ValueType[], at: Expression): ValueType => {
    const known = [...new Set(types.filter((t) => t !== 'null'))];
    if (known.length === 0) return 'null';
    if (known.includes('any')) return 'any';
    if (known.length > 1) {
      errors.push({
        message: `${describe(at)} mixes ${known.join(' and ')} values (at position ${at.position})`,
        position: at.position,
      });
      return 'any';
    }
    return known[0] as ValueType;
  };
  const visit = (node: Expression): ValueType => {
    switch (node.kind) {
      case 'literal':
        return node.value === null ? 'null' : (typeof node.value as ValueType);
      case 'reference':
        return typeOf(node.name);
      case 'negate':
        expectType(node.operand, 'number', "the operand of unary '-'");
        return 'number';
      case 'arithmetic':
        expectType(node.left, 'number', `the left operand of '${node.operator}'`);
        expectType(node.right, 'number', `the right operand of '${node.operator}'`);
        return 'number';
      case 'comparison': {
        if (node.operator === '==' || node.operator === '!=') {
          join([visit(node.left), visit(node.right)], node);
        } else {
          expectType(node.left, 'number', `the left operand of '${node.operator}'`);
          expectType(node.right, 'number', `the right operand of '${node.operator}'`);
        }
        return 'boolean';
      }
      case 'call':
        switch (node.name) {
          case 'coalesce':
            return join(node.args.map(visit), node);
          case 'if':
            expectType(node.args[0] as Expression, 'boolean', 'the condition of if()');
            return join([visit(node.args[1] as Expression), visit(node.args[2] as Expression)], node);
          default:
            node.args.forEach((arg, i) => expectType(arg, 'number', `argument ${i + 1} of ${node.name}()`));
            return 'number';
        }
    }
  };
  const type = visit(expression);
  return { type, errors };
}

function describe(node: Expression): string {
  if (node.kind === 'call') return `${node.name}()`;
  if (node.kind === 'comparison') return `'${node.operator}'`;
  return 'the expression';
}

// ---------------------------------------------------------------- evaluation

/** A value, and when it is null because something was refused (not merely missing), why. */
export interface Evaluated {
  readonly value: Scalar;
  readonly nullReason?: string;
}

const MISSING: Evaluated = { value: null };

function refused(reason: string): Evaluated {
  return { value: null, nullReason: reason };
}

function numeric(value: number, what: string): Evaluated {
  return Number.isFinite(value) ? { value } : refused(`${what} is not a finite number`);
}

/**
 * The value of an expression. Nulls propagate (except through coalesce and the branch if() does not take);
 * the result is always JSON-safe: NaN and infinities become null with a reason.
 */
export function evaluateExpression(expression: Expression, resolve: (name: string) => Scalar): Evaluated {
  const visit = (node: Expression): Evaluated => {
    switch (node.kind) {
      case 'literal':
        return { value: node.value };
      case 'reference':
        return { value: resolve(node.name) };
      case 'negate': {
        const operand = numbers([node.operand], "unary '-'");
        return 'values' in operand ? numeric(-(operand.values[0] as number), "unary '-'") : operand;
      }
      case 'arithmetic':
        return arithmetic(node);
      case 'comparison':
        return compare(node.operator, visit(node.left), visit(node.right), node.position);
      case 'call':
        return call(node);
    }
  };

  const numbers = (nodes: readonly Expression[], what: string): { values: number[] } | Evaluated => {
    const values: number[] = [];
    for (const node of nodes) {
      const result = visit(node);
      if (result.value === null) return result;
      if (typeof result.value !== 'number')
        return refused(`${what} needs numbers, got ${typeof result.value} at position ${node.position}`);
      values.push(result.value);
    }
    return { values };
  };

  const arithmetic = (node: Extract<Expression, { kind: 'arithmetic' }>): Evaluated => {
    const operands = numbers([node.left, node.right], `'${node.operator}'`);
    if (!('values' in operands)) return operands;
    const [a, b] = operands.values as [number, number];
    switch (node.operator) {
      case '+':
        return numeric(a + b, 'the sum');
      case '-':
        return numeric(a - b, 'the difference');
      case '*':
        return numeric(a * b, 'the product');
      case '/':
        return b === 0 ? refused(`division by zero at position ${node.position}`) : numeric(a / b, 'the quotient');
    }
  };

  const call = (node: Extract<Expression, { kind: 'call' }>): Evaluated => {
    if (node.name === 'coalesce') {
      for (const arg of node.args) {
        const result = visit(arg);
        if (result.value !== null) return result;
      }
      return MISSING;
    }
    if (node.name === 'if') {
      const condition = visit(node.args[0] as Expression);
      if (condition.value === null) return condition;
      if (typeof condition.value !== 'boolean')
        return refused(`the condition of if() at position ${node.position} is not a boolean`);
      return visit(node.args[condition.value ? 1 : 2] as Expression);
    }
    const operands = numbers(node.args, `${node.name}()`);
    if (!('values' in operands)) return operands;
    const [x] = operands.values as [number];
    switch (node.name) {
      case 'log':
        return x > 0
          ? numeric(Math.log(x), 'log()')
          : refused(`log() of ${x} (not positive) at position ${node.position}`);
      case 'sqrt':
        return x >= 0
          ? numeric(Math.sqrt(x), 'sqrt()')
          : refused(`sqrt() of ${x} (negative) at position ${node.position}`);
      case 'exp':
        return numeric(Math.exp(x), `exp(${x})`);
      case 'abs':
        return numeric(Math.abs(x), 'abs()');
      case 'min':
        return numeric(Math.min(...operands.values), 'min()');
      case 'max':
        return numeric(Math.max(...operands.values), 'max()');
    }
  };

  return visit(expression);
}

function compare(operator: ComparisonOperator, left: Evaluated, right: Evaluated, position: number): Evaluated {
  if (left.value === null) return left;
  if (right.value === null) return right;
  const a = left.value;
  const b = right.value;
  if (operator === '==' || operator === '!=') {
    if (typeof a !== typeof b)
      return refused(`'${operator}' compares a ${typeof a} with a ${typeof b} at position ${position}`);
    return { value: operator === '==' ? a === b : a !== b };
  }
  if (typeof a !== 'number' || typeof b !== 'number')
    return refused(`'${operator}' needs numbers at position ${position}`);
  switch (operator) {
    case '<':
      return { value: a < b };
    case '<=':
      return { value: a <= b };
    case '>':
      return { value: a > b };
    case '>=':
      return { value: a >= b };
  }
}
