import {
  Injectable,
  ValidationPipe,
  type ArgumentMetadata,
  type PipeTransform,
  type ValidationError,
} from '@nestjs/common';
import { InvalidRequestError, type FieldError } from './errors.js';

/** Flattens class-validator's nested errors into one entry per bad field, named by its path. */
export function toFieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = /^\d+$/.test(error.property)
      ? `${parent}[${error.property}]`
      : parent
        ? `${parent}.${error.property}`
        : error.property;
    // class-validator's default messages start with the property name, which `field` already says.
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      message: message.startsWith(`${error.property} `)
        ? message.slice(error.property.length + 1)
        : message,
    }));
    return [...own, ...toFieldErrors(error.children ?? [], field)];
  });
}

/**
 * Input that peers send us over OCPI. Peers of other versions or vendors add fields of their
 * own; those are dropped rather than refused, while the admin API refuses unknown fields.
 */
export abstract class OcpiInput {}

const options = (forbidUnknown: boolean) =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: forbidUnknown,
    transform: true,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new InvalidRequestError(toFieldErrors(errors)),
  });

/** Far deeper than any DTO of this service. */
const MAX_NESTING = 32;

/** Depth of nested arrays and objects, measured without recursion. */
function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_NESTING) return deepest;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** The one validation pipe of the app: input is converted to its DTO and checked. */
@Injectable()
export class AppValidationPipe implements PipeTransform {
  private readonly strict = options(true);
  private readonly lenient = options(false);

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    // Custom parameters (OcpiAuth) carry what a guard resolved, not the caller's input.
    if (metadata.type === 'custom') return value;
    if (nestingDepth(value) > MAX_NESTING) {
      // class-transformer recurses per level and would overflow the stack on a hostile body.
      throw new InvalidRequestError([
        {
          field: metadata.data ?? metadata.type,
          message: `is nested more than ${MAX_NESTING} levels deep`,
        },
      ]);
    }
    const isOcpi = metadata.metatype?.prototype instanceof OcpiInput;
    return (isOcpi ? this.lenient : this.strict).transform(value, metadata);
  }
}
