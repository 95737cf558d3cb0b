//! What the editor asks of the page around it: the canvas's size, a download, the markup
//! of the drawn picture, and that picture as a PNG.

use wasm_bindgen::JsCast;

/// The canvas's size on the screen, in pixels (800 x 600 before it is drawn).
pub fn canvas_size() -> (f64, f64) {
    let document = web_sys::window().and_then(|w| w.document());
    let svg = document.and_then(|d| d.query_selector("svg.canvas").ok().flatten());
    svg.map_or((800.0, 600.0), |svg| {
        let rect = svg.get_bounding_client_rect();
        (rect.width().max(1.0), rect.height().max(1.0))
    })
}

/// Calls `changed` with an element's size in pixels now and whenever it changes (a window
/// resized, the side panel dragged, presenter mode). The observer lives as long as the page:
/// it is set on the canvas, which does too.
pub fn watch_size(element: &web_sys::Element, changed: impl Fn(f64, f64) + 'static) {
    let callback = wasm_bindgen::closure::Closure::<dyn Fn(js_sys::Array)>::new(move |entries: js_sys::Array| {
        let entry = entries.get(0).unchecked_into::<web_sys::ResizeObserverEntry>();
        let rect = entry.content_rect();
        changed(rect.width(), rect.height());
    });
    if let Ok(observer) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()) {
        observer.observe(element);
        callback.forget();
    }
}

/// What only the editor draws, to edit with: a node's round handle, the ports veths are
/// dragged from, the wide invisible lines that catch clicks, a veth being drawn, the
/// selection rectangle.
const EDITING_ONLY: &str = "circle.handle, circle.port, line.hit, line.connecting, rect.band";

/// The markup of the drawn lab (the canvas's world group), without the viewport's
/// transform: the picture at zoom 1, in world coordinates, as a reader sees it: without
/// what is there to edit with (`EDITING_ONLY`) and without the selection.
pub fn world_markup() -> Option<String> {
    let document = web_sys::window().and_then(|w| w.document());
    let world = document.and_then(|d| d.query_selector("svg.canvas g.world").ok().flatten())?;
    let copy = world.clone_node_with_deep(true).ok()?.dyn_into::<web_sys::Element>().ok()?;
    let _ = copy.remove_attribute("transform");
    while let Ok(Some(element)) = copy.query_selector(EDITING_ONLY) {
        element.remove();
    }
    while let Ok(Some(element)) = copy.query_selector(".selected") {
        let classes = element.get_attribute("class").unwrap_or_default();
        let kept: Vec<&str> = classes.split_whitespace().filter(|c| *c != "selected").collect();
        let _ = element.set_attribute("class", &kept.join(" "));
    }
    Some(copy.outer_html())
}

/// Offers `content` as a file to download.
pub fn download(file_name: &str, kind: &str, content: &str) {
    let parts = js_sys_array(content);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(kind);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    click_download(&url, file_name);
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Draws `svg` (`size` units wide and high) on a canvas, `scale` pixels a unit, and offers
/// it as a PNG file once the browser has read the picture. Canvas and image are reached
/// by name (`call`): their web-sys bindings are features the crate does not otherwise
/// need.
pub fn download_png(file_name: &str, svg: &str, size: (f64, f64), scale: f64) -> Result<(), String> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let image = document.create_element("img").map_err(|_| "no image")?;
    let canvas = document.create_element("canvas").map_err(|_| "no canvas")?;
    let (width, height) = ((size.0 * scale).ceil(), (size.1 * scale).ceil());
    let _ = canvas.set_attribute("width", &width.to_string());
    let _ = canvas.set_attribute("height", &height.to_string());
    let file_name = file_name.to_string();
    let drawn = image.clone();
    let on_load = wasm_bindgen::closure::Closure::once_into_js(move || {
        let context = call(&canvas, "getContext", &["2d".into()]);
        let args = [drawn.into(), 0.into(), 0.into(), width.into(), height.into()];
        let url = context
            .and_then(|c| call(&c, "drawImage", &args))
            .and_then(|_| call(&canvas, "toDataURL", &["image/png".into()]));
        if let Some(url) = url.and_then(|u| u.as_string()) {
            click_download(&url, &file_name);
        }
    });
    js_sys::Reflect::set(&image, &"onload".into(), &on_load).map_err(|_| "the image cannot load")?;
    let source = format!("data:image/svg+xml;charset=utf-8,{}", js_sys::encode_uri_component(svg));
    image.set_attribute("src", &source).map_err(|_| "the picture cannot be read")?;
    Ok(())
}

/// Calls `method` of `object` by name; None when it is missing or throws.
fn call(
    object: &wasm_bindgen::JsValue,
    method: &str,
    arguments: &[wasm_bindgen::JsValue],
) -> Option<wasm_bindgen::JsValue> {
    let function = js_sys::Reflect::get(object, &method.into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
    let arguments: js_sys::Array = arguments.iter().collect();
    function.apply(object, &arguments).ok()
}

/// Has the browser download `url` as `file_name`, as a click on a link would.
pub(crate) fn click_download(url: &str, file_name: &str) {
    let document = web_sys::window().and_then(|w| w.document());
    if let Some(anchor) =
        document.and_then(|d| d.create_element("a").ok()).and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        anchor.set_href(url);
        anchor.set_download(file_name);
        anchor.click();
    }
}

fn js_sys_array(content: &str) -> wasm_bindgen::JsValue {
    let array = js_sys::Array::new();
    array.push(&wasm_bindgen::JsValue::from_str(content));
    array.into()
}
