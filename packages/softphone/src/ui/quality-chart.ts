import type { QualitySample } from '../call-quality.js';

/** What a history entry keeps of a call's quality: one point per sampled second, at most 60. */
export interface QualityPoint {
  mos: number;
  jitterMs: number;
  lossPercent: number;
  rttMs: number;
}

/** The call's one-second samples thinned to at most `max` evenly spread points (the last always kept). */
export function qualityPoints(samples: readonly QualitySample[], max = 60): QualityPoint[] {
  const every = Math.max(1, Math.ceil(samples.length / max));
  return samples
    .filter((_, index) => index % every === 0 || index === samples.length - 1)
    .map((s) => ({ mos: s.mos, jitterMs: s.jitterMs ?? 0, lossPercent: s.lossPercent, rttMs: s.rttMs ?? 0 }));
}

/** The four series, each on its own scale (a floor keeps a quiet call from looking dramatic). */
const SERIES: ReadonlyArray<{
  key: keyof QualityPoint;
  label: string;
  unit: string;
  floor: number;
  min?: number;
}> = [
  { key: 'mos', label: 'MOS', unit: '', floor: 4.5, min: 1 },
  { key: 'jitterMs', label: 'jitter', unit: ' ms', floor: 30 },
  { key: 'lossPercent', label: 'loss', unit: ' %', floor: 5 },
  { key: 'rttMs', label: 'RTT', unit: ' ms', floor: 200 },
];
const SVG = 'http://www.w3.org/2000/svg';
const ROW = 26;
const LABEL = 110;
const WIDTH = 360;

/** A small chart of a call's quality over its length: a line per series, its last value beside it. */
export function drawQualityChart(svg: SVGSVGElement, points: readonly QualityPoint[]): void {
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${SERIES.length * ROW}`);
  const x = (index: number) =>
    LABEL + (points.length > 1 ? (index / (points.length - 1)) * (WIDTH - LABEL) : 0);
  svg.replaceChildren(
    ...SERIES.flatMap(({ key, label, unit, floor, min = 0 }, row) => {
      const top = row * ROW + 3;
      const values = points.map((p) => p[key]);
      const high = Math.max(floor, ...values);
      const y = (value: number) => top + (1 - (value - min) / (high - min)) * (ROW - 8);
      const name = document.createElementNS(SVG, 'text');
      name.setAttribute('x', '0');
      name.setAttribute('y', String(top + 14));
      const last = values[values.length - 1];
      name.textContent = `${label} ${last === undefined ? '–' : `${Math.round(last * 10) / 10}${unit}`}`;
      const line = document.createElementNS(SVG, 'polyline');
      line.setAttribute(
        'points',
        values.map((value, index) => `${x(index).toFixed(1)},${y(value).toFixed(1)}`).join(' '),
      );
      line.dataset.series = key;
      return [name, line];
    }),
  );
}
