import { CacheConfig, defaultBoundsByKind, OutputValidation, PiiConfig, ValidationResult } from '../../schemas/validation';

describe('validation, PII and cache config schemas', () => {
  it('fills OutputValidation defaults', () => {
    expect(OutputValidation.parse({})).toEqual({ nonEmpty: true, contentKind: 'free', json: false, repairAttempts: 2, secondLook: false });
  });

  it('fills PiiConfig defaults: every built-in detector, masked logs', () => {
    expect(PiiConfig.parse({})).toEqual({ enabled: true, kinds: ['email', 'phone', 'card', 'iban', 'ip', 'national_id'], custom: [], logMode: 'masked' });
  });

  it('fills CacheConfig defaults, also inside a partly given block', () => {
    expect(CacheConfig.parse({})).toEqual({
      exact: { enabled: true, ttlMs: 3_600_000 },
      semantic: { enabled: false, threshold: 0.95, maxPromptChars: 500, embedder: 'local', embeddingModel: 'text-embedding-3-small' },
    });
    expect(CacheConfig.parse({ semantic: { enabled: true } }).semantic).toEqual({
      enabled: true,
      threshold: 0.95,
      maxPromptChars: 500,
      embedder: 'local',
      embeddingModel: 'text-embedding-3-small',
    });
  });

  it.each([
    [OutputValidation, { contentKind: 'tooltip' }, 'contentKind'],
    [OutputValidation, { repairAttempts: -1 }, 'repairAttempts'],
    [PiiConfig, { kinds: ['passport'] }, 'kinds.0'],
    [PiiConfig, { logMode: 'hashed' }, 'logMode'],
    [CacheConfig, { semantic: { threshold: 1.5 } }, 'semantic.threshold'],
    [CacheConfig, { exact: { ttlMs: 0 } }, 'exact.ttlMs'],
  ] as const)('names the bad field %#', (schema, input, path) => {
    const result = schema.safeParse(input);
    expect(result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });

  it('documents bounds for every content kind, buttons tightest', () => {
    expect(defaultBoundsByKind.button).toEqual({ maxWords: 4, maxChars: 30 });
    expect(defaultBoundsByKind.free).toEqual({});
  });

  it('rejects a failed ValidationResult without failures', () => {
    expect(ValidationResult.safeParse({ ok: false, failures: [] }).success).toBe(false);
  });
});
