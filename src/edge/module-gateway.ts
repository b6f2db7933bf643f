import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Agent } from 'undici';
import { ForwardingError, NotFoundError, PayloadTooLargeError } from '../common/errors.js';
import type { AppConfig } from '../config/app-config.js';
import { describeNetworkError } from '../handshake/peer-client.js';
import { requestFields, requestIdOf } from '../logging/logging.module.js';
import { formatOperatorId } from '../operations/operator-id.js';
import { OperationsService } from '../operations/operations.service.js';
import type { Authentication } from '../tokens/tokens.service.js';
import { EdgeMetrics } from './edge-metrics.js';
import { checkedTail, segmentOf } from './edge-paths.js';
import { forwardCounted, rebase, trimBase, under } from './forwarding.js';

/** `/ocpi/{cc}/{pid}/2.1.1/{identifier}`: what comes after these segments goes upstream. */
const MODULE_PATH_DEPTH = 5;

/**
 * The inbound half of the edge (DESIGN 9.1): the peer's calls to a module an operation serves
 * behind the gateway, checked already (the connection token, by the OCPI guard), go to the
 * module's `upstream_url` with the path after the module, the query, the method and the body,
 * presenting GATEWAY_UPSTREAM_TOKEN and who is calling (`X-OCPI-Operation`, `X-OCPI-Peer`),
 * never the peer's token. The answer streams back as given, its `Link` URLs moved under the
 * public module URL so that the peer pages through the gateway.
 */
@Injectable()
export class ModuleGateway implements OnApplicationShutdown {
  private readonly logger = new Logger('Gateway');
  /** One keep-alive pool per upstream origin, UPSTREAM_CONNECTIONS connections at most each. */
  private readonly upstreams: Agent;
  private readonly upstreamToken?: string;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;

  constructor(
    config: ConfigService<AppConfig, true>,
    private readonly operations: OperationsService,
    private readonly metrics: EdgeMetrics,
  ) {
    this.upstreamToken = config.get('gatewayUpstreamToken', { infer: true });
    this.timeoutMs = config.get('upstreamTimeoutMs', { infer: true });
    this.maxBodyBytes = config.get('upstreamMaxBodyBytes', { infer: true });
    this.upstreams = new Agent({
      connections: config.get('upstreamConnections', { infer: true }),
      connect: { timeout: this.timeoutMs },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.upstreams.destroy();
  }

  async forward(
    request: IncomingMessage,
    response: ServerResponse,
    { operation, peer }: Authentication,
  ): Promise<void> {
    const url = request.url ?? '';
    const asked = segmentOf(url, MODULE_PATH_DEPTH).toLowerCase();
    const endpoint = operation.endpoints.find(
      (e) => e.upstream_url !== undefined && e.identifier.toLowerCase() === asked,
    );
    const operatorId = formatOperatorId(operation);
    if (!endpoint?.upstream_url) {
      throw new NotFoundError(
        `Operation ${operatorId} serves no module ${asked} here: see its version details for the modules it offers`,
      );
    }
    const { identifier } = endpoint;
    if (!this.upstreamToken) {
      // The admin API refuses such endpoints without the token: it was unset since.
      this.logger.error(
        requestFields(request),
        `Module ${identifier} of ${operatorId} is behind the gateway but GATEWAY_UPSTREAM_TOKEN is not set`,
      );
      throw new ForwardingError(502, 'gateway', `Module ${identifier} is unavailable right now`);
    }
    const upstreamBase = trimBase(endpoint.upstream_url);
    const publicBase = this.operations.moduleUrl(operation, identifier);
    const tail = checkedTail(url, MODULE_PATH_DEPTH);
    await forwardCounted(
      request,
      response,
      {
        dispatcher: this.upstreams,
        ...under(upstreamBase, tail),
        headers: {
          authorization: `Bearer ${this.upstreamToken}`,
          'x-request-id': requestIdOf(request) ?? randomUUID(),
          'x-ocpi-operation': operatorId,
          ...(peer && { 'x-ocpi-peer': peer }),
        },
        timeoutMs: this.timeoutMs,
        maxBodyBytes: this.maxBodyBytes,
      },
      (url) => rebase(url, upstreamBase, publicBase),
      this.metrics.start('gateway', identifier, request.method ?? 'GET'),
      (reason, cause) => {
        switch (reason) {
          case 'too_large':
            return new PayloadTooLargeError(
              `The request body is larger than ${this.maxBodyBytes} bytes, the most module ${identifier} takes`,
            );
          case 'timeout':
            return new ForwardingError(
              504,
              'gateway',
              `Module ${identifier} gave no answer within ${this.timeoutMs} ms: try again later`,
            );
          case 'unreachable':
            this.logger.warn(
              requestFields(request),
              `Upstream of module ${identifier} of ${operatorId} failed: ${describeNetworkError(cause)}`,
            );
            return new ForwardingError(
              502,
              'gateway',
              `Module ${identifier} could not be reached: try again later`,
            );
        }
      },
    );
  }
}
