/**
 * The kustomize layouts of deploy/, built the way `kubectl apply -k` builds them: with the cluster's
 * own kubectl (the local cluster's multi-call binary, ~/.cache/paved/bin/kubectl, built if missing).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ensureKubectl } from '../../src/localcluster/binaries.js';
import type { Doc } from './manifests.js';

export const DEPLOY_DIR = fileURLToPath(new URL('../../deploy/', import.meta.url));

/** Every layout a user can `kubectl apply -k`, relative to deploy/. */
export const LAYOUTS = ['.', 'base', 'overlays/audit'] as const;
export type Layout = (typeof LAYOUTS)[number];

const built = new Map<Layout, Promise<Doc[]>>();

/** `kubectl kustomize deploy/<layout>`, parsed (cached per layout). */
export function buildLayout(layout: Layout): Promise<Doc[]> {
  let docs = built.get(layout);
  if (!docs) {
    docs = (async () => {
      const kubectl = await ensureKubectl();
      const { stdout } = await promisify(execFile)(kubectl, ['kustomize', `${DEPLOY_DIR}${layout}`], { maxBuffer: 64 * 1024 * 1024 });
      return parseAllDocuments(stdout)
        .map((d) => {
          if (d.errors.length > 0) throw new Error(`kubectl kustomize ${layout}: ${d.errors.map((e) => e.message).join('; ')}`);
          return d.toJS() as Doc | null;
        })
        .filter((d): d is Doc => !!d);
    })();
    built.set(layout, docs);
  }
  return docs;
}

/** `Kind namespace/name` of an object, for readable comparisons. */
export function objectRef(doc: Doc): string {
  return `${doc.kind} ${doc.metadata?.namespace ? `${doc.metadata.namespace}/` : ''}${doc.metadata?.name}`;
}
