import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The bundled stack as the test runs it: docker-compose.yml with the CI override (Asterisk built
 * from the shared build), under its own project name, driven by Compose v2 (`docker compose`)
 * where installed and v1.29 (`docker-compose`, Debian 12) otherwise.
 */
export const PROJECT = 'ringway-ci';
const FILES = ['-f', 'docker-compose.yml', '-f', 'test/stack/docker-compose.ci.yml'];

function composeCommand(): string[] {
  const v2 = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  return v2.status === 0 ? ['docker', 'compose'] : ['docker-compose'];
}
const COMPOSE = composeCommand();

export function composeVersion(): string {
  return spawnSync(COMPOSE[0] as string, [...COMPOSE.slice(1), 'version', '--short'], {
    encoding: 'utf8',
  }).stdout.trim();
}

export function dockerVersion(): string {
  return docker(['version', '--format', '{{.Server.Version}}']);
}

export interface ComposeRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `compose -p ringway-ci -f … <args>` at the repository's root; never throws. */
export function compose(
  root: string,
  env: NodeJS.ProcessEnv,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): ComposeRun {
  const run: SpawnSyncReturns<string> = spawnSync(
    COMPOSE[0] as string,
    [...COMPOSE.slice(1), '-p', PROJECT, ...FILES, ...args],
    {
      cwd: root,
      env,
      input: options.input ?? '',
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 300_000,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return { status: run.status, stdout: run.stdout ?? '', stderr: run.stderr ?? String(run.error ?? '') };
}

/** Like compose(), but throws with its output when it fails. */
export function composeOrThrow(root: string, env: NodeJS.ProcessEnv, args: string[], input?: string): string {
  const run = compose(root, env, args, { input });
  if (run.status !== 0)
    throw new Error(`compose ${args.join(' ')} exited ${run.status}: ${run.stderr}${run.stdout}`);
  return run.stdout;
}

function docker(args: string[]): string {
  return spawnSync('docker', args, { encoding: 'utf8' }).stdout.trim();
}

/**
 * Each of the project's containers and its health: `healthy`, `starting`, `unhealthy`, or its
 * state without a check (`exited <code>` once it has ended).
 */
export function containerHealth(): Map<string, string> {
  const ids = docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`])
    .split('\n')
    .filter(Boolean);
  const health = new Map<string, string>();
  if (ids.length === 0) return health;
  const lines = docker([
    'inspect',
    '--format',
    '{{index .Config.Labels "com.docker.compose.service"}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{if eq .State.Status "exited"}}_{{.State.ExitCode}}{{end}}{{end}}',
    ...ids,
  ]);
  for (const line of lines.split('\n')) {
    const [service, status] = line.split(' ');
    if (service) health.set(service, (status ?? '').replace('_', ' '));
  }
  return health;
}

/** What the project left behind: containers, networks and volumes carrying its label. */
export function leftovers(): { containers: string[]; networks: string[]; volumes: string[] } {
  const label = `label=com.docker.compose.project=${PROJECT}`;
  const list = (args: string[]) => docker(args).split('\n').filter(Boolean);
  return {
    containers: list(['ps', '-aq', '--filter', label]),
    networks: list(['network', 'ls', '-q', '--filter', label]),
    volumes: list(['volume', 'ls', '-q', '--filter', label]),
  };
}

/** Saves every service's log under `folder` (one file each), for a run that failed. */
export function saveLogs(root: string, env: NodeJS.ProcessEnv, folder: string): void {
  mkdirSync(folder, { recursive: true });
  for (const service of containerHealth().keys()) {
    const run = compose(root, env, ['logs', '--no-color', '--timestamps', service]);
    writeFileSync(join(folder, `${service}.log`), run.stdout + run.stderr);
  }
}

/** Each running container's memory as `docker stats` reports it, and the sum in MiB. */
export function memoryUse(): { perService: Record<string, string>; totalMiB: number } {
  const ids = docker(['ps', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`])
    .split('\n')
    .filter(Boolean);
  const perService: Record<string, string> = {};
  let totalMiB = 0;
  const units: Record<string, number> = { B: 1 / 2 ** 20, KiB: 1 / 1024, MiB: 1, GiB: 1024 };
  for (const line of docker(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}', ...ids]).split(
    '\n',
  )) {
    const [name, usage] = line.split(' ');
    const [, value, unit] = usage?.match(/^([\d.]+)(B|KiB|MiB|GiB)$/) ?? [];
    if (!name || !value || !unit) continue;
    perService[name] = usage as string;
    totalMiB += Number(value) * (units[unit] ?? 0);
  }
  return { perService, totalMiB };
}

/** The running container of a service, by the labels Compose gives it. */
export function containerOf(service: string): string {
  const id = docker([
    'ps',
    '-q',
    '--filter',
    `label=com.docker.compose.project=${PROJECT}`,
    '--filter',
    `label=com.docker.compose.service=${service}`,
  ]).split('\n')[0];
  if (!id) throw new Error(`no running container for ${service}`);
  return id;
}

/** Each process of a running container as the host's `ps` sees it: its user and command line. */
export function processesOf(service: string): { user: string; args: string }[] {
  return docker(['top', containerOf(service), '-eo', 'user:32,args'])
    .split('\n')
    .slice(1)
    .map((line) => line.trim().match(/^(\S+)\s+(.*)$/))
    .filter((match): match is RegExpMatchArray => match !== null)
    .map(([, user, args]) => ({ user: user as string, args: args as string }));
}

/** What `docker inspect` shows of a running container's command: entrypoint, command and arguments. */
export function inspectedCommand(service: string): string {
  return docker([
    'inspect',
    '--format',
    '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{json .Args}}',
    containerOf(service),
  ]);
}

/** The project's health check runs of a container so far (`docker inspect`'s State.Health.Log). */
export function healthChecksOf(service: string): { ExitCode: number; Start: string }[] {
  return JSON.parse(
    docker(['inspect', '--format', '{{json .State.Health.Log}}', containerOf(service)]) || '[]',
  );
}

/** Image IDs without a name (dangling), as `docker images` lists them. */
export function unnamedImages(): string[] {
  return docker(['images', '-q', '--no-trunc', '--filter', 'dangling=true']).split('\n').filter(Boolean);
}

/** The host's PID of a service's process whose command line matches `command`. */
export function hostPidOf(service: string, command: RegExp): number {
  const line = docker(['top', containerOf(service), '-eo', 'pid,args'])
    .split('\n')
    .slice(1)
    .map((row) => row.trim().match(/^(\d+)\s+(.*)$/))
    .find((match) => match !== null && command.test(match[2] as string));
  if (!line) throw new Error(`no process of ${service} matches ${command}`);
  return Number(line[1]);
}

/** How many times Docker has started a service's container again (its restart policy at work). */
export function restartCount(service: string): number {
  return Number(docker(['inspect', '--format', '{{.RestartCount}}', containerOf(service)]));
}
