import { readFileSync } from 'node:fs';

/** The parts of a Grafana dashboard's JSON model the tests read. */
interface Target {
  expr?: string;
  refId: string;
  instant?: boolean;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: Target[];
  /** A collapsed row keeps its panels here. */
  panels?: Panel[];
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: {
    list: { name: string; type: string; query?: { query: string } | string; allValue?: string }[];
  };
}

/** One PromQL query of a panel, as Grafana would send it once its variables are substituted. */
export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
  /** Asked for the last moment only (stat and bar-gauge panels), not over the time range. */
  instant: boolean;
  datasourceUid: string | undefined;
}

export function readDashboard(path: string): Dashboard {
  return JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
}

/** Every panel, those of collapsed rows included. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Every query of the dashboard's panels, with Grafana's variables still in it. */
export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  return allPanels(dashboard).flatMap((panel) =>
    (panel.targets ?? [])
      .filter((target) => target.expr !== undefined)
      .map((target) => ({
        panel: panel.title,
        refId: target.refId,
        expr: target.expr as string,
        instant: target.instant === true,
        datasourceUid: target.datasource?.uid ?? panel.datasource?.uid,
      })),
  );
}

/**
 * Grafana's interval variables for a time range of `rangeS` seconds drawn every `stepS` seconds
 * from a Prometheus scraping every `scrapeS` seconds: `$__interval` is the step, and
 * `$__rate_interval` max($__interval + scrape interval, 4 × scrape interval), as Grafana computes it
 * from the datasource's `timeInterval`.
 */
export function intervalVariables(rangeS: number, stepS: number, scrapeS: number): Record<string, string> {
  return {
    __interval: `${stepS}s`,
    __rate_interval: `${Math.max(stepS + scrapeS, 4 * scrapeS)}s`,
    __range: `${Math.ceil(rangeS)}s`,
  };
}

/**
 * `expr` with every variable ($name, ${name}, ${name:format}, [[name]]) replaced by its value;
 * throws on a variable without one, so that a variable added to the dashboard is not left untested.
 */
export function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (match, braced, bracketed, plain) => {
    const name = (braced ?? bracketed ?? plain) as string;
    const value = values[name];
    if (value === undefined) throw new Error(`${expr}: no value for the variable ${match}`);
    return value;
  });
}
