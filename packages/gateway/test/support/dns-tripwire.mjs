// Preloaded with `node --import`: reports on stderr every DNS call the process makes for a name,
// so that a test can prove start-up resolves none. Patches the CommonJS module object, which
// node:net and the ESM named exports (after syncBuiltinESMExports) share.
// net.Server.listen(port, host) passes even an IP literal through dns.lookup, which answers
// literals itself without asking any resolver; those are not reported.
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import { isIP } from 'node:net';

const report = (name, args) => {
  if (typeof args[0] === 'string' && isIP(args[0]) !== 0 && /^lookup$/.test(name.split('.').pop())) return;
  process.stderr.write(`DNS-TRIPWIRE ${name} ${JSON.stringify(args[0])}\n`);
};
const names = Object.keys(dns).filter((name) => /^(lookup|lookupService|resolve|reverse)/.test(name));
function wrap(target, label) {
  for (const name of names) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = function tripwire(...args) {
      report(`${label}${name}`, args);
      return original.apply(this, args);
    };
  }
}
wrap(dns, 'dns.');
wrap(dns.promises, 'dns.promises.');
wrap(dns.Resolver.prototype, 'Resolver.');
wrap(dns.promises.Resolver.prototype, 'promises.Resolver.');
syncBuiltinESMExports();
