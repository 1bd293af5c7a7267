/* Generated from crds/paved.dev_teams.yaml by `npm run gen:types`. Do not edit. */
import type { V1ObjectMeta } from '@kubernetes/client-node';

/**
 * A tenant of the platform. paved provisions one namespace per environment for it.
 */
export interface Team {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  /**
   * What the team is and what it may use.
   */
  spec: {
    /**
     * Who leads the team (OIDC groups and users as the API server sees them). At least one.
     */
    owners: {
      /**
       * @maxItems 32
       */
      groups?: string[];
      /**
       * @maxItems 32
       */
      users?: string[];
    };
    /**
     * Who works in the team (OIDC groups and users). Same rights as owners in the namespaces.
     */
    members?: {
      /**
       * @maxItems 64
       */
      groups?: string[];
      /**
       * @maxItems 256
       */
      users?: string[];
    };
    /**
     * DNS domains the team's services may be published under (a host must equal one or be a sub-domain of one). Copied to the namespace annotation paved.dev/domains. Empty: no domain restriction (a host another team already serves is refused regardless).
     *
     * @maxItems 16
     */
    domains?: string[];
    /**
     * Finance attribution; copied to the namespace label paved.dev/cost-center.
     */
    costCenter: string;
    /**
     * The team's monthly spending budget, read by the cost capability.
     */
    monthlyBudget?: {
      amount: number;
      /**
       * ISO 4217 code.
       */
      currency?: string;
    };
    /**
     * The team's default rightsizing mode for WebServices that set none (docs/rightsizing.md).
     */
    rightsizing?: {
      mode?: 'off' | 'recommend' | 'auto';
    };
    /**
     * Resource quota per namespace: either a tier (small, medium, large) or all of explicit cpu, memory, pods and storage. Quantities are strings ("4", "500m", "8Gi").
     */
    quota: {
      tier?: 'small' | 'medium' | 'large';
      /**
       * requests.cpu (limits.cpu is twice this).
       */
      cpu?: string;
      /**
       * requests.memory (limits.memory is twice this).
       */
      memory?: string;
      pods?: number;
      /**
       * requests.storage across the namespace's PersistentVolumeClaims.
       */
      storage?: string;
    };
    /**
     * One namespace `<team>-<environment>` per entry. Empty or absent: one namespace named after the team (environment label "default").
     *
     * @maxItems 10
     */
    environments?: string[];
    /**
     * What happens to the namespaces when the Team is deleted. Retain (default) keeps them and releases them from paved; Delete deletes them and everything in them.
     */
    deletionPolicy?: 'Delete' | 'Retain';
  };
  status?: {
    observedGeneration?: number;
    /**
     * The team's namespaces with their quota usage.
     */
    namespaces?: {
      name: string;
      environment: string;
      /**
       * Active, Terminating or Pending (not created yet).
       */
      phase?: string;
      quota?: {
        hard?: {
          [k: string]: string | undefined;
        };
        used?: {
          [k: string]: string | undefined;
        };
      };
    }[];
    conditions?: {
      type: string;
      status: 'True' | 'False' | 'Unknown';
      observedGeneration?: number;
      lastTransitionTime: string;
      reason: string;
      message: string;
    }[];
  };
}
