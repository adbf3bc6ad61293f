// JSON Schema (2020-12, the dialect of OpenAPI 3.1) from the zod schemas the routes validate
// with, so the document cannot describe a request the server would refuse, or the reverse.
// Inputs are described as a client sends them (`io: 'input'`): a query's `limit` is the
// string the route turns into a number. Refinements (`at least one field`) have no JSON
// Schema form and are left to the operation's description.
import { z } from 'zod';

export type JsonSchema = { readonly [key: string]: unknown };

export function fromZod(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  return rest;
}

export interface Parameter {
  readonly name: string;
  readonly in: 'query' | 'path';
  readonly required: boolean;
  readonly schema: JsonSchema;
}

/** One parameter per member of an object schema (the route's path or query schema). */
export function parametersOf(schema: z.ZodObject, where: Parameter['in']): Parameter[] {
  const object = fromZod(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, member]) => ({
    name,
    in: where,
    required: where === 'path' || (object.required ?? []).includes(name),
    schema: member,
  }));
}

// Response bodies, written from the renderers (http/render.ts): a `Shape<T>` must name every
// member of what the renderer returns and no other, so the compiler catches a field added to
// one and not the other.
export type Shape<T> = { readonly [K in keyof T]-?: JsonSchema };

export function object<T>(shape: Shape<T>, description?: string): JsonSchema {
  return { type: 'object', ...(description === undefined ? {} : { description }), properties: shape, required: Object.keys(shape) };
}

export const string: JsonSchema = { type: 'string' };
export const nullableString: JsonSchema = { type: ['string', 'null'] };
export const time: JsonSchema = { type: 'string', format: 'date-time' };
export const nullableTime: JsonSchema = { type: ['string', 'null'], format: 'date-time' };
export const boolean: JsonSchema = { type: 'boolean' };
export const integer: JsonSchema = { type: 'integer' };
export const nullableInteger: JsonSchema = { type: ['integer', 'null'] };
export const strings: JsonSchema = { type: 'array', items: string };
export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
export const arrayOf = (items: JsonSchema): JsonSchema => ({ type: 'array', items });
export const oneOfValues = (values: readonly string[]): JsonSchema => ({ type: 'string', enum: [...values] });
