//! A captured packet as a dot travelling along its link, in the direction it went,
//! coloured by protocol (`capture.rs` throttles them: a flood is a steady stream of dots,
//! not a frozen page). The dot is an SVG circle put into the link's group for the length
//! of its trip and moved along the link's own line (where its ends are drawn now) by an
//! SVG animation.

const SVG: &str = "http://www.w3.org/2000/svg";
/// How long a dot takes along its link (the CSS animation's length too).
const TRIP_MS: u64 = 700;

/// Sends a dot of class `protocol` along link `link`, from its end a to b or back.
pub fn launch(link: usize, a_to_b: bool, protocol: &str) {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else { return };
    let selector = format!("svg.canvas g.link[data-index=\"{link}\"]");
    let Some(group) = document.query_selector(&selector).ok().flatten() else { return };
    let Some(wire) = group.query_selector("line.wire").ok().flatten() else { return };
    let at = |name: &str| wire.get_attribute(name).unwrap_or_default();
    let (a, b) = (format!("{} {}", at("x1"), at("y1")), format!("{} {}", at("x2"), at("y2")));
    let (from, to) = if a_to_b { (a, b) } else { (b, a) };
    let Ok(dot) = document.create_element_ns(Some(SVG), "circle") else { return };
    let Ok(motion) = document.create_element_ns(Some(SVG), "animateMotion") else { return };
    let _ = dot.set_attribute("class", &format!("packet-dot {protocol}"));
    let _ = dot.set_attribute("r", "4");
    let _ = motion.set_attribute("path", &format!("M{from} L{to}"));
    let _ = motion.set_attribute("dur", &format!("{TRIP_MS}ms"));
    let _ = motion.set_attribute("fill", "freeze");
    // Begun by hand: an animation put into a page that has run for a while would
    // otherwise count from the page's start, and be over before it is seen.
    let _ = motion.set_attribute("begin", "indefinite");
    let _ = dot.append_child(&motion);
    if let Ok(begin) = js_sys::Reflect::get(&motion, &"beginElement".into()) {
        if let Ok(begin) = wasm_bindgen::JsCast::dyn_into::<js_sys::Function>(begin) {
            let _ = group.append_child(&dot);
            let _ = begin.call0(&motion);
        }
    }
    leptos::prelude::set_timeout(move || dot.remove(), std::time::Duration::from_millis(TRIP_MS));
}
