// MLflow's registry search filters as its clients write them: known answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesAll, offsetOf, pageTokenOf, parseFilter } from '../src/mlflow/mlflow-filter';

const parsed = (filter: string, attributes = ['name', 'run_id']) => {
  const result = parseFilter(filter, attributes);
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  return result.value;
};

test('the filter search_registered_models sends: a name clause AND the prompt tag clause, backquoted', () => {
  assert.deepEqual(parsed("name LIKE 'churn%' AND tag.`mlflow.prompt.is_prompt` != 'true'"), [
    { key: 'name', kind: 'attribute', op: 'LIKE', values: ['churn%'] },
    { key: 'mlflow.prompt.is_prompt', kind: 'tag', op: '!=', values: ['true'] },
  ]);
});

test("quotes: single or double, doubled quotes inside; IN lists; `name='x'` without spaces", () => {
  assert.deepEqual(parsed(`name='it''s'`)[0]?.values, ["it's"]);
  assert.deepEqual(parsed(`run_id IN ("a", 'b')`)[0], {
    key: 'run_id',
    kind: 'attribute',
    op: 'IN',
    values: ['a', 'b'],
  });
  assert.deepEqual(parsed('tags.team = "risk"')[0], { key: 'team', kind: 'tag', op: '=', values: ['risk'] });
});

test('LIKE is case sensitive with % and _, ILIKE is not; an absent tag only satisfies != and NOT IN', () => {
  const model = { name: 'Churn_v2', tags: {} as Record<string, string> };
  const holds = (filter: string) =>
    matchesAll(parsed(filter), (c) => (c.kind === 'tag' ? model.tags[c.key] : model.name));
  assert.equal(holds("name LIKE 'Churn%'"), true);
  assert.equal(holds("name LIKE 'churn%'"), false);
  assert.equal(holds("name ILIKE 'churn%'"), true);
  assert.equal(holds("name LIKE 'Churn_v_'"), true);
  assert.equal(holds("name LIKE 'Churn.v2'"), false);
  assert.equal(holds("tags.team != 'risk'"), true);
  assert.equal(holds("tags.team = 'risk'"), false);
  assert.equal(holds("tags.team NOT IN ('risk')"), true);
});

test('refused: an unknown attribute, a clause without a value, OR, a list for =', () => {
  for (const filter of ["params.x = '1'", 'name =', "name = 'a' OR name = 'b'", "name = ('a')"]) {
    const result = parseFilter(filter, ['name']);
    assert.equal(result.ok, false, filter);
    assert.equal(result.ok ? '' : result.error.kind, 'invalid_parameter');
  }
});

test('page tokens round-trip; a forged one is refused', () => {
  const offset = offsetOf(pageTokenOf(40));
  assert.deepEqual(offset, { ok: true, value: 40 });
  assert.equal(offsetOf('not-a-token').ok, false);
  assert.deepEqual(offsetOf(undefined), { ok: true, value: 0 });
});
