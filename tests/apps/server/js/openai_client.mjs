// Drives a running `pocket serve` with the official OpenAI Node client, unchanged:
//   node openai_client.mjs BASE_URL API_KEY IMAGE_FILE TOOLS_BASE_URL
// (BASE_URLs like http://127.0.0.1:PORT/v1; TOOLS_BASE_URL serves a model with a tool-call
// format, without an API key). Exits 0 and prints "ALL OK" when every check
// passes; otherwise prints the failure and exits 1. Run by tests/apps/server/test_server_js.cpp.
import OpenAI from 'openai';
import { readFileSync } from 'node:fs';

const [baseURL, apiKey, imageFile, toolsURL] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20000 });

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok: ${what}`);
}

async function expectStatus(promise, status, what) {
  try {
    await promise;
  } catch (e) {
    check(e instanceof OpenAI.APIError && e.status === status, `${what} -> ${status} (got ${e.status}: ${e.message})`);
    check(typeof e.error?.message === 'string' && typeof e.error?.type === 'string', `${what}: OpenAI error object`);
    return;
  }
  throw new Error(`${what}: expected HTTP ${status}, got success`);
}

async function main() {
  const models = await client.models.list();
  check(models.data.length === 1 && typeof models.data[0].id === 'string', 'models.list');
  const model = models.data[0].id;

  const messages = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello.' }];
  const chat = await client.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0, seed: 1 });
  const choice = chat.choices[0];
  check(chat.object === 'chat.completion' && choice.message.role === 'assistant', 'chat.completions.create shape');
  check(typeof choice.message.content === 'string' && choice.message.content.length > 0, 'chat content');
  check(choice.finish_reason === 'length' || choice.finish_reason === 'stop', `finish_reason ${choice.finish_reason}`);
  check(chat.usage.completion_tokens <= 12 && chat.usage.prompt_tokens > 0 &&
        chat.usage.total_tokens === chat.usage.prompt_tokens + chat.usage.completion_tokens, 'usage');

  // Streaming gives the same greedy text, chunk by chunk, plus the usage chunk.
  const stream = await client.chat.completions.create({
    model, messages, max_tokens: 12, temperature: 0, seed: 1, stream: true, stream_options: { include_usage: true },
  });
  let text = '', finish = null, usage = null, chunks = 0, objects = true;
  for await (const chunk of stream) {
    ++chunks;
    objects = objects && chunk.object === 'chat.completion.chunk';
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta?.content ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  check(objects, 'every chunk is a chat.completion.chunk');
  check(chunks >= 3 && text === choice.message.content, 'stream text equals the non-streamed text');
  check(finish === choice.finish_reason && usage && usage.completion_tokens === chat.usage.completion_tokens, 'stream finish + usage');

  // Legacy completions.
  const comp = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 5, temperature: 0 });
  check(comp.object === 'text_completion' && typeof comp.choices[0].text === 'string', 'completions.create');

  // response_format json_object yields a JSON object.
  const js = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'JSON please' }], max_tokens: 24, temperature: 0,
    response_format: { type: 'json_object' },
  });
  const parsed = JSON.parse(js.choices[0].message.content);
  check(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), 'json_object content parses as an object');

  // response_format json_schema through the client's parse() helper (message.parsed).
  const verdict = {
    type: 'object', additionalProperties: false, required: ['answer', 'n'],
    properties: { answer: { enum: ['yes', 'no'] }, n: { type: 'integer', minimum: 0, maximum: 9 } },
  };
  for (const temperature of [0, 1]) {
    const pc = await client.chat.completions.parse({
      model, messages: [{ role: 'user', content: 'Yes or no?' }], max_tokens: 30, temperature, seed: 3,
      response_format: { type: 'json_schema', json_schema: { name: 'verdict', strict: true, schema: verdict } },
    });
    const v = pc.choices[0].message.parsed;
    check(v !== null && (v.answer === 'yes' || v.answer === 'no') && Number.isInteger(v.n) && v.n >= 0 && v.n <= 9 &&
          Object.keys(v).length === 2, `json_schema parse() helper at temperature ${temperature}: ${JSON.stringify(v)}`);
  }
  await expectStatus(client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'x' }], max_tokens: 30,
    response_format: { type: 'json_schema', json_schema: { name: 'v', schema: { type: 'string', format: 'hostname' } } },
  }), 400, 'unsupported schema keyword');

  // An image as a data: URI.
  const b64 = readFileSync(imageFile).toString('base64');
  const img = await client.chat.completions.create({
    model, max_tokens: 4, temperature: 0,
    messages: [{ role: 'user', content: [
      { type: 'image_url', image_url: { url: `data:image/png;base64,${b64}` } },
      { type: 'text', text: 'What is in the image?' }] }],
  });
  check(img.usage.prompt_tokens > chat.usage.prompt_tokens + 20, 'image tokens counted in the prompt');

  // Errors arrive as APIError with OpenAI's error object.
  await expectStatus(client.chat.completions.create({ model, messages: [], max_tokens: 4 }), 400, 'empty messages');
  await expectStatus(client.chat.completions.create({ model, messages, max_tokens: 100000000 }), 400, 'max_tokens over the limit');
  await expectStatus(client.chat.completions.create({ model, messages, n: 17 }), 400, 'n over the limit');

  // n choices: one per index, each reproducible alone with the seed + its index.
  const sampled = { model, messages, max_tokens: 8, temperature: 1, seed: 40 };
  const many = await client.chat.completions.create({ ...sampled, n: 3 });
  check(many.choices.length === 3 && many.choices.every((c, i) => c.index === i), 'n = 3: three choices, indexed');
  let completion = 0;
  for (let i = 0; i < 3; ++i) {
    const one = await client.chat.completions.create({ ...sampled, seed: 40 + i });
    check(one.choices[0].message.content === many.choices[i].message.content,
          `choice ${i} equals a single request with seed ${40 + i}: ${JSON.stringify(one.choices[0].message.content)}`);
    completion += one.usage.completion_tokens;
  }
  check(many.usage.completion_tokens === completion && many.usage.prompt_tokens === chat.usage.prompt_tokens,
        'n = 3 usage: the prompt once, the completions summed');
  // Streamed: every chunk names its choice; each choice ends with its own finish_reason.
  const texts = ['', ''];
  const finishes = [null, null];
  for await (const chunk of await client.chat.completions.create({ ...sampled, n: 2, stream: true })) {
    for (const c of chunk.choices) {
      texts[c.index] += c.delta.content ?? '';
      if (c.finish_reason) finishes[c.index] = c.finish_reason;
    }
  }
  check(texts[0] === many.choices[0].message.content && texts[1] === many.choices[1].message.content,
        'streamed n = 2 equals the first two non-streamed choices');
  check(finishes.every((f) => f === 'stop' || f === 'length'), 'each streamed choice finishes');
  const wrongKey = new OpenAI({ baseURL, apiKey: 'wrong-key', maxRetries: 0 });
  await expectStatus(wrongKey.models.list(), 401, 'wrong API key');

  // Tool calls (forced by name, and streamed).
  const tools = new OpenAI({ baseURL: toolsURL, apiKey: 'unused', maxRetries: 0, timeout: 20000 });
  const toolDefs = [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  const tc = await tools.chat.completions.create({
    model: 'any', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: toolDefs,
    tool_choice: { type: 'function', function: { name: 'get_weather' } }, max_tokens: 40, temperature: 0,
  });
  const call = tc.choices[0].message.tool_calls?.[0];
  check(tc.choices[0].finish_reason === 'tool_calls' && call?.type === 'function' && call.function.name === 'get_weather',
        'forced tool call');
  const args = JSON.parse(call.function.arguments);
  check(typeof args === 'object' && !Array.isArray(args) && typeof call.id === 'string' && call.id.length > 0, 'tool call arguments + id');
  const ts = await tools.chat.completions.create({
    model: 'any', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: toolDefs, tool_choice: 'required',
    max_tokens: 40, temperature: 0, stream: true,
  });
  let streamedName = null, streamedFinish = null;
  for await (const chunk of ts) {
    for (const c of chunk.choices) {
      for (const t of c.delta?.tool_calls ?? []) streamedName = t.function?.name ?? streamedName;
      if (c.finish_reason) streamedFinish = c.finish_reason;
    }
  }
  check(streamedName === 'get_weather' && streamedFinish === 'tool_calls', 'streamed tool call');

  // The client's streaming helper assembles the call from its deltas (head, then argument
  // fragments) into the same call as the non-streamed answer.
  const req = {
    model: 'any', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: toolDefs, tool_choice: 'required',
    max_tokens: 40, temperature: 0,
  };
  const whole = await tools.chat.completions.create(req);
  const runner = tools.chat.completions.stream(req);
  const deltas = [];
  runner.on('tool_calls.function.arguments.delta', (e) => deltas.push(e.arguments_delta));
  const assembled = await runner.finalChatCompletion();
  const a = assembled.choices[0].message.tool_calls?.[0], w = whole.choices[0].message.tool_calls[0];
  check(a && a.function.name === w.function.name && a.function.arguments === w.function.arguments &&
        assembled.choices[0].finish_reason === 'tool_calls', `stream() helper assembles the call: ${JSON.stringify(a)}`);

  // A strict function: parse() gives the arguments parsed, and they meet its schema.
  const strictDefs = [{ type: 'function', function: { name: 'book', strict: true, parameters: {
    type: 'object', additionalProperties: false, required: ['seats', 'day'],
    properties: { seats: { type: 'integer', minimum: 1, maximum: 4 }, day: { enum: ['mon', 'tue'] } } } } }];
  const sp = await tools.chat.completions.parse({
    model: 'any', messages: [{ role: 'user', content: 'Book a table' }], tools: strictDefs, tool_choice: 'required',
    max_tokens: 40, temperature: 1, seed: 2,
  });
  const pa = sp.choices[0].message.tool_calls?.[0]?.function?.parsed_arguments;
  check(pa && Number.isInteger(pa.seats) && pa.seats >= 1 && pa.seats <= 4 && (pa.day === 'mon' || pa.day === 'tue'),
        `strict tool parsed_arguments: ${JSON.stringify(pa)}`);
  console.log('ALL OK');
}

main().catch((e) => {
  console.error(`FAILED: ${e.stack || e}`);
  process.exit(1);
});
