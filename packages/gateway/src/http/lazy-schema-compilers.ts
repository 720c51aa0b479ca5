import { AjvCompiler } from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type Validate = ((data: unknown) => boolean) & { errors?: unknown };
type Serialize = (data: unknown) => string;
/** Fastify's compilers factory shape: per app, options → per route schema, a compiled function. */
type BuildCompiler<Route, Compiled> = (
  externalSchemas: unknown,
  options: unknown,
) => (route: Route) => Compiled;

/**
 * Fastify's own compilers (Fastify's defaults: Ajv through @fastify/ajv-compiler for requests,
 * fast-json-stringify through @fastify/fast-json-stringify-compiler for responses), but each
 * route's function is compiled on its first use instead of before `listen()`: compiling every
 * schema (and Ajv's meta-schema) was a sixth of the bundle's start-up, and the response
 * serializers ~10 ms of a start from the snapshot, which keeps no function made at run time
 * (docs/start-up.md) — for routes most gateways serve rarely.
 */
function compiledOnFirstUse<Route, Compiled extends (data: unknown) => unknown>(
  compilers: BuildCompiler<Route, Compiled>,
  wrap: (compiled: () => Compiled) => Compiled,
): BuildCompiler<Route, Compiled> {
  return (externalSchemas, options) => {
    let compilerFor: ((route: Route) => Compiled) | undefined;
    return (route) => {
      let compiled: Compiled | undefined;
      return wrap(() => {
        compilerFor ??= compilers(externalSchemas, options);
        compiled ??= compilerFor(route);
        return compiled;
      });
    };
  };
}

/** The `schemaController` option for Fastify that compiles validators and serializers lazily. */
export const lazySchemaController = {
  compilersFactory: {
    // Ajv-shaped: whether the data is valid, and the errors in `errors`, as Fastify expects.
    buildValidator: compiledOnFirstUse(
      AjvCompiler() as unknown as BuildCompiler<unknown, Validate>,
      (compiled) => {
        const validate: Validate = (data) => {
          const valid = compiled()(data);
          validate.errors = compiled().errors;
          return valid;
        };
        return validate;
      },
    ),
    buildSerializer: compiledOnFirstUse(
      SerializerSelector() as unknown as BuildCompiler<unknown, Serialize>,
      (compiled) => (data) => compiled()(data),
    ),
  },
} as unknown as NonNullable<FastifyServerOptions['schemaController']>;
