/* Generated from crds/paved.dev_webservices.yaml by `npm run gen:types`. Do not edit. */
import type { V1ObjectMeta } from '@kubernetes/client-node';

/**
 * A web service on the golden path. paved renders and applies everything it needs.
 */
export interface WebService {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec: {
    /**
     * Container image reference, with a tag or a digest (for example ghcr.io/acme/shop:1.4.2).
     */
    image: string;
    /**
     * Language runtime: sets the default port, probes and runtime conventions (environment, user id). generic makes no assumption beyond a TCP port.
     */
    runtime?: 'node' | 'python' | 'go' | 'java' | 'generic';
    /**
     * The port the application listens on. Defaults by runtime (node 3000, python 8000, others 8080).
     */
    port?: number;
    /**
     * Size: requests and limits per container (small: 100m/128Mi, medium: 250m/512Mi, large: 1/2Gi requests).
     */
    tier?: 'small' | 'medium' | 'large';
    /**
     * Configuration as environment variables, delivered through a ConfigMap (a change rolls the pods).
     */
    config?: {
      [k: string]: string | undefined;
    };
    scaling?: {
      minReplicas?: number;
      maxReplicas?: number;
      /**
       * Average CPU utilisation (percent of requests) the autoscaler aims for.
       */
      targetCPUUtilization?: number;
    };
    networking?: {
      /**
       * public services get an HTTPRoute (or an Ingress) on the platform gateway; private ones are reachable in-cluster only.
       */
      visibility?: 'public' | 'private';
      /**
       * Public host name, required when visibility is public.
       */
      host?: string;
      /**
       * URL path prefixes routed to the service.
       *
       * @maxItems 16
       */
      paths?: string[];
      tls?: {
        enabled?: boolean;
        /**
         * Secret holding the certificate (Ingress only; default <name>-tls). With Gateway API the gateway terminates TLS.
         */
        secretName?: string;
      };
      /**
       * Services this one calls. Egress is allowed to exactly these (plus DNS), and they allow ingress from it.
       *
       * @maxItems 32
       */
      dependencies?: {
        /**
         * Name of the WebService (or of pods labelled paved.dev/service) called.
         */
        service: string;
        /**
         * Namespace of the dependency; defaults to this WebService's namespace.
         */
        namespace?: string;
      }[];
      /**
       * Callers from other teams that may list this service in their networking.dependencies (its NetworkPolicy admits them only then). Services of the same team need no entry.
       *
       * @maxItems 32
       */
      allowedCallers?: {
        /**
         * A team whose services may call this one.
         */
        team?: string;
        /**
         * A namespace whose services may call this one.
         */
        namespace?: string;
      }[];
    };
    observability?: {
      metrics?: {
        enabled?: boolean;
        path?: string;
        /**
         * Metrics port when it differs from the service port.
         */
        port?: number;
      };
      /**
       * Inject the OpenTelemetry environment (exporter endpoint, service name, resource attributes).
       */
      tracing?: boolean;
    };
    /**
     * How changes roll out (canary steps and analysis). Without steps the platform default applies (10, 50, 100).
     */
    delivery?: {
      /**
       * @maxItems 20
       */
      steps?: {
        /**
         * Percentage of traffic sent to the canary.
         */
        setWeight?: number;
        /**
         * Wait for the duration, or until promoted when no duration is given.
         */
        pause?: {
          duration?: string;
        };
        analysis?: {
          /**
           * @minItems 1
           * @maxItems 8
           */
          templates: [
            {
              templateName: string;
              clusterScope?: boolean;
            },
            ...{
              templateName: string;
              clusterScope?: boolean;
            }[],
          ];
          /**
           * @maxItems 16
           */
          args?: {
            name: string;
            value: string;
          }[];
        };
      }[];
      /**
       * Background analysis run during the whole rollout.
       */
      analysis?: {
        /**
         * @maxItems 8
         */
        templates?: {
          templateName: string;
          clusterScope?: boolean;
        }[];
        /**
         * @maxItems 16
         */
        args?: {
          name: string;
          value: string;
        }[];
        startingStep?: number;
      };
      /**
       * A canary that is not Ready within this time fails the rollout.
       */
      progressDeadlineSeconds?: number;
      /**
       * Delay before the old pods are scaled down after promotion.
       */
      scaleDownDelaySeconds?: number;
      /**
       * When an analysis lets a step advance. RequireLatestSuccess (default): once count measurements are taken, the latest one must have succeeded; when it did not, one more is taken (within failureLimit, inconclusiveLimit and consecutiveErrorLimit), so a flapping canary is never promoted on a bad reading. WithinLimits: Argo Rollouts' rule, failures within failureLimit pass whatever the latest reading was.
       */
      advanceRule?: 'RequireLatestSuccess' | 'WithinLimits';
    };
    /**
     * Rightsizing (docs/rightsizing.md): requests recommended from usage. off (default): nothing; recommend: a Recommendation resource reports them; auto: applied through a canary once stable for 14 days, inside the apply window, and rolled back when latency degrades. Absent: the team's default (Team spec.rightsizing.mode), else off.
     */
    rightsizing?: {
      mode?: 'off' | 'recommend' | 'auto';
      /**
       * When an apply may start (default weekdays 09:00-16:00 in the platform's timezone).
       */
      applyWindow?: {
        /**
         * ISO weekdays, 1 (Monday) to 7 (Sunday).
         *
         * @maxItems 7
         */
        days?: number[];
        start?: string;
        end?: string;
        /**
         * An IANA timezone such as Europe/Berlin.
         */
        timezone?: string;
      };
    };
    /**
     * The configured tier. Any field set here moves the WebService from managed to configured.
     */
    overrides?: {
      healthChecks?: {
        livenessPath?: string;
        readinessPath?: string;
        startupPath?: string;
        initialDelaySeconds?: number;
        periodSeconds?: number;
      };
      /**
       * @maxItems 64
       */
      env?: {
        name: string;
        value?: string;
        secretKeyRef?: {
          name: string;
          key: string;
        };
        configMapKeyRef?: {
          name: string;
          key: string;
        };
      }[];
      /**
       * Extra pod annotations.
       */
      annotations?: {
        [k: string]: string | undefined;
      };
      /**
       * Requests and limits that replace the tier's values (limits are always set).
       */
      resources?: {
        requests?: {
          cpu?: string;
          memory?: string;
        };
        limits?: {
          cpu?: string;
          memory?: string;
        };
      };
      autoscaling?: {
        targetMemoryUtilization?: number;
        /**
         * Custom per-pod metrics (from a metrics adapter) added to the HPA.
         *
         * @maxItems 8
         */
        metrics?: {
          name: string;
          targetAverageValue: string;
        }[];
      };
      /**
       * @maxItems 32
       */
      command?: string[];
      /**
       * @maxItems 64
       */
      args?: string[];
      /**
       * Mount a service-account token into the pods (off by default).
       */
      serviceAccountToken?: boolean;
    };
    /**
     * The escape hatch. Patches on rendered objects and extra manifests; all output still passes the platform policies. Any field set here moves the WebService to the advanced tier.
     */
    advanced?: {
      /**
       * @maxItems 32
       */
      patches?: {
        target: {
          /**
           * Kind of the rendered object (Deployment, Service, HorizontalPodAutoscaler, ...).
           */
          kind: string;
          /**
           * Name of the rendered object; all objects of the kind when absent.
           */
          name?: string;
        };
        /**
         * RFC 6902 operations.
         *
         * @maxItems 64
         */
        jsonPatch?: {
          op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
          path: string;
          from?: string;
          value?: {
            [k: string]: unknown | undefined;
          };
        }[];
        /**
         * A merge patch (RFC 7386) with one strategic rule: lists of objects that carry a name (containers, env, volumes, ports, ...) are merged by name instead of replaced.
         */
        mergePatch?: {
          [k: string]: unknown | undefined;
        };
      }[];
      /**
       * Additional namespaced objects applied with the service (policy checked).
       *
       * @maxItems 16
       */
      extraManifests?: {
        [k: string]: unknown | undefined;
      }[];
    };
  };
  status?: {
    observedGeneration?: number;
    /**
     * The golden-path tier in use.
     */
    tier?: 'managed' | 'configured' | 'advanced';
    /**
     * Hash of the rendered pod template (changes exactly when pods roll).
     */
    revision?: string;
    url?: string;
    replicas?: number;
    readyReplicas?: number;
    /**
     * Objects applied by the last successful render; objects no longer rendered are pruned.
     *
     * @maxItems 128
     */
    inventory?: {
      apiVersion: string;
      kind: string;
      name: string;
      ready?: boolean;
      message?: string;
    }[];
    /**
     * Policy results of the last render (enforced violations block the apply; audited ones are only counted).
     */
    policy?: {
      /**
       * @maxItems 50
       */
      violations?: {
        policy: string;
        object: string;
        field: string;
        message: string;
        mode: 'enforce' | 'audit';
      }[];
    };
    /**
     * Rollout state, written by the WebService controller with the rest of the status (src/delivery plans it).
     */
    rollout?: {
      [k: string]: unknown | undefined;
    };
    /**
     * @maxItems 16
     */
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
