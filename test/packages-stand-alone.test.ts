import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

/**
 * Each package installs and imports on its own: scripts/pack-packages.sh (run by scripts/test.sh
 * after the build) packed @ringway/sdp, @ringway/softphone and @ringway/gateway as `npm publish`
 * would and installed the tarballs in an empty folder outside the repository. Here each is
 * imported there by a fresh Node: a dependency a package uses without declaring it (resolved in
 * the monorepo only through another package's) fails the import.
 */
const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const app = readFileSync(join(root, '.ci/results/packed-app'), 'utf8').trim();

/** Runs an ES module script with a fresh Node in the packed app's folder. */
function runThere(script: string): { stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: app,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { stdout: run.stdout, stderr: run.stderr };
}

describe('the packages, installed from their tarballs in an empty folder', () => {
  it('@ringway/sdp imports with its own sdp-transform and applies a policy', () => {
    const run = runThere(
      `import { resolvePolicy, commonCodecs } from '@ringway/sdp';
         import { createRequire } from 'node:module';
         const sdp = 'v=0\\r\\no=- 1 1 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\nm=audio 9 RTP/AVP 0 8\\r\\nc=IN IP4 127.0.0.1\\r\\na=rtpmap:0 PCMU/8000\\r\\na=rtpmap:8 PCMA/8000\\r\\n';
         const version = createRequire(import.meta.url)('sdp-transform/package.json').version;
         console.log(JSON.stringify({ version, codecs: commonCodecs(sdp, resolvePolicy({ preferences: ['PCMA/8000'], deny: ['PCMU/8000'] })) }));`,
    );
    expect(run.stderr).toBe('');
    const { version, codecs } = JSON.parse(run.stdout) as { version: string; codecs: unknown };
    expect(version).toMatch(/^3\./);
    expect(codecs).toEqual(['PCMA/8000']);
  });

  it('@ringway/softphone imports (Phone, Call and the state machines)', () => {
    const softphone = runThere(
      `console.log(JSON.stringify(Object.keys(await import('@ringway/softphone'))));`,
    );
    expect(softphone.stderr).toBe('');
    expect(JSON.parse(softphone.stdout)).toEqual(
      expect.arrayContaining(['Call', 'CallState', 'Phone', 'RegistrationState']),
    );
  });

  it('@ringway/gateway imports and builds an app that answers /healthz', () => {
    const run = runThere(
      `import { buildApp, loadConfig } from '@ringway/gateway';
         const app = await buildApp(loadConfig({ LOG_LEVEL: 'silent', TLS: 'off' }));
         const reply = await app.inject('/healthz');
         await app.close();
         console.log(reply.statusCode);`,
    );
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('200');
  });

  it('the installed tree has every dependency each package declares, and nothing missing', () => {
    const ls = spawnSync('npm', ['ls', '--all', '--offline', '--json'], { cwd: app, encoding: 'utf8' });
    const tree = JSON.parse(ls.stdout) as { problems?: string[]; dependencies: Record<string, unknown> };
    expect(tree.problems ?? []).toEqual([]);
    expect(Object.keys(tree.dependencies).sort()).toEqual([
      '@ringway/gateway',
      '@ringway/sdp',
      '@ringway/softphone',
    ]);
  });
});
