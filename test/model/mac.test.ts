import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseMac } from '../../src/model/index.js';

describe('normaliseMac', () => {
  it('zero-pads the firmware form', () => {
    assert.equal(normaliseMac('60:1:94:2E:CE:EB'), '60:01:94:2E:CE:EB');
    assert.equal(normaliseMac('1:2:3:4:5:6'), '01:02:03:04:05:06');
    assert.equal(normaliseMac('A0:B7:65:1:2:3'), 'A0:B7:65:01:02:03');
  });

  it('upper-cases and keeps canonical input', () => {
    assert.equal(normaliseMac('60:01:94:2e:ce:eb'), '60:01:94:2E:CE:EB');
    assert.equal(normaliseMac('60:01:94:2E:CE:EB'), '60:01:94:2E:CE:EB');
  });

  it('accepts - separators and 12 bare hex digits', () => {
    assert.equal(normaliseMac('60-01-94-2e-ce-eb'), '60:01:94:2E:CE:EB');
    assert.equal(normaliseMac('60-1-94-2E-CE-EB'), '60:01:94:2E:CE:EB');
    assert.equal(normaliseMac('6001942ECEEB'), '60:01:94:2E:CE:EB');
    assert.equal(normaliseMac('18fe349cb4c1'), '18:FE:34:9C:B4:C1');
  });

  it('ignores surrounding blanks', () => {
    assert.equal(normaliseMac(' 60:1:94:2E:CE:EB\n'), '60:01:94:2E:CE:EB');
  });

  it('rejects everything else', () => {
    for (const s of [
      '',
      '60:01:94:2E:CE',
      '60:01:94:2E:CE:EB:00',
      '60:01:94:2E:CE:EB:',
      ':60:01:94:2E:CE:EB',
      '60::01:94:2E:CE:EB',
      '600:1:94:2E:CE:EB',
      '60:01-94:2E:CE:EB',
      '60.01.94.2E.CE.EB',
      '60:01:94:2E:CE:EG',
      '60 01 94 2E CE EB',
      '60019 42ECEEB',
      '60019442ECEEBB',
      '60019442ECE',
      'GG:01:94:2E:CE:EB',
    ]) {
      assert.equal(normaliseMac(s), null, JSON.stringify(s));
    }
    assert.equal(normaliseMac(42 as unknown as string), null);
  });
});
