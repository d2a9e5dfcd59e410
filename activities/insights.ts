/**
 * Activities of the insights job: analyse a period's judged interactions,
 * then deliver the report (NATS `sb.insights`, a Markdown file, an optional
 * webhook) — each delivery its own activity, so a failing webhook is retried
 * without publishing or writing twice.
 */
import { resolve } from 'node:path';
import { JSONCodec, type NatsConnection } from 'nats';
import { findRejectionClusters, type InsightReport } from '../lib/insights/clusters';
import { postReportWebhook, reportFileName, writeReportFile } from '../lib/insights/publish';
import type { NamingTarget } from '../lib/insights/naming';
import { loadJudgedInteractions } from '../lib/interactions/load';
import type { Logger } from '../lib/log';
import type { SwitchboardConfig } from '../schemas/config';
import type { ClusterNaming } from '../schemas/insights';
import { INSIGHTS_SUBJECT } from '../contracts/names';

export interface InsightsActivityDeps {
  nats: NatsConnection;
  config: () => SwitchboardConfig;
  log: Logger;
  /** Where the insights report is POSTed; default none (off). */
  webhookUrl?: string;
}

const DAY_MS = 86_400_000;

export interface AnalyseInput {
  /** The period's end (the workflow's start time). */
  untilMs: number;
  sinceMs?: number;
  days?: number;
  tenant?: string;
}

export interface Analysis {
  period: { from: number; to: number };
  tenant?: string;
  report: InsightReport;
  interactions: number;
  truncated: boolean;
  /** Set when `insights.naming` is on: where the naming calls go. */
  naming?: NamingTarget;
  webhook: boolean;
}

/** What is published on `sb.insights` and sent to the webhook. */
export interface PublishedReport {
  period: { from: number; to: number };
  tenant: string | null;
  truncated: boolean;
  report: InsightReport;
  namings: Array<ClusterNaming | null>;
  markdown: string;
}

const codec = JSONCodec<PublishedReport>();

export function createInsightsActivities({ nats, config, log, webhookUrl }: InsightsActivityDeps) {
  return {
    /**
     * Loads the period's judged interactions and clusters the rejected ones.
     * Clustering runs here, not in the workflow: the interactions (prompts
     * and answers) would be megabytes of workflow history; the report is small.
     */
    async analyseRejections(input: AnalyseInput): Promise<Analysis> {
      const settings = config().insights;
      const tenant = input.tenant ?? settings.tenant;
      const period = { from: input.sinceMs ?? input.untilMs - (input.days ?? settings.periodDays) * DAY_MS, to: input.untilMs };
      const loaded = await loadJudgedInteractions(nats, {
        ...(tenant ? { tenant } : {}),
        sinceMs: period.from,
        untilMs: period.to,
        maxInteractions: settings.maxInteractions,
      });
      const report = findRejectionClusters(loaded.interactions, settings.clusters);
      log.info({ tenant, interactions: loaded.interactions.length, judged: report.judged, clusters: report.clusters.length }, 'insights: analysed the period');
      return {
        period,
        ...(tenant ? { tenant } : {}),
        report,
        interactions: loaded.interactions.length,
        truncated: loaded.truncated,
        ...(settings.naming.enabled && settings.naming.route ? { naming: { route: settings.naming.route, tenant: settings.naming.tenant } } : {}),
        webhook: webhookUrl !== undefined,
      };
    },

    /** Publishes the report as JSON on core NATS `sb.insights` (for whoever listens: dashboards, bots). */
    async publishInsightsReport(report: PublishedReport): Promise<void> {
      nats.publish(INSIGHTS_SUBJECT, codec.encode(report));
      await nats.flush();
    },

    /** Writes the Markdown to `insights.reportDir`; returns the absolute path. */
    async writeInsightsReport(input: { markdown: string; periodEndMs: number; tenant?: string }): Promise<string> {
      const path = resolve(reportFileName(config().insights.reportDir, input.periodEndMs, input.tenant));
      await writeReportFile(path, input.markdown);
      return path;
    },

    async postInsightsReport(report: PublishedReport): Promise<void> {
      if (!webhookUrl) throw new Error('no insights webhook is configured (insights.webhookUrlEnv)');
      await postReportWebhook(webhookUrl, report.markdown, report);
    },
  };
}

export type InsightsActivities = ReturnType<typeof createInsightsActivities>;
