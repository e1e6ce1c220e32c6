/**
 * What the API asks of agents' sockets (close a retired host's, a rotated or revoked token's, ask
 * for a collection now), for several aggregators on one database: done here when the agent is
 * connected here, otherwise sent to the others as an `agent` signal, and the aggregator that has
 * the socket acts on it (cluster-node.ts).
 */
import type { AgentGateway } from '../ingest/agent-gateway.js';
import type { AgentCommand, ClusterSignal } from './cluster-signals.js';

export interface AgentCommands {
  disconnectRetired(hostId: string): void;
  disconnectForRotation(hostId: string): boolean;
  disconnectRevoked(hostId: string): void;
  /** False when the agent is connected nowhere. */
  requestCollect(hostId: string, categories?: string[]): boolean;
}

export class ClusterAgents implements AgentCommands {
  constructor(
    private readonly gateway: AgentGateway,
    private readonly isOnlineElsewhere: (hostId: string) => boolean,
    private readonly send: (signal: ClusterSignal) => void,
  ) {}

  disconnectRetired(hostId: string): void {
    this.gateway.disconnectRetired(hostId);
    if (!this.gateway.isOnline(hostId)) this.#forward('retired', hostId);
  }

  disconnectForRotation(hostId: string): boolean {
    if (this.gateway.disconnectForRotation(hostId)) return true;
    if (!this.isOnlineElsewhere(hostId)) return false;
    this.#forward('rotation', hostId);
    return true;
  }

  disconnectRevoked(hostId: string): void {
    this.gateway.disconnectRevoked(hostId);
    this.#forward('revoked', hostId);
  }

  requestCollect(hostId: string, categories?: string[]): boolean {
    if (this.gateway.requestCollect(hostId, categories)) return true;
    if (!this.isOnlineElsewhere(hostId)) return false;
    this.#forward('collect', hostId, categories);
    return true;
  }

  /** A command another aggregator forwarded: acted on when the socket is here. */
  run(command: AgentCommand, hostId: string, categories?: string[]): void {
    switch (command) {
      case 'collect':
        this.gateway.requestCollect(hostId, categories);
        return;
      case 'retired':
        this.gateway.disconnectRetired(hostId);
        return;
      case 'rotation':
        this.gateway.disconnectForRotation(hostId);
        return;
      case 'revoked':
        this.gateway.disconnectRevoked(hostId);
        return;
    }
  }

  #forward(command: AgentCommand, hostId: string, categories?: string[]): void {
    this.send({ kind: 'agent', command, hostId, ...(categories ? { categories } : {}) });
  }
}
