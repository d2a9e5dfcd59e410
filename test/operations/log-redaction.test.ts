import { Writable } from 'node:stream';
import { createLogger } from '../../lib/log';

describe('log redaction', () => {
  it('blanks API keys and authorization headers wherever a careless log call puts them', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ level: 'debug', destination });
    log.info({ apiKey: 'sk-live-AAAA1111' }, 'top level');
    log.info({ upstream: { id: 'openai/org-a', apiKey: 'sk-live-BBBB2222' } }, 'nested');
    log.info({ request: { headers: { authorization: 'Bearer sk-live-CCCC3333', 'x-api-key': 'sk-ant-DDDD4444' } } }, 'headers');
    const output = lines.join('');
    expect(lines).toHaveLength(3);
    for (const secret of ['sk-live-AAAA1111', 'sk-live-BBBB2222', 'sk-live-CCCC3333', 'sk-ant-DDDD4444']) expect(output).not.toContain(secret);
    expect(output.match(/\[redacted\]/g)).toHaveLength(4);
  });
});
