/**
 * Characters XML 1.0 forbids outright (C0 controls other than tab/newline/return, lone surrogates,
 * U+FFFE/U+FFFF). A file name can hold them even if a function name cannot; one of them would make
 * the whole SVG unreadable, so they become U+FFFD instead of being escaped.
 */
const FORBIDDEN_IN_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/gu;

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // Attribute-value normalisation would turn these into spaces; as references they survive.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** Escapes text for XML element content and for attribute values (either quote style). */
export function escapeXml(text: string): string {
  return text.replace(FORBIDDEN_IN_XML, '\uFFFD').replace(/[&<>"'\t\n\r]/g, (c) => ENTITIES[c]);
}
