/**
 * The site planner, the chain this layer was first built for: interview
 * answers → a site map (pages, their sections and the goal of each) → per
 * page, a wireframe with the content of every section (fan-out) → a launch
 * checklist → the assembled plan. Sized by the input: `pageCount` pages make
 * pageCount + 2 calls, so a large site is hundreds of calls.
 */
import { z } from 'zod';
import type { ChainDefinition, ChainDefinitionInput } from '../../schemas/chain';
import { ChainDefinition as ChainDefinitionSchema } from '../../schemas/chain';

const SITE_PLANNER = 'site-planner';

/** The interview a customer answers before planning. */
export const SiteInterview = z.object({
  business: z.string().min(1).max(500),
  audience: z.string().min(1).max(500),
  goals: z.array(z.string().min(1).max(200)).min(1).max(10),
  tone: z.string().max(100).optional(),
  /** How many pages the site should have. */
  pageCount: z.number().int().min(1).max(500),
});
export type SiteInterview = z.infer<typeof SiteInterview>;

export const SiteMap = z.object({
  siteName: z.string(),
  pages: z.array(
    z.object({
      slug: z.string(),
      title: z.string(),
      goal: z.string(),
      sections: z
        .array(z.object({ name: z.string(), goal: z.string() }))
        .min(2)
        .max(5),
    }),
  ),
});
export type SiteMap = z.infer<typeof SiteMap>;

export const Wireframe = z.object({
  title: z.string(),
  layout: z.enum(['hero-and-grid', 'long-form', 'split', 'gallery', 'form']),
  sections: z
    .array(z.object({ name: z.string(), heading: z.string(), body: z.string(), callToAction: z.string() }))
    .min(1)
    .max(5),
});
export type Wireframe = z.infer<typeof Wireframe>;

export const LaunchChecklist = z.object({ items: z.array(z.string()).min(3).max(8) });

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-7' }) as Record<string, unknown>;
}

/** The site map's schema with the page count fixed from the input (a JSON template, rendered per run). */
function siteMapSchema(): Record<string, unknown> {
  const schema = jsonSchema(SiteMap) as { properties: { pages: Record<string, unknown> } };
  schema.properties.pages = { ...schema.properties.pages, minItems: '{{input.pageCount}}', maxItems: '{{input.pageCount}}' };
  return schema;
}

/** The site planner on `route`, with at most `maxConcurrency` calls in flight. */
export function sitePlannerChain(options: { route?: string; maxConcurrency?: number } = {}): ChainDefinition {
  const definition: ChainDefinitionInput = {
    name: SITE_PLANNER,
    description: 'Interview answers → site map → a wireframe with content per page → launch checklist.',
    route: options.route ?? 'site-planner',
    input: jsonSchema(SiteInterview),
    maxConcurrency: options.maxConcurrency ?? 16,
    steps: [
      {
        id: 'siteMap',
        system: 'You are an information architect. You plan websites that meet business goals.',
        prompt: [
          'Plan the site map of a website with exactly {{input.pageCount}} pages.',
          'Business: {{input.business}}',
          'Audience: {{input.audience}}',
          'Goals: {{input.goals}}',
          'For each page give a slug, a title, its goal and 2 to 5 sections with the goal of each.',
        ].join('\n'),
        output: { name: 'site_map', schema: siteMapSchema() },
      },
      {
        id: 'wireframes',
        system: 'You are a UX writer. You write wireframes with final copy, in the tone the client asked for.',
        prompt: [
          'Site: {{steps.siteMap.siteName}} for {{input.business}} (audience: {{input.audience}}).',
          'Page {{index}}: {{item.title}} (/{{item.slug}}). Goal: {{item.goal}}',
          'Sections: {{item.sections}}',
          'Write the wireframe of this page: a layout and, for each section, a heading, body copy and a call to action.',
        ].join('\n'),
        output: { name: 'wireframe', schema: jsonSchema(Wireframe) },
        forEach: { from: 'steps.siteMap.pages' },
      },
      {
        id: 'launchChecklist',
        after: ['wireframes'],
        prompt: 'The site {{steps.siteMap.siteName}} has {{input.pageCount}} pages and serves these goals: {{input.goals}}. List what to check before launch.',
        output: { name: 'launch_checklist', schema: jsonSchema(LaunchChecklist) },
      },
    ],
    result: {
      siteName: '{{steps.siteMap.siteName}}',
      siteMap: '{{steps.siteMap}}',
      pages: '{{steps.wireframes}}',
      launchChecklist: '{{steps.launchChecklist.items}}',
    },
  };
  return ChainDefinitionSchema.parse(definition);
}
