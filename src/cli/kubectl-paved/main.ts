/**
 * kubectl-paved: the terminal view of paved's tenants, services and rollouts, and the rollout controls.
 * kubectl runs it as `kubectl paved ...` when `kubectl-paved` is on PATH. Wiring only: commander parses
 * the flags, kube.ts / watch.ts / paved-api.ts do the I/O, render/ turns state into text.
 * Exit codes: exit-codes.ts (documented in docs/kubectl-plugin.md).
 */
import { Command, CommanderError, Option } from 'commander';
import { stringify } from 'yaml';
import { CONTROL_ACTIONS } from '../../server/controls.js';
import { CliError, ExitCode } from './exit-codes.js';
import { PavedKube, loadKubeConfig, namespaceOf, type KubeFlags } from './kube.js';
import { PavedApi, bearerToken } from './paved-api.js';
import { colorsFor, shouldColor, type Colors } from './render/colors.js';
import { renderCost } from './render/cost.js';
import { renderRecommendations } from './render/recommendations.js';
import { renderTeamTable, renderWebServiceTable } from './render/lists.js';
import { renderServiceTree } from './render/service-tree.js';
import { WatchedCollection, serviceSources } from './watch.js';

interface GlobalOpts extends KubeFlags {
  allNamespaces?: boolean;
  api?: string;
  token?: string;
}

type Output = 'json' | 'yaml' | undefined;

interface Io {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  env: Record<string, string | undefined>;
  now(): Date;
}

const TEAM_KINDS = ['teams', 'team', 'tm'];
const WS_KINDS = ['webservices', 'webservice', 'ws'];

function printData(io: Io, output: Output, data: unknown): void {
  io.out.write(output === 'yaml' ? stringify(data) : JSON.stringify(data, null, 2) + '\n');
}

function asList(items: unknown[]): unknown {
  return { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
}

const outputOption = () => new Option('-o, --output <format>', 'output format').choices(['json', 'yaml']);

/** The colours for `io.out` (none when it should not be coloured). */
const colorsOf = (io: Io): Colors => colorsFor(shouldColor(io.out, io.env));

/** The kubeconfig of the global options, a client on it, and the namespace to use. */
function kubeOf(g: GlobalOpts) {
  const kc = loadKubeConfig(g);
  return { kc, client: new PavedKube(kc), namespace: namespaceOf(kc, g) };
}

/** `get`: teams, webservices, or one service's tree (optionally live with --watch). */
function addGetCommand(program: Command, io: Io): void {
  program
    .command('get')
    .description('show teams or webservices: `get teams`, `get ws`, `get ws NAME` (the service tree)')
    .argument('<kind>', `one of ${[...TEAM_KINDS, ...WS_KINDS].join(', ')}`)
    .argument('[name]', 'one object by name')
    .addOption(outputOption())
    .option('-w, --watch', 'with `get ws NAME`: redraw the tree live from watches')
    .action(async (kind: string, name: string | undefined, opts: { output?: Output; watch?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const { kc, client, namespace } = kubeOf(g);
      if (TEAM_KINDS.includes(kind)) {
        if (opts.watch) throw new CliError('--watch: only `get ws NAME` can be watched', ExitCode.Usage);
        const teams = name ? [await client.getTeam(name)] : await client.listTeams();
        if (opts.output) printData(io, opts.output, name ? teams[0] : asList(teams));
        else io.out.write(renderTeamTable(teams, io.now()));
        return;
      }
      if (!WS_KINDS.includes(kind)) throw new CliError(`kind: "${kind}" is not one of ${[...TEAM_KINDS, ...WS_KINDS].join(', ')}`, ExitCode.Usage);
      if (!name) {
        if (opts.watch) throw new CliError('--watch: needs a NAME (`get ws NAME --watch`)', ExitCode.Usage);
        const items = await client.listWebServices(g.allNamespaces ? undefined : namespace);
        if (opts.output) printData(io, opts.output, asList(items));
        else io.out.write(renderWebServiceTable(items, io.now(), g.allNamespaces === true));
        return;
      }
      if (opts.watch) {
        if (opts.output) throw new CliError('--watch: cannot be combined with -o', ExitCode.Usage);
        await watchTree(io, kc, namespace, name, colorsOf(io));
        return;
      }
      const view = await client.serviceView(namespace, name);
      if (opts.output) printData(io, opts.output, view.webService);
      else io.out.write(renderServiceTree(view, io.now(), colorsOf(io)));
    });
}

/** The program; `io` is injectable so tests can run commands in-process. */
export function buildProgram(io: Io): Command {
  const program = new Command('kubectl paved')
    .description("paved's tenants, services and rollouts in the terminal, and the rollout controls")
    .option('--kubeconfig <path>', 'path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'the kubeconfig context to use')
    .option('-n, --namespace <name>', 'the namespace (default: the context\'s, else "default")')
    .option('-A, --all-namespaces', 'list across all namespaces')
    .option('--api <url>', 'the paved API base URL (cost, recommendations)')
    .option('--token <token>', 'bearer token for the paved API (default: the kubeconfig user\'s credentials)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) });

  const colors = (): Colors => colorsOf(io);

  addGetCommand(program, io);

  for (const action of CONTROL_ACTIONS) {
    const cmd = program
      .command(action)
      .description(`${action} the rollout of a webservice (sets the paved.dev/rollout-action annotation)`)
      .argument('<name>', 'the webservice');
    if (action === 'promote') cmd.option('--full', 'skip every remaining step and promote now');
    cmd.action(async (name: string, opts: { full?: boolean }, c: Command) => {
      const { client, namespace } = kubeOf(c.optsWithGlobals<GlobalOpts>());
      const value = await client.requestAction(namespace, name, action, opts.full === true);
      io.out.write(`webservice.paved.dev/${name} ${action}${opts.full ? ' --full' : ''} requested (paved.dev/rollout-action=${value})\n`);
    });
  }

  const api = async (g: GlobalOpts) => {
    const url = g.api ?? io.env.PAVED_API;
    if (!url) throw new CliError('--api: the paved API URL is required (or set PAVED_API)', ExitCode.Usage);
    const kc = g.token ? undefined : loadKubeConfig(g);
    return new PavedApi(url, g.token ?? (kc ? await bearerToken(kc, undefined) : undefined));
  };

  program
    .command('cost')
    .description("a team's cost this month so far, the projection against its budget and its top services (paved API)")
    .argument('<team>', 'the team')
    .addOption(outputOption())
    .action(async (team: string, opts: { output?: Output }, c: Command) => {
      const client = await api(c.optsWithGlobals<GlobalOpts>());
      const budget = await client.budget(team);
      const month = await client.teamCost(team, budget.monthStart, budget.asOf);
      if (opts.output) printData(io, opts.output, { budget, month });
      else io.out.write(renderCost(budget, month, colors()));
    });

  program
    .command('recommendations')
    .description("a team's rightsizing recommendations (paved API)")
    .argument('<team>', 'the team')
    .addOption(outputOption())
    .action(async (team: string, opts: { output?: Output }, c: Command) => {
      const client = await api(c.optsWithGlobals<GlobalOpts>());
      const data = await client.recommendations(team);
      if (opts.output) printData(io, opts.output, data);
      else io.out.write(renderRecommendations(data, colors()));
    });

  return program;
}

/** Redraws the tree on every watched change until interrupted; connection lines stay under the view. */
async function watchTree(io: Io, kc: ReturnType<typeof loadKubeConfig>, namespace: string, name: string, c: Colors): Promise<void> {
  const tty = io.out.isTTY === true;
  const statusLines: string[] = [];
  const { sources, view } = serviceSources(kc, namespace, name);
  let pending: NodeJS.Timeout | undefined;
  let last = '';
  const draw = () => {
    pending = undefined;
    const v = view(collections);
    const body = v ? renderServiceTree(v, io.now(), c) : `webservice ${namespace}/${name} not found (waiting for it)\n`;
    const footer = statusLines.length > 0 ? '\n' + statusLines.map((l) => c.yellow(l)).join('\n') + '\n' : '';
    const frame = body + footer;
    if (frame === last) return;
    last = frame;
    io.out.write(tty ? `\x1b[H\x1b[2J${frame}` : `${frame}---\n`);
  };
  // coalesce a burst of events (one rollout step touches several objects) into one redraw
  const changed = () => {
    pending ??= setTimeout(draw, 50);
  };
  const status = (line: string) => {
    statusLines.push(`[${io.now().toISOString().slice(11, 19)}] ${line}`);
    if (statusLines.length > 5) statusLines.shift();
    if (!tty) io.err.write(line + '\n');
    changed();
  };
  const collections: WatchedCollection[] = sources.map((s) => new WatchedCollection(s, { changed, status }));
  await Promise.all(collections.map((col) => col.start()));
  await new Promise<void>((resolve) => {
    const stop = () => {
      for (const col of collections) col.stop();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** Runs the CLI with `argv` (without node and script), returning the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return ExitCode.Ok;
      return ExitCode.Usage;
    }
    if (err instanceof CliError) {
      io.err.write(`${err.message}\n`);
      return err.exitCode;
    }
    io.err.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    return ExitCode.Error;
  }
}
