/**
 * Enrollment control through the API (admin): hosts waiting for approval (`enrollment.mode:
 * approve`), approving or rejecting them, and rotating a host's agent token. Every action is in the
 * audit log. See store/host-admission.ts for what is kept and ingest/agent-session.ts for what the
 * agent sees (4014 until approved; the rotated token in its next `welcome`).
 */
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors.js';
import type { FactStore } from '../store/fact-store.js';
import type { ApiRouter } from './api-router.js';
import { isoDateTime } from './api-schemas.js';
import { recordAdminAction } from './audit-log-routes.js';
import { hostParamsSchema } from './hosts-routes.js';

export const pendingHostSchema = z.object({
  id: z.string(),
  environment: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  agentVersion: z.string().nullable(),
  requestedAt: isoDateTime,
  source: z.string().nullable().meta({ description: 'Remote address of the agent that asked to enroll.' }),
  reenroll: z.boolean().meta({ description: 'The host id is already enrolled: approving replaces its token.' }),
});

export const pendingHostsResponseSchema = z.object({ hosts: z.array(pendingHostSchema) });

export const approvedHostSchema = z.object({
  id: z.string(),
  approved: z.literal(true),
  approvedAt: isoDateTime,
  environment: z.string().nullable(),
  reenrolled: z.boolean(),
});

export const rejectedHostSchema = z.object({ id: z.string(), rejected: z.literal(true) });

export const tokenRotationSchema = z.object({
  id: z.string(),
  requestedAt: isoDateTime,
  connected: z.boolean().meta({
    description: 'The agent was connected and was asked to reconnect now; otherwise it rotates at its next hello.',
  }),
});

/** What the routes need of the agent gateway. */
export interface AdmissionDisconnector {
  disconnectForRotation(hostId: string): boolean;
  disconnectRevoked(hostId: string): void;
}

export function registerHostAdmissionRoutes(
  router: ApiRouter,
  { store, agents, now }: { store: FactStore; agents: AdmissionDisconnector | undefined; now: () => number },
): void {
  router.add(
    {
      method: 'get',
      path: '/api/v1/pending-hosts',
      operationId: 'listPendingHosts',
      summary: 'Hosts waiting for approval (enrollment mode `approve`), oldest request first',
      tag: 'hosts',
      auth: 'admin',
      response: pendingHostsResponseSchema,
    },
    async () => ({
      hosts: store.admission.listPending().map((pending) => ({
        id: pending.hostId,
        environment: pending.environment,
        labels: pending.labels,
        agentVersion: pending.agentVersion,
        requestedAt: new Date(pending.requestedAt).toISOString(),
        source: pending.source,
        reenroll: store.getHost(pending.hostId) !== undefined,
      })),
    }),
  );

  router.add(
    {
      method: 'post',
      path: '/api/v1/hosts/:id/approve',
      operationId: 'approveHost',
      summary: 'Approve a host waiting for approval: it joins the fleet at its next hello',
      description:
        'The token the agent got when it enrolled starts authenticating; the agent (told to retry every 30 s) ' +
        'connects and reports. For a host id already enrolled, its previous token is revoked. 404 when the host ' +
        'is not waiting; 409 when it was retired meanwhile.',
      tag: 'hosts',
      auth: 'admin',
      params: hostParamsSchema,
      response: approvedHostSchema,
      notFound: true,
      conflict: true,
    },
    async ({ params, c }) => {
      const pending = store.admission.getPending(params.id);
      if (!pending) throw new NotFoundError(`host ${JSON.stringify(params.id)} is not waiting for approval`);
      const existing = store.getHost(params.id);
      if (existing?.retiredAt != null) {
        throw new ConflictError(`host ${JSON.stringify(params.id)} is retired: enroll the machine under a new host id`);
      }
      const at = now();
      const { reenrolled } = await store.enrollHost({
        hostId: pending.hostId,
        tokenHash: pending.tokenHash,
        environment: pending.environment,
        labels: pending.labels,
        agentVersion: pending.agentVersion,
        at,
        source: pending.source,
      });
      await store.admission.removePending(pending.hostId);
      await store.admission.finishRotation(pending.hostId);
      if (reenrolled) agents?.disconnectRevoked(pending.hostId);
      await recordAdminAction(
        store,
        c,
        'host.approved',
        { hostId: pending.hostId, environment: pending.environment, reenrolled },
        at,
      );
      return {
        id: pending.hostId,
        approved: true as const,
        approvedAt: new Date(at).toISOString(),
        environment: pending.environment,
        reenrolled,
      };
    },
  );

  router.add(
    {
      method: 'post',
      path: '/api/v1/hosts/:id/reject',
      operationId: 'rejectHost',
      summary: 'Reject a host waiting for approval: its token is dropped (a new enrollment waits again)',
      description:
        'To keep a machine out for good, approve and retire it, or rotate the enroll secret. 404 when the host ' +
        'is not waiting for approval.',
      tag: 'hosts',
      auth: 'admin',
      params: hostParamsSchema,
      response: rejectedHostSchema,
      notFound: true,
    },
    async ({ params, c }) => {
      const removed = await store.admission.removePending(params.id);
      if (!removed) throw new NotFoundError(`host ${JSON.stringify(params.id)} is not waiting for approval`);
      await recordAdminAction(store, c, 'host.rejected', { hostId: removed.hostId, environment: removed.environment });
      return { id: removed.hostId, rejected: true as const };
    },
  );

  router.add(
    {
      method: 'post',
      path: '/api/v1/hosts/:id/rotate-token',
      operationId: 'rotateHostToken',
      summary: "Rotate a host's agent token: the agent gets a new one at its next hello",
      description:
        'A connected agent is closed with 4015 and says hello again at once; an offline one rotates when it comes ' +
        'back. The old token keeps working until the agent has used the new one, so an agent that could not save ' +
        'it is never locked out. 404 for an unknown host, 409 for a retired one.',
      tag: 'hosts',
      auth: 'admin',
      params: hostParamsSchema,
      response: tokenRotationSchema,
      notFound: true,
      conflict: true,
    },
    async ({ params, c }) => {
      const host = store.getHost(params.id);
      if (!host) throw new NotFoundError(`unknown host ${JSON.stringify(params.id)}`);
      if (host.retiredAt !== null) throw new ConflictError(`host ${JSON.stringify(params.id)} is retired`);
      const at = now();
      await store.admission.requestRotation(host.id, at, c.get('principal').name);
      const connected = agents?.disconnectForRotation(host.id) ?? false;
      await recordAdminAction(store, c, 'host.token-rotated', { hostId: host.id, connected }, at);
      return { id: host.id, requestedAt: new Date(at).toISOString(), connected };
    },
  );
}
