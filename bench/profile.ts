import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Summarises V8 .cpuprofile files (written by `node --cpu-prof`) into self time by function and
 * by module (an npm package, a file of ours, or Node's internals), idle time left out.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  location: string;
  self_ms: number;
  share: number;
}

export interface ProfileSummary {
  dir: string;
  files: number;
  total_ms: number;
  top_functions: ProfileEntry[];
  top_modules: ProfileEntry[];
}

export async function summariseProfiles(dir: string, top = 15): Promise<ProfileSummary | null> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return null;
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  for (const file of files) {
    const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile;
    addSelfTimes(profile, byFunction, byModule);
  }
  const total = [...byModule.values()].reduce((a, b) => a + b, 0);
  const entries = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([location, us]) => ({ location, self_ms: Math.round(us / 1000), share: total ? us / total : 0 }));
  return { dir, files: files.length, total_ms: total / 1000, top_functions: entries(byFunction), top_modules: entries(byModule) };
}

function addSelfTimes(profile: CpuProfile, byFunction: Map<string, number>, byModule: Map<string, number>): void {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)') return;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = shortUrl(url);
    const fn = file ? `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}` : functionName;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const mod = moduleOf(url) ?? functionName;
    byModule.set(mod, (byModule.get(mod) ?? 0) + us);
  });
}

function shortUrl(url: string): string {
  if (!url) return '';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length);
  const src = url.search(/\/(src|bench|test)\//);
  return src >= 0 ? url.slice(src + 1) : url.replace(/^file:\/\//, '');
}

/** An npm package, one of our files, or "node:internals". */
function moduleOf(url: string): string | undefined {
  if (!url) return undefined;
  if (url.startsWith('node:')) return 'node:internals';
  const short = shortUrl(url);
  if (url.includes('/node_modules/')) {
    const parts = short.split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return short;
}
