/**
 * The http probe: one GET (http-get.ts), its `status` (a redirect is reported, not followed), the
 * version from `versionHeader` or from `versionJsonPath` in the JSON body, and for https URLs the
 * certificate under `tls.*` with the leaves `network.tls` uses (the same inspectTlsEndpoint, a
 * connection of its own). Any HTTP answer, a 500 too, makes the service reachable.
 */
import type { HttpServiceConfig } from '@envparity/shared';
import { type FactMap, type FactValue, formatPath } from '@envparity/shared';
import { inspectTlsEndpoint } from '../network-tls.js';
import { type HttpAnswer, httpGet, urlEndpoint } from './http-get.js';
import { evaluateJsonPath } from './http-json-path.js';
import type { ServiceObservation, ServiceProbe } from './types.js';

/** The version the response carries, or why it has none. */
function readVersion(spec: HttpServiceConfig, answer: HttpAnswer): { version?: string; error?: string } {
  if (spec.versionHeader !== undefined) {
    const value = answer.headers[spec.versionHeader.toLowerCase()];
    if (value !== undefined) return { version: Array.isArray(value) ? value.join(', ') : value };
    if (spec.versionJsonPath === undefined) return { error: `no ${spec.versionHeader} header in the response` };
  }
  if (spec.versionJsonPath === undefined) return {};
  const path = spec.versionJsonPath;
  if (answer.body === undefined) return { error: `${answer.bodyError ?? 'no response body'}: ${path} not read` };
  let document: unknown;
  try {
    document = JSON.parse(answer.body.toString('utf8'));
  } catch {
    return { error: `the response body is not JSON: ${path} not read` };
  }
  const found = evaluateJsonPath(document, path);
  if (!found.found || found.value === null) return { error: `${path} not found in the response body` };
  const { value } = found;
  if (typeof value === 'object')
    return { error: `${path} is ${Array.isArray(value) ? 'an array' : 'an object'}, not a version` };
  return { version: String(value) };
}

function tlsFacts(fields: Record<string, FactValue>): FactMap {
  const facts: FactMap = {};
  for (const [field, value] of Object.entries(fields)) facts[formatPath(['tls', field])] = value;
  return facts;
}

export const probeHttp: ServiceProbe<HttpServiceConfig> = async (spec, { signal, timeoutMs }) => {
  const url = new URL(spec.url);
  const { host, port } = urlEndpoint(url);
  const endpoint = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const tls = url.protocol === 'https:' ? inspectTlsEndpoint(endpoint, { signal, timeoutMs }) : undefined;
  const readBody = spec.versionJsonPath !== undefined;
  const [answer, tlsFields] = await Promise.all([
    httpGet(url, { signal, readBody }).catch((error: Error) => error),
    tls ?? Promise.resolve(undefined),
  ]);
  if (answer instanceof Error) {
    // The certificate is still worth reporting when the GET failed after the handshake.
    const facts = tlsFields && tlsFields.error === undefined ? tlsFacts(tlsFields) : {};
    return { reachable: false, facts, error: answer.message };
  }
  const facts = tlsFields ? tlsFacts(tlsFields) : {};
  facts.status = answer.status;
  const { version, error } = readVersion(spec, answer);
  const observation: ServiceObservation = { reachable: true, facts };
  if (version !== undefined) observation.version = version;
  if (error !== undefined) observation.error = error;
  return observation;
};
