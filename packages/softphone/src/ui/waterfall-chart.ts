/** One phase of a call's set-up: from the step before (or the dial) to this step, in ms. */
export interface Phase {
  step: string;
  from: number;
  to: number;
}

/** The waterfall's steps as phases, in the order they happened. */
export function phases(entries: ReadonlyArray<readonly [string, number]>): Phase[] {
  const sorted = [...entries].sort((a, b) => a[1] - b[1]);
  return sorted.map(([step, at], index) => ({
    step,
    from: index === 0 ? 0 : (sorted[index - 1] as [string, number])[1],
    to: at,
  }));
}

/** The phase that took longest (the one to look at first), if any took time. */
export function slowest(all: readonly Phase[]): Phase | undefined {
  return all.reduce<Phase | undefined>(
    (worst, phase) => (!worst || phase.to - phase.from > worst.to - worst.from ? phase : worst),
    undefined,
  );
}

const SVG = 'http://www.w3.org/2000/svg';
const ROW = 18;
const LABEL = 110;
const WIDTH = 420;

/**
 * The set-up as a timeline (an SVG bar per phase, on one time axis), the slowest phase marked in
 * colour and in words; the numbered list beside it stays the text alternative.
 */
export function drawWaterfallChart(
  svg: SVGSVGElement,
  entries: ReadonlyArray<readonly [string, number]>,
): void {
  const all = phases(entries);
  const worst = slowest(all);
  const end = Math.max(1, ...all.map((p) => p.to));
  const scale = (ms: number) => LABEL + (ms / end) * (WIDTH - LABEL - 110);
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${all.length * ROW + 4}`);
  svg.replaceChildren(
    ...all.flatMap((phase, row) => {
      const y = row * ROW + 2;
      const label = document.createElementNS(SVG, 'text');
      label.setAttribute('x', '0');
      label.setAttribute('y', String(y + 12));
      label.textContent = phase.step;
      const bar = document.createElementNS(SVG, 'rect');
      bar.setAttribute('x', String(scale(phase.from)));
      bar.setAttribute('y', String(y));
      bar.setAttribute('width', String(Math.max(1, scale(phase.to) - scale(phase.from))));
      bar.setAttribute('height', String(ROW - 5));
      bar.dataset.step = phase.step;
      bar.dataset.ms = String(phase.to - phase.from);
      if (phase === worst) bar.classList.add('slowest');
      const value = document.createElementNS(SVG, 'text');
      value.setAttribute('x', String(scale(phase.to) + 4));
      value.setAttribute('y', String(y + 12));
      value.textContent = `${phase.to - phase.from} ms${phase === worst ? ' (slowest)' : ''}`;
      return [label, bar, value];
    }),
  );
}
