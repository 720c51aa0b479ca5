import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { type StartedServer, startServer } from '../../bench/lib/processes.mjs';
import { freeTcpPort } from '../../packages/gateway/test/support/loopback-ports.mjs';

/** One series of a Prometheus query's answer: its labels and its values (one for an instant query). */
export interface PromSeries {
  metric: Record<string, string>;
  values: number[];
}

/** `promtool <args>` (Debian's `prometheus` package), with its output and exit status. */
export function promtool(args: string[], cwd?: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (run.error)
    throw new Error(`promtool ${args.join(' ')}: ${run.error.message} (apt-get install prometheus)`);
  return { status: run.status, output: run.stdout + run.stderr };
}

/**
 * The repository's prometheus.yml made fit for a loopback test: the same scrape job, rules and
 * authorization, with `target` over plain HTTP instead of the compose address over HTTPS, the
 * token in `credentialsFile`, the rule files by absolute path and everything every `intervalS`.
 */
export function loopbackPrometheusConfig(
  configPath: string,
  { target, credentialsFile, intervalS }: { target: string; credentialsFile: string; intervalS: number },
): string {
  const config = parse(readFileSync(configPath, 'utf8'));
  const folder = join(configPath, '..');
  config.global.scrape_interval = `${intervalS}s`;
  config.global.evaluation_interval = `${intervalS}s`;
  config.rule_files = config.rule_files.map((file: string) => join(folder, file));
  for (const job of config.scrape_configs) {
    job.scheme = 'http';
    delete job.tls_config;
    job.authorization.credentials_file = credentialsFile;
    job.static_configs = [{ targets: [target] }];
  }
  return stringify(config);
}

/** Debian's Prometheus on a loopback port, its storage in `folder`; `stop()` ends it by its PID. */
export async function startPrometheus(configFile: string, folder: string) {
  const port = await freeTcpPort();
  mkdirSync(join(folder, 'data'), { recursive: true });
  const server: StartedServer = await startServer(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(folder, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { port },
  );
  const api = async (path: string, params: Record<string, string>) => {
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/${path}?${new URLSearchParams(params)}`);
    const body = (await response.json()) as { status: string; data: unknown; error?: string };
    if (body.status !== 'success')
      throw new Error(`Prometheus ${path} ${JSON.stringify(params)}: ${body.error}`);
    return body.data;
  };
  type Answer = {
    result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[];
  };
  const series = (data: unknown): PromSeries[] =>
    (data as Answer).result.map(({ metric, value, values }) => ({
      metric,
      values: (values ?? (value ? [value] : [])).map(([, v]) => Number(v)),
    }));
  return {
    port,
    api,
    /** An instant query at `time` (epoch seconds). */
    query: async (query: string, time: number) => series(await api('query', { query, time: String(time) })),
    /** A range query from `start` to `end` (epoch seconds) every `stepS`. */
    queryRange: async (query: string, start: number, end: number, stepS: number) =>
      series(
        await api('query_range', { query, start: String(start), end: String(end), step: String(stepS) }),
      ),
    stop: () => server.stop(),
  };
}

export type RunningPrometheus = Awaited<ReturnType<typeof startPrometheus>>;

/** Writes `token` where only this user can read it, as the compose service does. */
export function writeSecret(path: string, token: string): void {
  writeFileSync(path, token, { mode: 0o600 });
}
