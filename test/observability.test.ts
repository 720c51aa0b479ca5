import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { parse } from 'yaml';
import type { StartedServer } from '../bench/lib/processes.mjs';
import { freeTcpPort } from '../packages/gateway/test/support/loopback-ports.mjs';
import { launchChromium } from './support/chromium.js';
import { eventually } from './support/eventually.js';
import { startGatewayProcess } from './support/gateway-process.js';
import {
  allPanels,
  intervalVariables,
  panelQueries,
  readDashboard,
  substitute,
} from './support/grafana-dashboard.js';
import {
  loopbackPrometheusConfig,
  type PromSeries,
  promtool,
  type RunningPrometheus,
  startPrometheus,
  writeSecret,
} from './support/prometheus.js';
import { audioGrowsBeyond, callAndAnswer, expectText, openSoftphone } from './support/softphone-app.js';

/**
 * The quality dashboard and alert rules of observability/ against Debian's Prometheus (2.42):
 * promtool checks the config and rules and runs the rules' unit test; the compose profile is
 * checked as Compose reads it; then Prometheus, with the repository's scrape job and rules,
 * scrapes a gateway (the bundle `npm start` runs) with the operator token while two Ringway pages
 * in Chromium call each other with audio and report each call's quality at hang-up, and every
 * query of the dashboard must return data.
 */
const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const prometheusDir = join(root, 'observability', 'prometheus');
const dashboardFile = join(root, 'observability', 'grafana', 'dashboards', 'ringway-call-quality.json');
const dashboard = readDashboard(dashboardFile);
const readYaml = (path: string) => parse(readFileSync(join(root, path), 'utf8'));
/** Scrape and rule evaluation interval of the test's Prometheus: a short test needs a short one. */
const SCRAPE_S = 1;
const CALLS = 3;

describe('observability/ checked by promtool', () => {
  it('prometheus.yml is a valid config (the token file exists only in the container: syntax only)', () => {
    const check = promtool(['check', 'config', '--syntax-only', 'prometheus.yml'], prometheusDir);
    expect(check).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('the alert rules are valid: one-way audio and set-up time', () => {
    const check = promtool(['check', 'rules', 'ringway-alerts.yml'], prometheusDir);
    expect(check).toEqual({ status: 0, output: expect.stringContaining('SUCCESS: 2 rules found') });
  });

  it('the alerts fire on synthetic series past their thresholds, and not on healthy traffic or few calls (promtool test rules)', () => {
    const test = promtool(['test', 'rules', 'ringway-alerts.test.yml'], prometheusDir);
    expect(test).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });
});

describe('the compose profile observability', () => {
  // As Compose reads it (v1.29, Debian's), with the profile on.
  const run = spawnSync('docker-compose', ['--profile', 'observability', 'config'], {
    cwd: root,
    encoding: 'utf8',
  });
  type Service = {
    image?: string;
    profiles?: string[];
    command?: string[];
    entrypoint?: string[];
    volumes?: string[];
    healthcheck?: { test: string[] };
    networks?: { sip?: { ipv4_address?: string } };
  };
  const services = run.status === 0 ? (parse(run.stdout).services as Record<string, Service>) : {};
  const ip = (name: string) => services[name]?.networks?.sip?.ipv4_address;

  it('adds Prometheus and Grafana in the profile only, pinned, health-checked, at addresses of their own on the sip network', () => {
    expect(run.stderr).not.toMatch(/error/i);
    const profiled = Object.entries(services).filter(([, service]) => service.profiles);
    expect(profiled.map(([name]) => name).sort()).toEqual(['grafana', 'prometheus']);
    for (const [name, service] of profiled) {
      expect([name, service.profiles]).toEqual([name, ['observability']]);
      expect([name, service.image]).toEqual([
        name,
        expect.stringMatching(/^(prom\/prometheus|grafana\/grafana):v?\d+\.\d+\.\d+$/),
      ]);
      expect([name, (service.healthcheck?.test.length ?? 0) > 1]).toEqual([name, true]);
    }
    const addresses = Object.values(services).map((service) => service.networks?.sip?.ipv4_address);
    expect(ip('prometheus')).toMatch(/^172\.28\.0\.\d+$/);
    expect(ip('grafana')).toMatch(/^172\.28\.0\.\d+$/);
    expect(
      addresses.filter((address) => address === ip('prometheus') || address === ip('grafana')),
    ).toHaveLength(2);
  });

  it('has Prometheus scrape the gateway with the token from a file, not from a command line', () => {
    const config = readYaml('observability/prometheus/prometheus.yml');
    const [job] = config.scrape_configs;
    expect(job.static_configs[0].targets).toEqual([`${ip('gateway')}:8080`]);
    expect(job.authorization.credentials_file).toBeDefined();
    const prometheus = services.prometheus as Service;
    const script = [...(prometheus.entrypoint ?? []), ...(prometheus.command ?? [])].join(' ');
    // `$$` in docker-compose.yml: a variable for the container's shell, not a value from Compose.
    expect(script).toContain(`> ${job.authorization.credentials_file}`);
    expect(script).toMatch(/"\$\$?ADMIN_TOKEN"/);
    expect(script).not.toContain('change-me');
    expect(prometheus.volumes).toEqual([
      expect.stringMatching(/observability\/prometheus:\/etc\/prometheus:ro$/),
      // Its metrics in a named volume: kept across `down`, gone with `down -v`.
      'prometheus-data:/prometheus:rw',
    ]);
  });

  it('provisions Grafana with that Prometheus and the dashboard, whose every query names it', () => {
    const { datasources } = readYaml('observability/grafana/provisioning/datasources/prometheus.yml');
    expect(datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: `http://${ip('prometheus')}:9090` }),
    ]);
    const { providers } = readYaml('observability/grafana/provisioning/dashboards/ringway.yml');
    expect(services.grafana?.volumes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/observability\/grafana\/provisioning:\/etc\/grafana\/provisioning:ro$/),
        expect.stringMatching(
          new RegExp(`observability/grafana/dashboards:${providers[0].options.path}:ro$`),
        ),
      ]),
    );
    const queries = panelQueries(dashboard);
    expect(new Set(queries.map((query) => query.datasourceUid))).toEqual(new Set([datasources[0].uid]));
    const ids = allPanels(dashboard).map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('the dashboard on a Prometheus scraping a gateway that carries real calls', () => {
  const folder = mkdtempSync(join(tmpdir(), 'ringway-observability-'));
  const token = randomBytes(24).toString('base64url');
  let gateway: StartedServer;
  let gatewayPort: number;
  let prometheus: RunningPrometheus;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  let started: number;

  beforeAll(async () => {
    gatewayPort = await freeTcpPort();
    gateway = await startGatewayProcess(gatewayPort, { ADMIN_TOKEN: token });
    writeSecret(join(folder, 'admin-token'), token);
    const configFile = join(folder, 'prometheus.yml');
    writeFileSync(
      configFile,
      loopbackPrometheusConfig(join(prometheusDir, 'prometheus.yml'), {
        target: `127.0.0.1:${gatewayPort}`,
        credentialsFile: join(folder, 'admin-token'),
        intervalS: SCRAPE_S,
      }),
    );
    // The full check (token file and rule files included) of the config the test runs.
    expect(promtool(['check', 'config', configFile]).status).toBe(0);
    started = Date.now() / 1000;
    prometheus = await startPrometheus(configFile, folder);
    browser = await launchChromium();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await prometheus?.stop();
    await gateway?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('scrapes /metrics with the operator token (the gateway refuses it without) and loads both alert rules', async () => {
    expect((await fetch(`http://127.0.0.1:${gatewayPort}/metrics`)).status).toBe(401);
    const targets = await eventually(
      async () =>
        (await prometheus.api('targets', {})) as { activeTargets: { health: string; lastError: string }[] },
      ({ activeTargets }) => activeTargets[0]?.health === 'up',
      ({ activeTargets }) => `target not up: ${JSON.stringify(activeTargets)}`,
    );
    expect(targets.activeTargets).toHaveLength(1);
    const { groups } = (await prometheus.api('rules', {})) as { groups: { rules: { name: string }[] }[] };
    expect(groups.flatMap((group) => group.rules.map((rule) => rule.name)).sort()).toEqual([
      'RingwayCallSetupSlow',
      'RingwayOneWayAudio',
    ]);
    // (Prometheus's first scrape comes a scrape interval or more after it starts.)
  }, 30_000);

  it(`${CALLS} calls with audio both ways, one through a network change, each reported by both pages at hang-up`, async () => {
    alice = await openSoftphone(browser, `http://127.0.0.1:${gatewayPort}`, 'alice');
    bob = await openSoftphone(browser, `http://127.0.0.1:${gatewayPort}`, 'bob');
    for (let call = 0; call < CALLS; call += 1) {
      const [caller, callee, target] = call % 2 === 0 ? [alice, bob, 'bob'] : [bob, alice, 'alice'];
      await callAndAnswer(caller, callee, target);
      await audioGrowsBeyond(caller, 0);
      await audioGrowsBeyond(callee, 0);
      if (call === 1) {
        // A reconnection for the reconnection panel: the page reconnects and restarts its media.
        await caller.evaluate(() => window.dispatchEvent(new Event('online')));
        await expectText(caller, 'call-state', 'reconnecting');
        await expectText(caller, 'call-state', 'active', 10_000);
        await audioGrowsBeyond(callee, 0);
      }
      // A MOS once RTCP has given an RTT, on both sides: the MOS panels need it in the reports
      // (a call hung up before that reports none).
      await expectText(caller, 'quality-badge', /^(good|fair|poor) · MOS \d/, 15_000);
      await expectText(callee, 'quality-badge', /^(good|fair|poor) · MOS \d/, 15_000);
      await caller.getByTestId('hangup-button').click();
      await expectText(caller, 'call-state', /^ended/);
      await expectText(callee, 'call-state', /^ended/);
    }
    // Every report, scraped.
    await eventually(
      async () => (await prometheus.query('sum(ringway_call_quality_reports_total)', Date.now() / 1000))[0],
      (series) => series?.values[0] === 2 * CALLS,
      (series) => `Prometheus has ${series?.values[0]} quality reports, not ${2 * CALLS}`,
      { ms: 10_000, everyMs: 250 },
    );
  }, 90_000);

  it('every query of every panel returns data, with Grafana’s variables as it substitutes them', async () => {
    // One more scrape after the last report, so that every rate() sees it.
    await new Promise((resolve) => setTimeout(resolve, 2000 * SCRAPE_S));
    const end = Date.now() / 1000;
    const stepS = SCRAPE_S;
    const instances = (await prometheus.api('label/instance/values', {
      'match[]': 'ringway_calls_total',
      start: String(started),
      end: String(end),
    })) as string[];
    expect(instances).toEqual([`127.0.0.1:${gatewayPort}`]);
    // Every variable of the dashboard, as "All" (its allValue).
    const variables = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v.allValue ?? '.*']));
    const values = { ...intervalVariables(end - started, stepS, SCRAPE_S), ...variables };
    const queries = panelQueries(dashboard);
    expect(queries.length).toBeGreaterThanOrEqual(12);
    const empty: string[] = [];
    for (const query of queries) {
      const expr = substitute(query.expr, values);
      const series: PromSeries[] = query.instant
        ? await prometheus.query(expr, end)
        : await prometheus.queryRange(expr, started, end, stepS);
      // Data: at least one series, and each with a number (NaN is what Grafana draws as nothing).
      if (series.length === 0 || series.some((s) => !s.values.some(Number.isFinite)))
        empty.push(`${query.panel} (${query.refId}): ${expr} → ${JSON.stringify(series)}`);
    }
    expect(empty).toEqual([]);
    // What the stat panels show is what the calls were.
    const answered = await prometheus.query(
      substitute(queries.find((q) => q.panel === 'Calls answered')?.expr ?? '', values),
      end,
    );
    // increase() extrapolates to the ends of the range: a little more than the calls, never less.
    expect(Math.round(answered[0]?.values[0] ?? 0)).toBe(CALLS);
  }, 30_000);
});
