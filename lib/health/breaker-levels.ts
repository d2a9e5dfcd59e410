/**
 * Breakers exist at two levels: one per upstream (the account: 401/403,
 * billing, quota, a locked account eject every model of it at once) and one
 * per (upstream, model) (a model or deployment that fails while the rest of
 * the account works). Each has a key, used for its KV entry, its supervisor's
 * workflow id, its event subject and its probe slots:
 *
 * - account level: `<upstreamId>` (e.g. `openai/org-a`) — the key every
 *   breaker had before models had breakers of their own, so existing KV
 *   entries and supervisors carry on as account-level breakers;
 * - model level: `<upstreamId>/<model token>`, the model with every character
 *   outside `A-Z a-z 0-9 _ -` written as `=` and two hex digits per UTF-8
 *   byte (`gpt-4.1` → `gpt-4=2E1`), so keys stay valid KV keys, single NATS
 *   subject tokens and workflow-id parts, and never meet: an upstream id has
 *   exactly one `/`.
 */
import type { BreakerState, TripSignal } from '../../schemas/health';

const PLAIN = /^[A-Za-z0-9_-]$/;

export function modelToken(model: string): string {
  let token = '';
  for (const char of model) {
    if (PLAIN.test(char)) token += char;
    else for (const byte of new TextEncoder().encode(char)) token += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return token;
}

/** The breaker key of `upstream`'s account (no model) or of one of its models. */
export function breakerKeyOf(upstream: string, model?: string): string {
  return model === undefined ? upstream : `${upstream}/${modelToken(model)}`;
}

/** The upstream id a breaker key belongs to (its first two `/`-separated parts). */
export function upstreamOfKey(key: string): string {
  const [provider, name] = key.split('/');
  return name === undefined ? key : `${provider}/${name}`;
}

/** True for a model-level key. */
export function isModelKey(key: string): boolean {
  return key.split('/').length > 2;
}

/** The model of a model-level key (`modelToken` reversed), undefined for an upstream's own key. */
export function modelOfKey(key: string): string | undefined {
  const token = key.split('/')[2];
  if (token === undefined) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '=') {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(token.charCodeAt(i));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** The key of the breaker a trip signal is for. */
export function breakerKeyOfSignal(signal: Pick<TripSignal, 'upstream' | 'model' | 'scope'>): string {
  return signal.scope === 'model' && signal.model !== undefined ? breakerKeyOf(signal.upstream, signal.model) : signal.upstream;
}

/** The key of a breaker state. */
export function breakerKeyOfState(state: Pick<BreakerState, 'upstream' | 'model'>): string {
  return breakerKeyOf(state.upstream, state.model);
}

const severity: Record<BreakerState['state'], number> = { closed: 0, forced_closed: 1, half_open: 2, open: 3, forced_open: 4 };

/**
 * What a pick of one model on an upstream obeys: the stricter of the
 * upstream's own breaker and that model's (forced_open, then open — the later
 * reopen —, then half_open — the account's first —, then forced_closed).
 * Undefined when neither was ever written (closed).
 */
export function effectiveBreaker(account: BreakerState | undefined, model: BreakerState | undefined): BreakerState | undefined {
  if (!account || !model) return account ?? model;
  const a = severity[account.state];
  const m = severity[model.state];
  if (a !== m) return a > m ? account : model;
  if (account.state === 'open' && (model.reopenAt ?? 0) > (account.reopenAt ?? 0)) return model;
  return account;
}
