/**
 * Demo part 2: the same machinery behind an OpenAI-compatible endpoint — the
 * official `openai` client pointed at the gateway, plain and streamed.
 */
import OpenAI from 'openai';

export async function demoGateway(options: { gatewayUrl: string; apiKey: string; say: (line: string) => void }): Promise<void> {
  const { say } = options;
  const openai = new OpenAI({ baseURL: `${options.gatewayUrl}/v1`, apiKey: options.apiKey, maxRetries: 0 });
  say(`the official openai client, baseURL ${options.gatewayUrl}/v1, model = a Switchboard route`);
  const { data, response } = await openai.chat.completions
    .create({ model: 'chat-default', messages: [{ role: 'user', content: 'A tagline for a bike repair shop' }], user: 'demo-user-1' })
    .withResponse();
  say(`  ${data.model} answered via ${response.headers.get('x-switchboard-upstream')}: "${(data.choices[0]?.message.content ?? '').slice(0, 60)}…"`);
  say(`  call id ${response.headers.get('x-switchboard-call-id')} — the same workflow id in the Temporal UI`);

  const stream = await openai.chat.completions.create({
    model: 'chat-default',
    messages: [{ role: 'user', content: 'Three words about fresh bread' }],
    stream: true,
    stream_options: { include_usage: true },
    user: 'demo-user-1',
  });
  let chunks = 0;
  let text = '';
  let usage = '';
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta.content;
    if (delta) {
      chunks++;
      text += delta;
    }
    if (chunk.usage) usage = `${chunk.usage.prompt_tokens}+${chunk.usage.completion_tokens} tokens`;
  }
  say(`  streamed ${chunks} chunks (${usage}): "${text.slice(0, 60)}…"`);
  try {
    await new OpenAI({ baseURL: `${options.gatewayUrl}/v1`, apiKey: 'sk-wrong', maxRetries: 0 }).chat.completions.create({
      model: 'chat-default',
      messages: [{ role: 'user', content: 'hi' }],
    });
  } catch (error) {
    say(`  a wrong API key gets HTTP ${(error as { status?: number }).status} with an OpenAI-style error body`);
  }
}
