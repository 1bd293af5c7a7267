/** The paved API client of `cost` and `recommendations`: errors become the documented exit codes. */
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/cli/kubectl-paved/exit-codes.js';
import { PavedApi } from '../../../src/cli/kubectl-paved/paved-api.js';

const answering = (status: number, body: unknown) => (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch;

describe('PavedApi', () => {
  it('reports a missing recommendations endpoint as not implemented, naming the path', async () => {
    const api = new PavedApi('http://paved.test', 't', answering(404, { code: 'NotFound', message: 'no route' }));
    await expect(api.recommendations('team-a')).rejects.toMatchObject({
      exitCode: ExitCode.NotImplemented,
      message: expect.stringContaining('has no recommendations endpoint (GET /api/v1/teams/team-a/recommendations answered 404)'),
    });
  });

  it("passes the API's message and field through with an exit code per status", async () => {
    await expect(new PavedApi('http://paved.test', 't', answering(403, { message: 'may not read team-b' })).budget('team-b')).rejects.toMatchObject({
      exitCode: ExitCode.Forbidden,
      message: 'paved API 403: may not read team-b',
    });
    await expect(new PavedApi('http://paved.test', 't', answering(404, { message: 'team nope not found', field: 'team' })).budget('nope')).rejects.toMatchObject({
      exitCode: ExitCode.NotFound,
      message: 'paved API 404: team: team nope not found',
    });
    await expect(new PavedApi('http://paved.test', 't', answering(503, { message: 'Prometheus unavailable' })).budget('a')).rejects.toMatchObject({ exitCode: ExitCode.Unavailable });
  });

  it('rejects a bad --api and an unreachable API', async () => {
    expect(() => new PavedApi('not a url', undefined)).toThrow(/--api: "not a url" is not a URL/);
    const down = (async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') });
    }) as unknown as typeof fetch;
    await expect(new PavedApi('http://127.0.0.1:1', undefined, down).budget('a')).rejects.toMatchObject({ exitCode: ExitCode.Unavailable, message: expect.stringContaining('ECONNREFUSED') });
  });

  it('sends the bearer token', async () => {
    let auth: string | null = null;
    const f = (async (_url: string, init: RequestInit) => {
      auth = new Headers(init.headers).get('authorization');
      return new Response('{}', { status: 200 });
    }) as unknown as typeof fetch;
    await new PavedApi('http://paved.test/', 'tok', f).budget('a');
    expect(auth).toBe('Bearer tok');
  });
});
