//! WebAssembly binding of pyspy-core: what needs no operating system, today `dumpCore`. Thin on
//! purpose, like the napi binding: JS objects in, JSON out, errors as JS `Error`s with a `code`.
//!
//! Files cross as JS objects that read themselves in pieces (`read(offset, length)`), so that a
//! core of several GiB is never copied whole into the 4 GiB of wasm32 memory: in Node a file
//! descriptor read with `readSync`, in a browser a `File` sliced with `FileReaderSync`.

mod shapes;

use js_sys::Uint8Array;
use pyspy_core::core_file::{dump_core, ByteSource, CoreFile, FileOpener, SuppliedFile};
use pyspy_core::{DumpOptions, Error};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** A file that reads itself in pieces. */
export interface WasmFile {
  /** Its name or path: for messages, and to match a supplied binary to a file the core maps. */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes from `offset`. */
  read(offset: number, length: number): Uint8Array;
}
/** Opens a file the core maps, by the path the process knew it by; null where there is none. */
export type WasmOpener = (path: string) => WasmFile | null | undefined;
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "WasmFile")]
    pub type WasmFile;
    #[wasm_bindgen(method, getter)]
    fn name(this: &WasmFile) -> String;
    #[wasm_bindgen(method, getter)]
    fn size(this: &WasmFile) -> f64;
    #[wasm_bindgen(method, catch)]
    fn read(this: &WasmFile, offset: f64, length: u32) -> std::result::Result<Uint8Array, JsValue>;

    #[wasm_bindgen(typescript_type = "WasmOpener")]
    pub type WasmOpener;
    #[wasm_bindgen(method, js_name = call, catch)]
    fn call1(this: &WasmOpener, this_arg: &JsValue, path: &str) -> std::result::Result<JsValue, JsValue>;

    #[wasm_bindgen(typescript_type = "WasmFile[]")]
    pub type WasmFiles;
}

/// A JS file as a `ByteSource`; its size is read once.
struct JsSource {
    file: WasmFile,
    name: String,
    size: u64,
}

impl JsSource {
    fn new(file: WasmFile) -> JsSource {
        let size = file.size();
        let size = if size.is_finite() && size >= 0.0 { size as u64 } else { 0 };
        JsSource { name: file.name(), file, size }
    }
}

impl ByteSource for JsSource {
    fn len(&self) -> u64 {
        self.size
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> pyspy_core::Result<()> {
        let fail = |why: String| {
            Error::read_failed(format!("could not read {} bytes of {} at offset {offset:#x}: {why}", buf.len(), self.name))
        };
        let bytes = self.file.read(offset as f64, buf.len() as u32).map_err(|e| fail(describe(&e)))?;
        if bytes.length() as usize != buf.len() {
            return Err(fail(format!("got {} bytes", bytes.length())));
        }
        bytes.copy_to(buf);
        Ok(())
    }
}

fn describe(error: &JsValue) -> String {
    error.dyn_ref::<js_sys::Error>().map_or_else(|| format!("{error:?}"), |e| String::from(e.message()))
}

struct JsOpener(Option<WasmOpener>);

impl FileOpener for JsOpener {
    fn open(&self, path: &str) -> Option<Box<dyn ByteSource>> {
        let file = self.0.as_ref()?.call1(&JsValue::NULL, path).ok()?;
        if file.is_null() || file.is_undefined() {
            return None;
        }
        Some(Box::new(JsSource::new(file.unchecked_into())))
    }
}

/// pyspy-core's error as a JS `Error` whose `code` is its stable kind, as the napi binding makes it.
fn to_js_error(error: Error) -> JsValue {
    let js = js_sys::Error::new(&error.message);
    let _ = js_sys::Reflect::set(&js, &JsValue::from_str("code"), &JsValue::from_str(error.kind.code()));
    js.into()
}

/// Every thread's stack of the process `core` is a core of, as JSON in the shape of the napi
/// binding's `ProcessDump`. `binaries` are files supplied for files the core maps (matched by
/// name); `opener` opens the others where the caller has them. With `asyncio`, every asyncio
/// event loop and its tasks too (`loops`).
#[wasm_bindgen(js_name = dumpCore)]
pub fn dump_core_json(
    core: WasmFile,
    binaries: WasmFiles,
    opener: Option<WasmOpener>,
    locals: bool,
    asyncio: Option<bool>,
) -> Result<String, JsValue> {
    let binaries: Vec<WasmFile> = js_sys::Array::from(&binaries).iter().map(JsCast::unchecked_into).collect();
    let supplied = binaries
        .into_iter()
        .map(|file| {
            let source = JsSource::new(file);
            SuppliedFile { name: source.name.clone(), source: Box::new(source) }
        })
        .collect();
    let core = JsSource::new(core);
    let name = core.name.rsplit('/').next().unwrap_or(&core.name).to_string();
    let result = CoreFile::open(&name, Box::new(core), supplied, Box::new(JsOpener(opener)))
        .and_then(|core| dump_core(&core, DumpOptions { locals, asyncio: asyncio.unwrap_or(false) }))
        .map_err(to_js_error)?;
    serde_json::to_string(&shapes::ProcessDump::from(result)).map_err(|e| js_sys::Error::new(&e.to_string()).into())
}

/// Every `code` this module's errors can carry.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    pyspy_core::ErrorKind::ALL.iter().map(|k| k.code().to_string()).collect()
}
