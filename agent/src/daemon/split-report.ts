/**
 * Reports over the frame limit are split, never dropped: first one report per category, then a
 * category still too big is cut into chunks of paths (the first chunk keeps `full`, the rest are
 * `delta` sets). Each piece gets the fingerprints of its categories after applying it, so the
 * aggregator's check holds piece by piece.
 */
import {
  applyReport,
  categoryOf,
  encodeMessage,
  type FactMap,
  fingerprintMap,
  MAX_FRAME_BYTES,
  ProtocolError,
} from '@envparity/shared';
import type { ReportBody } from './reporter.js';

function encodedSize(body: ReportBody): number {
  return encodeMessage({ type: 'report', seq: 1, ...body }, Number.MAX_SAFE_INTEGER).length;
}

function chunkEntries<T>(entries: readonly T[], pieces: number): T[][] {
  const size = Math.max(1, Math.ceil(entries.length / pieces));
  const chunks: T[][] = [];
  for (let i = 0; i < entries.length; i += size) chunks.push(entries.slice(i, i + size));
  return chunks;
}

/** Pieces of one category's part of a report, each under `maxBytes` when possible. */
function splitCategory(category: string, body: ReportBody, maxBytes: number): ReportBody[] {
  const base = { observedAt: body.observedAt };
  const full = body.full?.[category];
  const delta = body.delta?.[category];
  const single: ReportBody = { ...base };
  if (full) single.full = { [category]: full };
  if (delta) single.delta = { [category]: delta };
  const size = encodedSize(single);
  if (size <= maxBytes) return [single];
  const pieces = Math.ceil(size / (maxBytes * 0.8));
  const out: ReportBody[] = [];
  if (full) {
    const chunks = chunkEntries(Object.entries(full), pieces);
    out.push({ ...base, full: { [category]: Object.fromEntries(chunks[0] ?? []) as FactMap } });
    for (const chunk of chunks.slice(1)) {
      out.push({ ...base, delta: { [category]: { set: Object.fromEntries(chunk) as FactMap, unset: [] } } });
    }
  }
  if (delta) {
    for (const chunk of chunkEntries(delta.unset, pieces)) {
      out.push({ ...base, delta: { [category]: { set: {}, unset: chunk } } });
    }
    for (const chunk of chunkEntries(Object.entries(delta.set), pieces)) {
      out.push({ ...base, delta: { [category]: { set: Object.fromEntries(chunk) as FactMap, unset: [] } } });
    }
  }
  for (const piece of out) {
    if (encodedSize(piece) > maxBytes) {
      throw new ProtocolError('OVERSIZE', `a single fact of category ${category} is over the frame limit`);
    }
  }
  return out;
}

/**
 * `body` as one or more report bodies whose frames fit in `maxBytes`, to be spooled in order.
 * `sent` is the state the first piece applies to (needed for the pieces' fingerprints). The meta
 * rides on the last piece.
 */
export function splitReport(sent: FactMap, body: ReportBody, maxBytes = MAX_FRAME_BYTES): ReportBody[] {
  if (encodedSize(body) <= maxBytes) return [body];
  const categories = [...new Set([...Object.keys(body.full ?? {}), ...Object.keys(body.delta ?? {})])].sort();
  const pieces = categories.flatMap((category) => splitCategory(category, body, maxBytes));
  let state = sent;
  for (const piece of pieces) {
    state = applyReport(state, piece);
    const touched = new Set([...Object.keys(piece.full ?? {}), ...Object.keys(piece.delta ?? {})]);
    const fingerprints: Record<string, string> = {};
    for (const category of touched) {
      const facts: FactMap = {};
      for (const [path, value] of Object.entries(state)) if (categoryOf(path) === category) facts[path] = value;
      fingerprints[category] = fingerprintMap(facts);
    }
    piece.fingerprints = fingerprints;
  }
  const last = pieces.at(-1);
  if (last && body.meta) last.meta = body.meta;
  return pieces;
}
