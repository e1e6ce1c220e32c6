/**
 * Planted differences over what the fleet model produces (the demo): facts set or removed on every
 * host of an environment or on one host, and a fixed instance type per environment.
 */
import { CATEGORIES, canonicalPath, categoryOf, type FactMap, type FactValue } from '@envparity/shared';
import { INSTANCE_TYPES, type InstanceType } from './fleet-tables.js';

/** One planted fact (see `FleetModelOptions.plants`). */
export interface PlantedFact {
  /** Every host of this environment (with `hostIndex` too: that host, if it is in this environment). */
  environment?: string;
  /** One host, by index. */
  hostIndex?: number;
  /** A canonical fact path (`factPath(...)`); its first segment is the category. */
  path: string;
  /** The value to report; absent with `remove: true`. */
  value?: FactValue;
  /** Report the path as missing instead. */
  remove?: boolean;
}

/** The host a plant is matched against. */
export interface PlantTarget {
  environment: string;
  index: number;
}

const EMPTY_MAP: FactMap = {};

/** Environment -> its fixed instance type, checked against INSTANCE_TYPES. */
export function resolveInstanceTypes(
  instanceTypes: Readonly<Record<string, string>> | undefined,
): Map<string, InstanceType> {
  const fixed = new Map<string, InstanceType>();
  for (const [environment, name] of Object.entries(instanceTypes ?? {})) {
    const type = Object.values(INSTANCE_TYPES)
      .flat()
      .find((t) => t.name === name);
    if (!type) throw new Error(`unknown instance type ${JSON.stringify(name)} for environment ${environment}`);
    fixed.set(environment, type);
  }
  return fixed;
}

/**
 * Checks the plants and returns what applies them to a host's category maps (in place). Planted
 * maps of shared categories are cached per base map and set of plants, so hosts of a profile still
 * share one map object (one encoding, one fingerprint, one blob). Without plants it does nothing.
 */
export function createPlanter(
  plants: readonly PlantedFact[],
): (host: PlantTarget, result: Record<string, FactMap>) => void {
  for (const plant of plants) {
    if (plant.environment === undefined && plant.hostIndex === undefined)
      throw new Error(`planted fact ${plant.path}: name an environment or a host index`);
    if (plant.remove !== true && plant.value === undefined)
      throw new Error(`planted fact ${plant.path}: give a value or remove: true`);
    if (canonicalPath(plant.path) !== plant.path || !(CATEGORIES as readonly string[]).includes(categoryOf(plant.path)))
      throw new Error(`planted fact ${JSON.stringify(plant.path)}: not a canonical path of a known category`);
  }
  if (plants.length === 0) return () => {};
  const plantedMaps = new WeakMap<FactMap, Map<string, FactMap>>();
  return (host, result) => {
    const byCategory = new Map<string, number[]>();
    plants.forEach((plant, i) => {
      if (plant.environment !== undefined && plant.environment !== host.environment) return;
      if (plant.hostIndex !== undefined && plant.hostIndex !== host.index) return;
      const category = categoryOf(plant.path);
      let list = byCategory.get(category);
      if (!list) {
        list = [];
        byCategory.set(category, list);
      }
      list.push(i);
    });
    for (const [category, indices] of byCategory) {
      const base = result[category] ?? EMPTY_MAP;
      let variants = plantedMaps.get(base);
      if (!variants) {
        variants = new Map();
        plantedMaps.set(base, variants);
      }
      const key = indices.join(',');
      let map = variants.get(key);
      if (!map) {
        map = { ...base };
        for (const i of indices) {
          const plant = plants[i] as PlantedFact;
          if (plant.remove === true) delete map[plant.path];
          else map[plant.path] = plant.value as FactValue;
        }
        variants.set(key, map);
      }
      if (Object.keys(map).length > 0) result[category] = map;
      else delete result[category];
    }
    // Categories in their usual order, whatever the plants added.
    const ordered: Record<string, FactMap> = {};
    for (const category of CATEGORIES) if (result[category]) ordered[category] = result[category] as FactMap;
    for (const key of Object.keys(result)) delete result[key];
    Object.assign(result, ordered);
  };
}
