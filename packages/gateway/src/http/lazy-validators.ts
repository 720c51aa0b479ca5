import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

type Validate = ((data: unknown) => boolean) & { errors?: unknown };
type BuildValidator = (externalSchemas: unknown, options: unknown) => (routeSchema: unknown) => Validate;

/**
 * Fastify's own validator compiler (Ajv through @fastify/ajv-compiler, Fastify's defaults), but
 * each route's validator is compiled on the route's first request instead of before `listen()`:
 * compiling every schema, and Ajv's meta-schema, was a sixth of the gateway's start-up, for
 * routes most gateways serve rarely. The function handed to Fastify is Ajv-shaped: it returns
 * whether the data is valid and keeps the errors in `errors`, as Fastify expects.
 */
function lazyValidators(): BuildValidator {
  const ajvCompilers = AjvCompiler() as unknown as BuildValidator;
  return (externalSchemas, options) => {
    let compilerFor: ((routeSchema: unknown) => Validate) | undefined;
    return (routeSchema) => {
      let validate: Validate | undefined;
      const lazy: Validate = (data) => {
        compilerFor ??= ajvCompilers(externalSchemas, options);
        validate ??= compilerFor(routeSchema);
        const valid = validate(data);
        lazy.errors = validate.errors;
        return valid;
      };
      return lazy;
    };
  };
}

/** The `schemaController` option for Fastify that compiles validators lazily. */
export const lazySchemaController = {
  compilersFactory: { buildValidator: lazyValidators() },
} as unknown as NonNullable<FastifyServerOptions['schemaController']>;
