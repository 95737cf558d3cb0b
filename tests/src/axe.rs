//! Accessibility checks: axe-core (installed by `scripts/setup`) run inside the page, as
//! its browser extension would run it.

use crate::page::Page;

/// axe-core's script, as `scripts/setup` installs it.
fn axe_source() -> String {
    let tools = std::env::var_os("NSLAB_TOOLS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/nslab"));
    let path = tools.join("axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}: run scripts/setup, which installs axe-core", path.display()))
}

/// The serious and critical violations axe-core finds on the page as it is now, each as
/// `rule: what it asks: the first elements concerned`. Empty when there are none.
pub async fn serious_violations(page: &Page<'_>) -> Vec<String> {
    let loaded = page.client.execute("return typeof window.axe === 'object';", vec![]).await.expect("a script runs");
    if loaded != serde_json::Value::Bool(true) {
        page.client.execute(&axe_source(), vec![]).await.expect("axe-core loads in the page");
    }
    let run = "const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ['violations'] })
            .then(result => done(result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ': ' + v.help + ': '
                    + v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(', '))))
            .catch(error => done(['axe-core failed: ' + error]));";
    let found = page.client.execute_async(run, vec![]).await.expect("axe-core runs");
    serde_json::from_value(found).expect("a list of violations")
}
