/**
 * The host map: which team serves each WebService host, as the controller decides it (the oldest
 * WebService with the host wins; ties by namespace/name), published as one ConfigMap so that the
 * admission policy `paved-host-not-taken` (deploy/admission) can refuse another team's claim before
 * the object is stored. A ValidatingAdmissionPolicy cannot list other objects; it can read this map
 * as its params. Pure: the WebService controller feeds it from its caches and applies the result.
 */

/** One WebService's claim on a host. */
export interface HostClaim {
  host: string;
  team: string;
  namespace: string;
  name: string;
  /** RFC 3339 creation time: the oldest claim wins. */
  createdAt: string;
}

/**
 * The map's size budget. A ConfigMap holds at most 1 MiB; this leaves room for the metadata and
 * managedFields. At the longest host (253) and team (63) names that is about 2,800 hosts; at typical
 * lengths (30 + 10) over 20,000.
 */
export const HOST_MAP_MAX_BYTES = 900_000;

/** The data of the host map (host -> team), and how many hosts did not fit. */
export interface HostMapPlan {
  data: Record<string, string>;
  /** Hosts left out (the newest claims first): the controller still refuses them, admission does not. */
  dropped: number;
}

/** The order in which claims win: creation time, then namespace/name. */
export function claimOrder(c: Pick<HostClaim, 'createdAt' | 'namespace' | 'name'>): string {
  return `${c.createdAt}|${c.namespace}/${c.name}`;
}

/** host -> team of the winning (oldest) claim, bounded by `maxBytes`, keys sorted. */
export function planHostMap(claims: readonly HostClaim[], maxBytes: number = HOST_MAP_MAX_BYTES): HostMapPlan {
  const winners = new Map<string, HostClaim>();
  for (const c of claims) {
    const host = c.host.toLowerCase();
    const prev = winners.get(host);
    if (!prev || claimOrder(c) < claimOrder(prev)) winners.set(host, { ...c, host });
  }
  // Oldest claims first into the budget: a new host is the one left out, never an established one.
  const ordered = [...winners.values()].sort((a, b) => (claimOrder(a) < claimOrder(b) ? -1 : 1));
  const kept: HostClaim[] = [];
  let bytes = 0;
  for (const c of ordered) {
    const size = c.host.length + c.team.length + 8; // key, value and YAML/JSON punctuation
    if (bytes + size > maxBytes) break;
    bytes += size;
    kept.push(c);
  }
  const data: Record<string, string> = {};
  for (const c of kept.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))) data[c.host] = c.team;
  return { data, dropped: ordered.length - kept.length };
}
