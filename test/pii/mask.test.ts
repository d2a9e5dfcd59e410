import fc from 'fast-check';
import { derivePiiNonce, maskMessages, maskPii, rebasePlaceholders, restorePii, textForLog } from '../../lib/pii';
import type { Message } from '../../schemas/llm';
import { PiiEntity } from '../../schemas/validation';
import { nonce, textWithPii } from './pii-arbitraries';

const context = { nonce: 'k3f9x2ab' };

describe('maskPii', () => {
  it('replaces values with labelled, numbered, nonce-bearing placeholders', () => {
    const { masked, entities } = maskPii('Mail jane@example.com or call +1 555 123 4567.', {}, context);
    expect(masked).toBe('Mail [[EMAIL_1_k3f9x2ab]] or call [[PHONE_2_k3f9x2ab]].');
    expect(entities).toEqual([
      { kind: 'email', placeholder: '[[EMAIL_1_k3f9x2ab]]', value: 'jane@example.com' },
      { kind: 'phone', placeholder: '[[PHONE_2_k3f9x2ab]]', value: '+1 555 123 4567' },
    ]);
  });

  it('gives a repeated value one placeholder', () => {
    const { masked, entities } = maskPii('a@b.io, then a@b.io again', {}, context);
    expect(masked).toBe('[[EMAIL_1_k3f9x2ab]], then [[EMAIL_1_k3f9x2ab]] again');
    expect(entities).toHaveLength(1);
  });

  it('labels custom patterns by name', () => {
    const { masked } = maskPii('ticket EMP-123456', { custom: [{ name: 'employee_id', pattern: 'EMP-\\d{6}' }] }, context);
    expect(masked).toBe('ticket [[EMPLOYEE_ID_1_k3f9x2ab]]');
  });

  it('passes text through when disabled', () => {
    expect(maskPii('jane@example.com', { enabled: false }, context)).toEqual({ masked: 'jane@example.com', entities: [], nonce: 'k3f9x2ab' });
  });

  it('extends a nonce that the text already contains, so no user text can look like a placeholder', () => {
    const text = 'I typed [[EMAIL_1_k3f9x2ab]] myself; my address is jane@example.com';
    const result = maskPii(text, {}, context);
    expect(result.nonce).not.toBe('k3f9x2ab');
    expect(text).not.toContain(result.nonce);
    expect(restorePii(result.masked, result.entities)).toBe(text);
  });

  it('rejects a nonce that could break placeholder uniqueness', () => {
    expect(() => maskPii('x', {}, { nonce: '1234' })).toThrow(RangeError);
    expect(() => maskPii('x', {}, { nonce: 'AB_CD' })).toThrow(RangeError);
  });

  it('derives a valid, stable nonce from a call id', () => {
    expect(derivePiiNonce('call-1')).toBe(derivePiiNonce('call-1'));
    expect(derivePiiNonce('call-1')).not.toBe(derivePiiNonce('call-2'));
    expect(derivePiiNonce('call-1')).toMatch(/^[a-z][a-z0-9]{3,31}$/);
  });

  it('makes placeholders differ between requests', () => {
    const first = maskPii('jane@example.com', {}, { nonce: derivePiiNonce('call-1') });
    const second = maskPii('jane@example.com', {}, { nonce: derivePiiNonce('call-2') });
    expect(first.masked).not.toBe(second.masked);
  });
});

describe('maskPii laws', () => {
  it('restore(mask(x)) === x, and the masked text contains none of the PII values', () => {
    fc.assert(
      fc.property(textWithPii, nonce, ({ text, values }, requestNonce) => {
        const { masked, entities } = maskPii(text, {}, { nonce: requestNonce });
        expect(restorePii(masked, entities)).toBe(text);
        for (const value of values) expect(masked).not.toContain(value);
        expect(entities.map((entity) => entity.value).sort()).toEqual([...new Set(values)].sort());
      }),
      { numRuns: 300 },
    );
  });

  it('restore(mask(x)) === x for arbitrary Unicode text, placeholder look-alikes included', () => {
    const lookAlike = nonce.map((n) => `[[EMAIL_1_${n}]]`);
    const text = fc
      .array(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 30 }),
          lookAlike,
          fc.constant('[['),
          textWithPii.map((t) => t.text),
        ),
        { maxLength: 8 },
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, nonce, (x, requestNonce) => {
        const { masked, entities } = maskPii(x, {}, { nonce: requestNonce });
        expect(restorePii(masked, entities)).toBe(x);
      }),
      { numRuns: 300 },
    );
  });

  it('produces entities that survive a JSON round trip (activity boundaries)', () => {
    fc.assert(
      fc.property(textWithPii, ({ text }) => {
        const { entities } = maskPii(text, {}, context);
        expect(JSON.parse(JSON.stringify(entities)).map((e: unknown) => PiiEntity.parse(e))).toEqual(entities);
      }),
      { numRuns: 100 },
    );
  });
});

describe('maskMessages', () => {
  const messages: Message[] = [
    { role: 'system', content: 'Support desk. Escalations go to boss@corp.com.' },
    { role: 'user', content: 'I am jane@example.com, my card 4111 1111 1111 1111 was charged twice.' },
    { role: 'assistant', content: 'Looking it up.', toolCalls: [{ id: 't1', name: 'lookup', arguments: '{"email":"jane@example.com"}' }] },
    { role: 'tool', toolCallId: 't1', content: '{"owner":"jane@example.com","ip":"10.0.0.7"}' },
  ];

  it('masks every message, tool-call arguments included, with one placeholder per value', () => {
    const { messages: masked, entities } = maskMessages(messages, {}, context);
    expect(masked.map((m) => m.content)).toEqual([
      'Support desk. Escalations go to [[EMAIL_1_k3f9x2ab]].',
      'I am [[EMAIL_2_k3f9x2ab]], my card [[CARD_3_k3f9x2ab]] was charged twice.',
      'Looking it up.',
      '{"owner":"[[EMAIL_2_k3f9x2ab]]","ip":"[[IP_4_k3f9x2ab]]"}',
    ]);
    const assistant = masked[2];
    expect(assistant?.role === 'assistant' && assistant.toolCalls?.[0]?.arguments).toBe('{"email":"[[EMAIL_2_k3f9x2ab]]"}');
    expect(entities.map((e) => e.kind)).toEqual(['email', 'email', 'card', 'ip']);
  });

  it('leaves the input untouched and restores every message', () => {
    const copy = structuredClone(messages);
    const { messages: masked, entities } = maskMessages(messages, {}, context);
    expect(messages).toEqual(copy);
    expect(masked.map((m) => restorePii(m.content, entities))).toEqual(messages.map((m) => m.content));
  });

  it('chooses one nonce for all messages', () => {
    const withNonce: Message[] = [
      { role: 'user', content: 'a@b.io' },
      { role: 'user', content: 'mentions k3f9x2ab' },
    ];
    const result = maskMessages(withNonce, {}, context);
    expect(result.nonce).not.toBe('k3f9x2ab');
    expect(result.messages[0]?.content).toContain(result.nonce);
  });
});

describe('textForLog', () => {
  const text = { raw: 'jane@example.com', masked: '[[EMAIL_1_k3f9x2ab]]' };
  it.each([
    [{}, '[[EMAIL_1_k3f9x2ab]]'],
    [{ logMode: 'raw' as const }, 'jane@example.com'],
    [{ enabled: false }, 'jane@example.com'],
  ])('%j → %s', (config, expected) => {
    expect(textForLog(text, config)).toBe(expected);
  });
});

describe('rebasePlaceholders', () => {
  it('moves a cached masked answer onto the current request', () => {
    const cached = maskPii('Reply to jane@example.com', {}, { nonce: 'oldnonce' });
    const current = maskPii('Reply to bob@example.com', {}, { nonce: 'newnonce' });
    const answer = `Sent to ${cached.entities[0]?.placeholder}.`;
    expect(restorePii(rebasePlaceholders(answer, cached.nonce, current.nonce), current.entities)).toBe('Sent to bob@example.com.');
  });
});
