/** An element of index.html by its id: every id the page's modules ask for is there. */
export const $ = <E extends HTMLElement>(id: string) => document.getElementById(id) as E;

export function show(id: string, visible: boolean): void {
  $(id).hidden = !visible;
}

export function setText(id: string, text: string): void {
  $(id).textContent = text;
}
