/**
 * Intl.Segmenter, created on first use. The bundle puts this in place of `Intl.Segmenter` (see
 * build.mjs): yargs' string-width builds one when its module loads, and the first Segmenter of a
 * process loads ICU's break rules, ~15 ms of every start-up that only --help's wrapping needs.
 */
export class LazySegmenter {
  readonly #args: ConstructorParameters<typeof Intl.Segmenter>;
  #real: Intl.Segmenter | undefined;

  constructor(...args: ConstructorParameters<typeof Intl.Segmenter>) {
    this.#args = args;
  }

  segment(input: string): Intl.Segments {
    // globalThis.Intl, not Intl: the bundle's define replaces the bare name, this one is the real class.
    this.#real ??= new globalThis.Intl.Segmenter(...this.#args);
    return this.#real.segment(input);
  }
}
