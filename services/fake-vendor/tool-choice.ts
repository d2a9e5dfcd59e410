/**
 * Which tool a fake model calls, in either dialect's terms once translated:
 * none, auto, required (Anthropic's `any`) or one named tool. Under `auto`
 * a model never calls a tool right after a tool result (a tool loop ends),
 * and a dialect may ask for the prompt's `[[tool]]` directive before it calls
 * one at all; `[[tool:name]]` picks among the tools, else the first is taken.
 */
import { parseDirectives } from './answers';
import type { VendorError } from './vendor-errors';

export type ToolChoice = 'none' | 'auto' | 'required' | { name: string };

export interface ToolChoiceRules<T> {
  nameOf: (tool: T) => string;
  lastUserText: string;
  afterToolResult: boolean;
  /** Under `auto`, call a tool only when the prompt says `[[tool]]`. */
  autoNeedsDirective: boolean;
  /** The dialect's error for a named tool that is not in `tools`. */
  unknownTool: (name: string) => VendorError;
}

export function chooseTool<T>(tools: readonly T[], choice: ToolChoice, rules: ToolChoiceRules<T>): { tool: T; forced: boolean } | VendorError | undefined {
  if (tools.length === 0 || choice === 'none') return undefined;
  if (typeof choice === 'object') {
    const tool = tools.find((t) => rules.nameOf(t) === choice.name);
    return tool === undefined ? rules.unknownTool(choice.name) : { tool, forced: true };
  }
  const directive = parseDirectives(rules.lastUserText).tool;
  if (choice === 'auto' && (rules.afterToolResult || (rules.autoNeedsDirective && directive === undefined))) return undefined;
  const tool = (typeof directive === 'string' ? tools.find((t) => rules.nameOf(t) === directive) : undefined) ?? tools[0];
  return tool === undefined ? undefined : { tool, forced: choice === 'required' };
}
