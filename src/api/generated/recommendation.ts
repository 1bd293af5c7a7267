/* Generated from crds/paved.dev_recommendations.yaml by `npm run gen:types`. Do not edit. */
import type { V1ObjectMeta } from '@kubernetes/client-node';

/**
 * Rightsizing's recommendation for one WebService (docs/rightsizing.md).
 */
export interface Recommendation {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec: {
    webService: string;
    mode: 'recommend' | 'auto';
    /**
     * The requests the WebService renders with (absent - the spec's own); set by an apply, restored by a rollback.
     */
    applied?: {
      since?: string;
      /**
       * @maxItems 16
       */
      containers?: {
        name: string;
        cpu?: string;
        memory?: string;
      }[];
      /**
       * What was applied before (absent - the spec's own requests); restored by a rollback.
       */
      previous?: {
        /**
         * @maxItems 16
         */
        containers?: {
          name: string;
          cpu?: string;
          memory?: string;
        }[];
      };
    };
  };
  status?: {
    state?:
      | 'Collecting'
      | 'Recommended'
      | 'Stable'
      | 'Applying'
      | 'Applied'
      | 'Watching'
      | 'RolledBack'
      | 'HeldBack';
    reason?: string;
    message?: string;
    /**
     * When the state last changed.
     */
    since?: string;
    lastRunTime?: string;
    team?: string;
    daysOfData?: number;
    daysNeeded?: number;
    stableDays?: number;
    projectedMonthlySavings?: number;
    currency?: string;
    watchUntil?: string;
    holdUntil?: string;
    lastRollback?: {
      time?: string;
      reason?: string;
      message?: string;
    };
    /**
     * @maxItems 16
     */
    containers?: {
      name: string;
      current?: {
        cpu?: string;
        memory?: string;
      };
      recommended?: {
        cpu?: string;
        memory?: string;
      };
      /**
       * current -> recommended, for the printer columns.
       */
      summary?: {
        cpu?: string;
        memory?: string;
      };
      /**
       * @maxItems 8
       */
      notes?: string[];
      /**
       * The rule applied to each UTC day's usage alone, the last 30 days (cores, bytes).
       *
       * @maxItems 30
       */
      daily?: {
        day: string;
        cpu?: number;
        memory?: number;
      }[];
    }[];
  };
}
