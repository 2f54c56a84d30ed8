import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { co2Setup, loadCo2, loadSeattleTemp, seattleSetup } from '../../examples/forecast.js';
import { parseCsv, readLabelled } from '../../examples/sentiment.js';
import { binaryMetrics, loadSpamAssassin, splitStratified } from '../../examples/spam.js';

describe('example data and helpers', () => {
  test('binaryMetrics on a hand-worked confusion matrix', () => {
    // tp 2 (0.9, 0.6), fp 1 (0.7), fn 1 (0.2), tn 2
    const m = binaryMetrics([0.9, 0.6, 0.7, 0.2, 0.1, 0.3], [true, true, false, true, false, false]);
    assert.equal(m.accuracy, 4 / 6);
    assert.equal(m.precision, 2 / 3);
    assert.equal(m.recall, 2 / 3);
    assert.ok(Math.abs(m.f1 - 2 / 3) < 1e-12);
  });

  test('CSV parser: quotes, doubled quotes, embedded commas and newlines', () => {
    assert.deepEqual(parseCsv('text,label\n"a, b",1\n"say ""hi""\nthere",0\r\nplain,1'), [
      ['text', 'label'],
      ['a, b', '1'],
      ['say "hi"\nthere', '0'],
      ['plain', '1'],
    ]);
  });

  test('the shipped hand-labelled sentiment sets are balanced', () => {
    const train = readLabelled(new URL('../../examples/data/sentiment-train.csv', import.meta.url).pathname);
    const test = readLabelled(new URL('../../examples/data/sentiment-test.csv', import.meta.url).pathname);
    assert.equal(train.texts.length, 120);
    assert.equal(train.labels.filter((l) => l).length, 60);
    assert.equal(test.texts.length, 32);
    assert.equal(test.labels.filter((l) => l).length, 16);
    const seen = new Set(train.texts);
    assert.ok(
      test.texts.every((t) => !seen.has(t)),
      'test sentences are not in the training set',
    );
  });

  test('SpamAssassin loader: counts, labels, headers dropped; stratified split', () => {
    const emails = loadSpamAssassin();
    assert.equal(emails.length, 6046);
    assert.equal(emails.filter((e) => e.spam).length, 1896);
    // the top-level headers are dropped (a few bodies quote bounced messages with their headers)
    assert.ok(emails.filter((e) => /^Received:/m.test(e.text)).length < 20, 'routing headers are not in the text');
    assert.ok(emails.every((e) => !e.text.startsWith('From ')));
    const [train, test] = splitStratified(emails, 0.2, 7);
    assert.equal(train.length + test.length, 6046);
    assert.equal(test.filter((e) => e.spam).length, Math.round(1896 * 0.2));
    const [train2] = splitStratified(emails, 0.2, 7);
    assert.deepEqual(
      train2.slice(0, 5).map((e) => e.text),
      train.slice(0, 5).map((e) => e.text),
    );
  });

  test('forecast data and the seasonal-naive baselines', () => {
    const co2 = loadCo2();
    assert.ok(co2.length > 700 && co2.every((v) => v > 300 && v < 450));
    const s = co2Setup(1);
    const n = co2.length;
    // seasonal naive of the last month is the value 12 months before
    assert.equal(s.naive(n - 1), co2[n - 13]);
    assert.equal(s.toForecast(n - 1, 2.5), (co2[n - 13] as number) + 2.5);
    assert.ok(Math.abs((s.inputs[n - 1] as number) - ((co2[n - 1] as number) - (co2[n - 13] as number))) < 1e-9);
    const temps = loadSeattleTemp();
    assert.equal(temps.length, 1461);
    assert.equal(seattleSetup(1).naive(1460), temps[1460 - 365]);
  });
});
