// The page: hands the chosen files to the worker (which reads them with FileReaderSync, in slices)
// and shows what it sends back, in py-spy's layout.
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const $ = (id) => document.getElementById(id);

function element(tag, attributes, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
  e.append(...children);
  return e;
}

function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status').textContent = text;
}

function show(dump) {
  $('header').replaceChildren(
    element('p', {}, `Process ${dump.pid}: ${dump.commandLine.join(' ')}`),
    element('p', {}, `Python v${dump.pythonVersion} (${dump.executable})`),
  );
  $('stacks').replaceChildren(
    ...dump.threads.map((thread) => {
      const status = (thread.active ? 'active' : 'idle') + (thread.ownsGil ? '+gil' : '');
      const name = thread.name ? `: "${thread.name}"` : '';
      const frames = thread.frames.map((frame) => {
        const item = element(
          'li',
          { 'data-name': frame.name, 'data-filename': frame.filename, 'data-line': frame.line },
          `${frame.name} `,
          element('span', { class: 'file' }, `(${frame.shortFilename}:${frame.line})`),
        );
        for (const local of frame.locals ?? []) item.append(element('div', { class: 'local' }, `${local.name}: ${local.repr}`));
        return item;
      });
      return element(
        'section',
        { class: 'thread', 'data-tid': thread.nativeThreadId, 'data-name': thread.name ?? '' },
        element('h3', {}, `Thread ${thread.nativeThreadId} (${status})${name}`),
        element('ol', { class: 'frames' }, ...frames),
      );
    }),
  );
}

function read() {
  const core = $('core').files[0];
  if (!core) return;
  setStatus('reading', `Reading ${core.name}…`);
  worker.postMessage({ core, binaries: [...$('binaries').files], locals: $('locals').checked });
}

worker.onmessage = ({ data }) => {
  if (data.ok) {
    show(data.dump);
    setStatus('done', `${data.dump.threads.length} threads, read in ${data.ms} ms.`);
  } else {
    $('header').replaceChildren();
    $('stacks').replaceChildren();
    setStatus('error', `${data.code ?? 'error'}: ${data.message}`);
  }
};
worker.onerror = (event) => setStatus('error', `the worker failed: ${event.message}`);
for (const id of ['core', 'binaries', 'locals']) $(id).addEventListener('change', read);
