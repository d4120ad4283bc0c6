import { z } from 'zod';

/** Schemas registered here become named components of openapi.yaml (see src/api/schemas.ts). */
export const apiRegistry = z.registry<{ id: string }>();

/** Registers `schema` as the component `id`. */
export const named = <T extends z.ZodType>(id: string, schema: T): T => {
  apiRegistry.add(schema, { id });
  return schema;
};
