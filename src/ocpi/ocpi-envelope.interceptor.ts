import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { ocpiSuccess, type OcpiEnvelope } from './envelope.js';

/** Wraps what an OCPI handler returns in the success envelope; errors go through the filter. */
@Injectable()
export class OcpiEnvelopeInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<OcpiEnvelope> {
    return next.handle().pipe(map((data: unknown) => ocpiSuccess(data)));
  }
}
