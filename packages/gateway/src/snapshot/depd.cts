// depd (http-errors' deprecation notices) in the start-up snapshot: it reads its caller's file
// from a stack trace when loaded, and stack traces are empty while a snapshot is built. This one
// says the same through process.emitWarning, once per message.
type Deprecate = ((message: string) => void) & {
  function: <F extends (...args: never[]) => unknown>(fn: F, message?: string) => F;
  property: (object: object, property: string, message?: string) => void;
};

function depd(namespace: string): Deprecate {
  const warned = new Set<string>();
  const deprecate = ((message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    process.emitWarning(message, 'DeprecationWarning', namespace);
  }) as Deprecate;
  deprecate.function = (fn, message) =>
    function (this: unknown, ...args: Parameters<typeof fn>) {
      deprecate(message ?? `${fn.name} is deprecated`);
      return fn.apply(this, args);
    } as typeof fn;
  deprecate.property = () => {};
  return deprecate;
}
export = depd;
