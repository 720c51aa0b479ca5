import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

/**
 * docker-compose.cluster.yml checked statically, merged over docker-compose.yml by Compose itself
 * (v1.29 here, as on Debian 12): two gateways and two Kamailio nodes that name each other
 * consistently — every gateway worker's upstream side is in Kamailio's gateway set and in the
 * other gateway's PEER_GATEWAYS, each gateway lists both nodes, each node both DMQ peers.
 */
const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');

interface Service {
  environment?: Record<string, string>;
  networks?: { sip?: { ipv4_address?: string } };
  healthcheck?: { test: string[] };
  build?: unknown;
}

function merged(): Record<string, Service> {
  const run = spawnSync(
    'docker-compose',
    ['-f', 'docker-compose.yml', '-f', 'docker-compose.cluster.yml', 'config'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (run.status !== 0) throw new Error(`docker-compose config: ${run.stderr}`);
  return (parse(run.stdout) as { services: Record<string, Service> }).services;
}

const list = (value: string | undefined) => (value ?? '').split(',').filter(Boolean);

describe('docker-compose.cluster.yml over docker-compose.yml', () => {
  const services = merged();
  const env = (name: string) => services[name]?.environment ?? {};
  const ip = (name: string) => services[name]?.networks?.sip?.ipv4_address ?? '';
  const gateways = ['gateway', 'gateway-2'];
  const nodes = ['kamailio', 'kamailio-2'];
  /** Every worker's upstream side of a gateway: UPSTREAM_LOCAL_PORT + i for i < WORKERS. */
  const sides = (gateway: string) =>
    Array.from(
      { length: Number(env(gateway).WORKERS) },
      (_, i) => `${ip(gateway)}:${Number(env(gateway).UPSTREAM_LOCAL_PORT) + i}`,
    );

  it('adds a second gateway and a second Kamailio node, built and health-checked like the first', () => {
    for (const name of [...gateways, ...nodes]) {
      expect([
        name,
        Boolean(services[name]?.build),
        (services[name]?.healthcheck?.test.length ?? 0) > 1,
      ]).toEqual([name, true, true]);
    }
    expect(new Set([...gateways, ...nodes].map(ip)).size).toBe(4);
  });

  it('names every gateway worker in both nodes’ gateway set and in the other gateway’s peers', () => {
    const allSides = gateways.flatMap(sides);
    expect(allSides).toHaveLength(4);
    for (const node of nodes) expect(list(env(node).GATEWAYS).sort()).toEqual([...allSides].sort());
    expect(list(env('gateway').PEER_GATEWAYS)).toEqual(sides('gateway-2'));
    expect(list(env('gateway-2').PEER_GATEWAYS)).toEqual(sides('gateway'));
  });

  it('has each gateway list both nodes, each preferring another one, and each node both DMQ peers', () => {
    const upstreams = gateways.map((gateway) => list(env(gateway).UPSTREAM));
    for (const upstream of upstreams)
      expect([...upstream].sort()).toEqual(nodes.map((node) => `${ip(node)}:5060`).sort());
    expect(upstreams[0]?.[0]).not.toBe(upstreams[1]?.[0]);
    for (const node of nodes) {
      expect(list(env(node).DMQ_PEERS).sort()).toEqual(nodes.map(ip).sort());
      expect(env(node).DMQ_NOTIFY_IP).toBe(ip(nodes.find((other) => other !== node) as string));
      expect(env(node).KAMAILIO_IP).toBe(ip(node));
    }
  });

  it('hands each page both gateways, shares the users, certificate and secret', () => {
    expect(list(env('gateway').WS_SERVERS)).toHaveLength(2);
    expect(env('gateway-2').WS_SERVERS).toBe(env('gateway').WS_SERVERS);
    for (const key of ['AUTH_SECRET', 'USERS_FILE', 'SIP_DOMAIN', 'REDIS_URL', 'TLS_SELF_SIGNED_DIR'])
      expect([key, env('gateway-2')[key]]).toEqual([key, env('gateway')[key]]);
    expect(env('gateway-2').ADVERTISED_HOST).toBe(ip('gateway-2'));
    const volumes = (name: string) => (services[name] as { volumes?: string[] }).volumes ?? [];
    expect(volumes('gateway-2')).toEqual(volumes('gateway'));
    expect(readFileSync(join(root, 'kamailio-config', 'entrypoint.sh'), 'utf8')).toMatch(/DMQ_PEERS/);
  });
});
