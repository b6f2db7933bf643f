import type { Type } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, getSchemaPath } from '@nestjs/swagger';

/**
 * JSON null as OpenAPI 3.0 can say it: `nullable` adds null to the `type` of its own schema object,
 * and an `enum` must list null too.
 */
const NULL_ONLY = { type: 'object', nullable: true, enum: [null] };

/**
 * A property that holds the DTO or null. OpenAPI 3.0 ignores `nullable` beside a `$ref`, and the
 * plugin's `{nullable: true, allOf: [{$ref}]}` still refuses null (null fails the `allOf`): this
 * documents `oneOf: [{$ref}, null]`. The description still comes from the doc comment.
 */
export function ApiNullableRef(dto: () => Type): PropertyDecorator {
  return (target, key) => {
    ApiExtraModels(dto())(target.constructor);
    // `type: Object` keeps the plugin's class type out (it would add `allOf: [{$ref}]`); swagger
    // drops it beside a declared `oneOf`. The plugin's `nullable: true` stays beside the `oneOf`,
    // where OpenAPI 3.0.3 ignores it: the null branch is what allows null.
    ApiProperty({ type: Object, oneOf: [{ $ref: getSchemaPath(dto()) }, NULL_ONLY] })(target, key);
  };
}

/** A property that holds one of these strings or null: the enum lists null, as OpenAPI 3.0 wants. */
export function ApiNullableEnum(values: readonly string[]): PropertyDecorator {
  return ApiProperty({ type: 'string', required: true, nullable: true, enum: [...values, null] });
}
