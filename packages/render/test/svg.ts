import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { expect } from 'vitest';

export interface ParsedFrame {
  attributes: Record<string, string>;
  title: string;
  rect: Record<string, string>;
  text: string;
}

type Element = Record<string, unknown>;

/** Parses a rendered SVG (failing the test when it is not well-formed XML) and lists its frames. */
export function parseSvg(svg: string): { root: Element; frames: ParsedFrame[]; textById: Map<string, string> } {
  expect(XMLValidator.validate(svg)).toBe(true);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    htmlEntities: true,
    trimValues: false,
    parseTagValue: false,
    parseAttributeValue: false,
    isArray: (name) => name === 'g' || name === 'text',
  });
  const root = parser.parse(svg).svg as Element;
  const framesGroup = (root.g as Element[]).find((g) => g.id === 'frames')!;
  const textOf = (node: unknown): string =>
    typeof node === 'string' ? node : (((node as Element | undefined)?.['#text'] as string | undefined) ?? '');
  const frames = ((framesGroup.g as Element[] | undefined) ?? []).map((g) => {
    const { title, rect, text, ...attributes } = g;
    return {
      attributes: attributes as Record<string, string>,
      title: textOf(title),
      rect: rect as Record<string, string>,
      text: textOf((text as unknown[])[0]),
    };
  });
  const textById = new Map((root.text as Element[]).map((t) => [t.id as string, textOf(t)]));
  return { root, frames, textById };
}
