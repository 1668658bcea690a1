import { SEARCH_MATCH_FILL } from './flamegraph-colors.js';
import { LABEL_PADDING_PX, NARROW_CHAR_EM, WIDE_CHAR_EM, WIDE_CHAR_PATTERN } from './text-fit.js';

export interface StyleSizes {
  frameFontSizePx: number;
  uiFontSizePx: number;
  titleFontSizePx: number;
}

export function flamegraphStyle({ frameFontSizePx, uiFontSizePx, titleFontSizePx }: StyleSizes): string {
  return `
text { font-family: Verdana, 'DejaVu Sans', 'Noto Sans', sans-serif; fill: #000; }
#title { text-anchor: middle; font-size: ${titleFontSizePx}px; }
#subtitle { text-anchor: middle; font-size: ${uiFontSizePx}px; fill: #555; }
#details, #matched, #unzoom, #search, #message { font-size: ${uiFontSizePx}px; }
#matched, #search { text-anchor: end; }
#message { text-anchor: middle; fill: #555; }
#unzoom, #search { cursor: pointer; fill: #1a4e8a; }
#unzoom:hover, #search:hover { text-decoration: underline; }
#frames text { font-size: ${frameFontSizePx}px; pointer-events: none; }
.frame { cursor: pointer; }
.frame:hover rect { stroke: #000; stroke-width: 0.5; }
.frame.parent { opacity: 0.55; }
.hide { display: none; }
`;
}

/**
 * The interactive part. Plain ES2017 that reads everything it needs from the document (frame data
 * attributes, `#frames` configuration attributes), so the text is constant and holds no user data.
 * Exposed as `window.flamegraph` so tests and tools can drive it without synthesising clicks.
 * Label fitting mirrors `fitLabel` in text-fit.ts, with real glyph widths from a canvas.
 */
export const FLAMEGRAPH_SCRIPT = String.raw`
(function () {
  'use strict';
  var MATCH_FILL = '${SEARCH_MATCH_FILL}';
  var PADDING = ${LABEL_PADDING_PX};
  var WIDE = new RegExp('${WIDE_CHAR_PATTERN.source.replace(/\\/g, '\\\\')}', 'u');
  var framesGroup = document.getElementById('frames');
  var details = document.getElementById('details');
  var matchedText = document.getElementById('matched');
  var unzoomButton = document.getElementById('unzoom');
  var searchButton = document.getElementById('search');
  if (!framesGroup) return;
  var total = Number(framesGroup.getAttribute('data-total-samples'));
  var plotX = Number(framesGroup.getAttribute('data-plot-x'));
  var plotWidth = Number(framesGroup.getAttribute('data-plot-width'));
  var fontSize = Number(framesGroup.getAttribute('data-font-size'));
  var frames = Array.prototype.slice.call(framesGroup.querySelectorAll('g.frame')).map(function (g) {
    return {
      g: g,
      rect: g.querySelector('rect'),
      text: g.querySelector('text'),
      title: g.querySelector('title'),
      id: Number(g.getAttribute('data-id')),
      kind: g.getAttribute('data-kind'),
      label: g.getAttribute('data-label'),
      start: Number(g.getAttribute('data-start')),
      samples: Number(g.getAttribute('data-samples')),
      depth: Number(g.getAttribute('data-depth')),
      fill: g.querySelector('rect').getAttribute('fill')
    };
  });
  var zoomed = null;
  var currentSearch = null;

  var measure = (function () {
    var context = null;
    try {
      var canvas = document.createElementNS('http://www.w3.org/1999/xhtml', 'canvas');
      context = canvas.getContext && canvas.getContext('2d');
      var sample = frames.length > 0 && frames[0].text;
      if (context && sample) {
        context.font = fontSize + 'px ' + window.getComputedStyle(sample).fontFamily;
      }
    } catch (e) {
      context = null;
    }
    if (context) return function (text) { return context.measureText(text).width; };
    return function (text) {
      var ems = 0;
      Array.from(text).forEach(function (c) { ems += WIDE.test(c) ? ${WIDE_CHAR_EM} : ${NARROW_CHAR_EM}; });
      return ems * fontSize;
    };
  })();

  function fitLabel(label, width) {
    var available = width - 2 * PADDING;
    if (available <= 0) return '';
    if (measure(label) <= available) return label;
    var chars = Array.from(label);
    var low = 0, high = chars.length - 1;
    while (low < high) {
      var mid = Math.ceil((low + high) / 2);
      if (measure(chars.slice(0, mid).join('') + '..') <= available) low = mid; else high = mid - 1;
    }
    return low >= 1 ? chars.slice(0, low).join('') + '..' : '';
  }

  function frameFor(target) {
    if (target && target.g) return target;
    if (typeof target === 'number' || typeof target === 'string') {
      return frames.filter(function (f) { return f.id === Number(target); })[0] || null;
    }
    if (target && target.closest) {
      var g = target.closest('g.frame');
      return frames.filter(function (f) { return f.g === g; })[0] || null;
    }
    return null;
  }

  // Lays every frame out for the current zoom: the zoomed frame's range spans the plot, its
  // ancestors stay (full width, dimmed), everything outside its range is hidden.
  function layout() {
    var start = zoomed ? zoomed.start : 0;
    var samples = zoomed ? zoomed.samples : total;
    var depth = zoomed ? zoomed.depth : 0;
    var scale = plotWidth / samples;
    frames.forEach(function (f) {
      var isAncestor = zoomed !== null && f.depth < depth && f.start <= start && f.start + f.samples >= start + samples;
      var inside = f.depth >= depth && f.start >= start && f.start + f.samples <= start + samples;
      var visible = isAncestor || inside;
      f.g.classList.toggle('hide', !visible);
      f.g.classList.toggle('parent', isAncestor);
      if (!visible) return;
      var x = isAncestor ? 0 : (f.start - start) * scale;
      var width = isAncestor ? plotWidth : f.samples * scale;
      f.rect.setAttribute('x', (plotX + x).toFixed(2));
      f.rect.setAttribute('width', width.toFixed(2));
      f.text.setAttribute('x', (plotX + x + PADDING).toFixed(2));
      f.text.textContent = fitLabel(f.label, width);
    });
    unzoomButton.classList.toggle('hide', zoomed === null);
  }

  function zoom(target) {
    var frame = frameFor(target);
    if (!frame) return false;
    zoomed = frame.kind === 'root' ? null : frame;
    layout();
    return true;
  }

  function resetZoom() {
    zoomed = null;
    layout();
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^$\{\}()|[\]\\]/g, '\\$&');
  }

  // Highlights frames whose label matches; the matched share counts each sample once, however many
  // nested matching frames it sits under (the union of the matches' ranges).
  function search(term, options) {
    if (term === null || term === undefined || term === '') { clearSearch(); return null; }
    var flags = options && options.ignoreCase ? 'i' : '';
    var pattern;
    try { pattern = new RegExp(term, flags); } catch (e) { pattern = new RegExp(escapeRegExp(term), flags); }
    var ranges = [];
    frames.forEach(function (f) {
      var match = f.kind !== 'root' && pattern.test(f.label);
      f.g.classList.toggle('match', match);
      f.rect.setAttribute('fill', match ? MATCH_FILL : f.fill);
      if (match) ranges.push([f.start, f.start + f.samples]);
    });
    ranges.sort(function (a, b) { return a[0] - b[0]; });
    var matchedSamples = 0, coveredTo = 0;
    ranges.forEach(function (r) {
      var from = Math.max(r[0], coveredTo);
      if (r[1] > from) matchedSamples += r[1] - from;
      coveredTo = Math.max(coveredTo, r[1]);
    });
    var percent = total > 0 ? 100 * matchedSamples / total : 0;
    currentSearch = { term: String(term), matchedSamples: matchedSamples, totalSamples: total, percent: percent };
    matchedText.textContent = 'Matched: ' + percent.toFixed(1) + '%';
    matchedText.classList.remove('hide');
    searchButton.textContent = 'Clear Search';
    return currentSearch;
  }

  function clearSearch() {
    frames.forEach(function (f) {
      f.g.classList.remove('match');
      f.rect.setAttribute('fill', f.fill);
    });
    currentSearch = null;
    matchedText.textContent = '';
    matchedText.classList.add('hide');
    searchButton.textContent = 'Search';
  }

  function promptSearch() {
    var term = window.prompt('Search for (regular expression, or plain text):', currentSearch ? currentSearch.term : '');
    if (term !== null && term !== '') search(term);
  }

  function showDetails(frame) {
    details.textContent = frame ? 'Function: ' + frame.title.textContent : ' ';
  }

  framesGroup.addEventListener('mouseover', function (e) { showDetails(frameFor(e.target)); });
  framesGroup.addEventListener('mouseout', function () { showDetails(null); });
  framesGroup.addEventListener('click', function (e) { zoom(e.target); });
  unzoomButton.addEventListener('click', resetZoom);
  searchButton.addEventListener('click', function () { if (currentSearch) clearSearch(); else promptSearch(); });
  window.addEventListener('keydown', function (e) {
    if (e.key === 'F3' || ((e.ctrlKey || e.metaKey) && (e.key === 'f' || e.key === 'F'))) {
      e.preventDefault();
      promptSearch();
    } else if (e.key === 'Escape') {
      if (currentSearch) clearSearch(); else if (zoomed) resetZoom();
    }
  });

  searchButton.classList.remove('hide');
  layout();
  window.flamegraph = {
    search: search,
    clearSearch: clearSearch,
    zoom: zoom,
    resetZoom: resetZoom,
    get zoomedFrame() { return zoomed ? zoomed.g : null; },
    get currentSearch() { return currentSearch; }
  };
})();
`;
