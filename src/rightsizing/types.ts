/**
 * Rightsizing's vocabulary: the engine's settings (defaults documented in docs/rightsizing.md), the
 * usage it reads from Prometheus per WebService and container, and the record it keeps in the cluster
 * (the Recommendation resource, one per WebService, owned by it).
 */

/** Per WebService: `off` (default), `recommend` (report only), `auto` (apply when stable). */
export type RightsizingMode = 'off' | 'recommend' | 'auto';

/** The states of a Recommendation (its printer column). */
export const RecommendationStates = [
  'Collecting',
  'Recommended',
  'Stable',
  'Applying',
  'Applied',
  'Watching',
  'RolledBack',
  'HeldBack',
] as const;
export type RecommendationState = (typeof RecommendationStates)[number];

/** Requests in cores and bytes. */
export interface Requests {
  cpu: number;
  memory: number;
}

/** A floor per resource. */
export type Floors = Readonly<Requests>;

/** The recommender's settings (pure inputs). */
export interface RecommendPolicy {
  /** Days of history the recommendation reads (default 14). */
  windowDays: number;
  /** Share added to the CPU percentile (default 0.15). */
  cpuMargin: number;
  /** The CPU percentile (default 0.95). */
  cpuQuantile: number;
  /** Share added to the maximum working set (default 0.15). */
  memoryMargin: number;
  /** The memory recommendation is at least this times the limit of the last OOM kill (default 1.25). */
  oomFactor: number;
  /** Floors by runtime (a JVM needs more CPU to start than a Go binary). */
  floors: Readonly<Record<string, Floors>>;
  /** When an HPA scales on CPU: recommend memory only (default true). */
  memoryOnlyWithCpuHpa: boolean;
}

/** The stability rule's settings. */
export interface StabilityPolicy {
  /** Consecutive stable days before an apply (default 14). */
  stableDays: number;
  /** A daily value within this share of the recommendation counts as stable (default 0.10). */
  tolerance: number;
  /** Only apply when the recommendation differs from the current request by more than this (default 0.10). */
  changeThreshold: number;
}

/** The apply window: weekdays and hours in a timezone (luxon). */
export interface ApplyWindow {
  /** ISO weekdays 1 (Monday) .. 7 (Sunday). */
  days: readonly number[];
  /** "HH:mm", inclusive start and exclusive end, local time. */
  start: string;
  end: string;
  timezone: string;
}

/** The watch after an apply: what counts as a regression. */
export interface WatchPolicy {
  /** How long to watch after the promotion (default 24 h). */
  windowSeconds: number;
  /** p99 latency worse than the 14 days before by more than this share (default 0.10). */
  latencyThreshold: number;
  /** Error rate worse by more than this (absolute share of requests, default 0.01). */
  errorRateThreshold: number;
  /** Throttled periods / periods above this (default 0.25). */
  throttlingThreshold: number;
  /** How long a rolled-back service's recommendations are held back (default 7 days). */
  coolingSeconds: number;
}

/** The whole engine configuration. */
export interface RightsizingSettings {
  recommend: RecommendPolicy;
  stability: StabilityPolicy;
  window: ApplyWindow;
  watch: WatchPolicy;
  /** Daily values kept per container (default 30). */
  historyDays: number;
  /**
   * The range of the CPU usage rate (default 5m, PAVED_RIGHTSIZING_RATE_WINDOW): a rate needs two
   * samples in it, so at least twice the cAdvisor scrape interval (four times is the usual advice).
   */
  rateWindow: string;
}

export const DEFAULT_FLOORS: Readonly<Record<string, Floors>> = Object.freeze({
  go: { cpu: 0.01, memory: 32 * 2 ** 20 },
  node: { cpu: 0.05, memory: 64 * 2 ** 20 },
  python: { cpu: 0.05, memory: 64 * 2 ** 20 },
  // The JVM JITs and loads classes at start: a tiny CPU request makes it miss its startup probe.
  java: { cpu: 0.5, memory: 256 * 2 ** 20 },
  generic: { cpu: 0.01, memory: 32 * 2 ** 20 },
});

export const DEFAULT_SETTINGS: RightsizingSettings = Object.freeze({
  recommend: { windowDays: 14, cpuMargin: 0.15, cpuQuantile: 0.95, memoryMargin: 0.15, oomFactor: 1.25, floors: DEFAULT_FLOORS, memoryOnlyWithCpuHpa: true },
  stability: { stableDays: 14, tolerance: 0.1, changeThreshold: 0.1 },
  window: { days: [1, 2, 3, 4, 5], start: '09:00', end: '16:00', timezone: 'UTC' },
  watch: { windowSeconds: 86_400, latencyThreshold: 0.1, errorRateThreshold: 0.01, throttlingThreshold: 0.25, coolingSeconds: 7 * 86_400 },
  historyDays: 30,
  rateWindow: '5m',
});

/** What Prometheus says about one container of one WebService (all optional: no data is no field). */
export interface ContainerUsage {
  namespace: string;
  webService: string;
  container: string;
  /** The CPU percentile of the usage rate over the window, cores. */
  cpuQuantile?: number;
  /** The maximum working set over the window, bytes. */
  memoryMax?: number;
  /** The memory limit at the last OOM kill in the window, bytes. */
  oomLimit?: number;
  /** Per UTC day (ISO date), the day's CPU percentile and maximum working set. */
  daily: ReadonlyArray<{ day: string; cpu?: number; memory?: number }>;
}

/** Bounds a request must stay within (the LimitRange and the tier), cores and bytes. */
export interface Bounds {
  min?: Partial<Requests>;
  max?: Partial<Requests>;
}

/** One day of a container's recommendation history. */
export interface DailyValue {
  day: string;
  cpu?: number;
  memory?: number;
}
