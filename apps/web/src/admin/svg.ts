// SVG elements built with the DOM: attributes through setAttribute, text through textContent, never markup.

const NS = 'http://www.w3.org/2000/svg';

export type Attributes = Record<string, string | number>;

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  text?: string,
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** A text element with a tooltip (`<title>`) holding the full text when `text` had to be shortened. */
export function label(text: string, max: number, attributes: Attributes): SVGTextElement {
  const chars = [...text];
  const short = chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
  const element = svg('text', attributes, short);
  if (short !== text) element.append(svg('title', {}, text));
  return element;
}

/** Replaces what `target` shows with `parts`, keeping its accessible `<title>`. */
export function redraw(target: SVGSVGElement, parts: Element[]): void {
  const title = target.querySelector(':scope > title');
  target.replaceChildren(...(title ? [title] : []), ...parts);
}

/**
 * The drawn width of `target` in CSS pixels, used as its viewBox width so text is drawn at its CSS size;
 * `fallback` while it is not laid out (hidden).
 */
export function widthOf(target: SVGSVGElement, fallback = 640): number {
  const width = Math.round(target.getBoundingClientRect().width);
  return width >= 200 ? width : fallback;
}

const rateFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const countFormat = new Intl.NumberFormat();

export const formatRate = (perSecond: number): string => rateFormat.format(perSecond);
export const formatCount = (count: number): string => countFormat.format(count);
