import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Spans for requests, GraphQL operations and database statements, created with explicit parents (no context manager,
 * so no AsyncLocalStorage and its cost on every promise while tracing is off): a request's statements are children of
 * its running operation, operations of the request's HTTP span, and that of the caller's `traceparent` when it sends
 * one. One tracer provider per server, not registered globally (two servers in a process keep their own).
 */
export type Tracing = {
  startRequest(method: string, path: string, headers: IncomingHttpHeaders, requestId: string): Span;
  finishRequest(span: Span, method: string, route: string, status: number): void;
  startOperation(parent: Span | null): Span;
  finishOperation(span: Span, operation: { name: string | null; type: string | null; path: string; errorCodes: readonly string[] }): void;
  startStatement(parent: Span | null, text: string): Span;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
};

/** A statement's text in a span: long texts (a seeding COPY, a large IN list) are cut here. */
const MAX_STATEMENT_TEXT = 2_048;

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (headers: IncomingHttpHeaders) => Object.keys(headers),
  get: (headers: IncomingHttpHeaders, key: string) => headers[key],
};

export function createTracing(options: { exporter: SpanExporter; serviceName?: string; batch?: boolean }): Tracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'agentgraph' }),
    // Batched in production (exported every few seconds, in the background); each span at once in tests.
    spanProcessors: [options.batch === false ? new SimpleSpanProcessor(options.exporter) : new BatchSpanProcessor(options.exporter)],
  });
  const tracer: Tracer = provider.getTracer('agentgraph');
  const under = (parent: Span | null) => (parent ? trace.setSpan(ROOT_CONTEXT, parent) : ROOT_CONTEXT);
  return {
    startRequest(method, path, headers, requestId) {
      const remote = propagator.extract(ROOT_CONTEXT, headers, headerGetter);
      return tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path, 'agentgraph.request_id': requestId } }, remote);
    },
    finishRequest(span, method, route, status) {
      // Named by route, not by path: a scanner's paths must not make a span name each.
      span.updateName(`${method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
    startOperation(parent) {
      return tracer.startSpan('graphql', { kind: SpanKind.INTERNAL }, under(parent));
    },
    finishOperation(span, operation) {
      span.updateName(operation.type ? `${operation.type}${operation.name ? ` ${operation.name}` : ''}` : 'graphql');
      if (operation.name) span.setAttribute('graphql.operation.name', operation.name);
      if (operation.type) span.setAttribute('graphql.operation.type', operation.type);
      span.setAttribute('agentgraph.execution_path', operation.path);
      if (operation.errorCodes.length) {
        span.setAttribute('graphql.error.codes', [...operation.errorCodes]);
        span.setStatus({ code: SpanStatusCode.ERROR, message: operation.errorCodes.join(', ') });
      }
      span.end();
    },
    startStatement(parent, text) {
      const verb = /^\s*(?:WITH\b[\s\S]*?\)\s*)?([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
      return tracer.startSpan(
        verb,
        { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.query.text': text.length > MAX_STATEMENT_TEXT ? `${text.slice(0, MAX_STATEMENT_TEXT)}…` : text } },
        under(parent),
      );
    },
    shutdown: () => provider.shutdown(),
  };
}

/** The tracing the configuration asks for (config.ts reads the OTEL_* variables); the OTLP exporter reads its own. */
export function tracingFor(config: { exporter: 'otlp' | 'console'; serviceName: string } | null): Tracing | null {
  if (!config) return null;
  return createTracing({ exporter: config.exporter === 'otlp' ? new OTLPTraceExporter() : new ConsoleSpanExporter(), serviceName: config.serviceName });
}
