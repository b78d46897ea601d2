import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Expression, type Scalar, evaluateExpression, parseExpression } from '../../src/domain';

/** The AST as an S-expression, so that tests state the expected tree by hand. */
function show(node: Expression): string {
  switch (node.kind) {
    case 'literal':
      return typeof node.value === 'string' ? JSON.stringify(node.value) : String(node.value);
    case 'reference':
      return node.name;
    case 'negate':
      return `(neg ${show(node.operand)})`;
    case 'arithmetic':
    case 'comparison':
      return `(${node.operator} ${show(node.left)} ${show(node.right)})`;
    case 'call':
      return `(${node.name}${node.args.map((arg) => ` ${show(arg)}`).join('')})`;
  }
}

function parse(source: string): Expression {
  const result = parseExpression(source);
  if (!result.ok) assert.fail(`${source}: ${result.error.message}`);
  return result.value;
}

function parseError(source: string): { message: string; position: number } {
  const result = parseExpression(source);
  if (result.ok) assert.fail(`${source} parsed as ${show(result.value)}`);
  return result.error;
}

function evaluate(source: string, values: Record<string, Scalar> = {}): Scalar {
  return evaluateExpression(parse(source), (name) => values[name] ?? null).value;
}

test('precedence: * and / bind tighter than + and -, comparison loosest', () => {
  assert.equal(show(parse('1 + 2 * 3')), '(+ 1 (* 2 3))');
  assert.equal(show(parse('1 * 2 + 3')), '(+ (* 1 2) 3)');
  assert.equal(show(parse('(1 + 2) * 3')), '(* (+ 1 2) 3)');
  assert.equal(show(parse('a + b > c * 2')), '(> (+ a b) (* c 2))');
  assert.equal(show(parse('a == "x"')), '(== a "x")');
});

test('associativity: - and / are left-associative', () => {
  assert.equal(show(parse('10 - 4 - 3')), '(- (- 10 4) 3)');
  assert.equal(show(parse('8 / 4 / 2')), '(/ (/ 8 4) 2)');
  assert.equal(evaluate('10 - 4 - 3'), 3);
  assert.equal(evaluate('8 / 4 / 2'), 1);
});

test('unary minus binds tighter than * and nests', () => {
  assert.equal(show(parse('-2 * 3')), '(* (neg 2) 3)');
  assert.equal(show(parse('- -x')), '(neg (neg x))');
  assert.equal(show(parse('a - -b')), '(- a (neg b))');
  assert.equal(evaluate('-2 - -3'), 1);
  assert.equal(evaluate('2 * -3'), -6);
  assert.equal(evaluate('-(1 + 2) * 2'), -6);
});

test('literals, dot paths and function calls', () => {
  assert.equal(show(parse('1.5e2 + .5')), '(+ 150 0.5)');
  assert.equal(show(parse('user.age * 2')), '(* user.age 2)');
  assert.equal(show(parse("if(x > 0, 'pos', null)")), '(if (> x 0) "pos" null)');
  assert.equal(show(parse('max(a, b, 1)')), '(max a b 1)');
  assert.equal(show(parse('coalesce(a, true)')), '(coalesce a true)');
});

test('parse errors name the problem and its position', () => {
  const cases: [string, number, RegExp][] = [
    ['', 0, /empty expression/],
    ['1 +', 3, /unexpected end of expression/],
    ['1 + * 2', 4, /unexpected '\*'/],
    ['(1 + 2', 6, /missing '\)'/],
    ['1 2', 2, /unexpected '2' after a complete expression/],
    ['foo(1)', 0, /unknown function 'foo'/],
    ['x + log(1, 2)', 4, /log\(\) takes 1 argument, got 2/],
    ['if(a, b)', 0, /if\(\) takes 3 arguments, got 2/],
    ['a < b < c', 6, /cannot be chained/],
    ['a = 1', 2, /did you mean '=='/],
    ["'abc", 0, /unterminated string/],
    ['a.', 1, /dot path/],
    ['2 $ 3', 2, /unexpected '\$'/],
    ['max(1,)', 6, /unexpected '\)'/],
    ['('.repeat(65) + '1' + ')'.repeat(65), 64, /nests deeper than 64 levels/],
    ['-'.repeat(65) + '1', 63, /nests deeper than 64 levels/],
    ['1' + '+1'.repeat(1000), 2000, /longer than 2000 characters/],
  ];
  for (const [source, position, message] of cases) {
    const error = parseError(source);
    assert.equal(error.position, position, `${source}: ${error.message}`);
    assert.match(error.message, message, source);
    assert.match(error.message, new RegExp(`at position ${position}$`), source);
  }
});

test('evaluates arithmetic, comparisons and every function', () => {
  assert.equal(evaluate('1 + 2 * 3'), 7);
  assert.equal(evaluate('(1 + 2) * 3'), 9);
  assert.equal(evaluate('sqrt(16) + abs(-3)'), 7);
  assert.equal(evaluate('min(3, 1, 2) + max(3, 1, 2)'), 4);
  assert.equal(evaluate('log(exp(2))'), 2);
  assert.equal(evaluate('exp(0)'), 1);
  assert.equal(evaluate('a >= 2', { a: 2 }), true);
  assert.equal(evaluate('a < 2', { a: 2 }), false);
  assert.equal(evaluate('plan == "premium"', { plan: 'premium' }), true);
  assert.equal(evaluate('plan != "premium"', { plan: 'basic' }), true);
  assert.equal(evaluate('if(a > 1, 10, 20)', { a: 2 }), 10);
  assert.equal(evaluate('if(a > 1, 10, 20)', { a: 0 }), 20);
  assert.equal(evaluate('coalesce(x, y, 5)', { y: 3 }), 3);
  assert.equal(evaluate('coalesce(x, y, 5)'), 5);
});

test('nulls propagate, except through coalesce and the branch if() does not take', () => {
  assert.equal(evaluate('x * 2'), null);
  assert.equal(evaluate('-x'), null);
  assert.equal(evaluate('max(1, x)'), null);
  assert.equal(evaluate('x > 1'), null);
  assert.equal(evaluate('if(x > 1, 1, 2)'), null);
  assert.equal(evaluate('coalesce(x)'), null);
  assert.equal(evaluate('if(a > 1, 10, 1 / 0)', { a: 2 }), 10);
  assert.deepEqual(
    evaluateExpression(parse('x * 2'), () => null),
    { value: null },
  );
});

test('refused values are null with a reason, never NaN or Infinity', () => {
  const cases: [string, RegExp][] = [
    ['1 / 0', /division by zero at position 2/],
    ['log(0)', /log\(\) of 0/],
    ['log(-1)', /log\(\) of -1/],
    ['sqrt(-4)', /sqrt\(\) of -4/],
    ['exp(1000)', /not a finite number/],
    ['1e308 * 10', /not a finite number/],
  ];
  for (const [source, reason] of cases) {
    const result = evaluateExpression(parse(source), () => null);
    assert.equal(result.value, null, source);
    assert.match(result.nullReason ?? '', reason, source);
  }
});
