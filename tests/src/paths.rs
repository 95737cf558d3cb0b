//! Where things are: the repository, the built nslab binary, the built editor.

use std::path::PathBuf;

pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

pub fn example(name: &str) -> PathBuf {
    repo_root().join("examples").join(format!("{name}.json"))
}

/// A bundled example, loaded.
pub fn example_lab(name: &str) -> nslab_model::Lab {
    lab_at(&example(name))
}

/// The lab file at `path`, loaded (not validated).
pub fn lab_at(path: &std::path::Path) -> nslab_model::Lab {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    nslab_model::load_lab(&text, &Default::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub const EXAMPLES: [&str; 3] = ["seed-veth", "seed-bridge", "router"];

/// A reference lab built by hand with `ip`: `tests/fixtures/labs/NAME.sh`.
pub fn reference_lab(name: &str) -> PathBuf {
    let path = repo_root().join("tests").join("fixtures").join("labs").join(format!("{name}.sh"));
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

/// The `nslab` binary of this build (`target/<profile>/nslab`, next to the test's `deps/`).
pub fn nslab_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("tests run from target/<profile>/deps");
    let binary = profile_dir.join("nslab");
    assert!(binary.is_file(), "{} is missing: build it first (cargo build -p nslab)", binary.display());
    binary
}

/// Where Trunk's output is looked for: `dist/`, or `$NSLAB_DIST` when set (so that two
/// people building the editor at once do not overwrite each other's build). It may be
/// missing: the API works without it.
pub fn dist_path() -> PathBuf {
    std::env::var_os("NSLAB_DIST").map(PathBuf::from).unwrap_or_else(|| repo_root().join("dist"))
}

/// Trunk's output; the browser tests need it built (scripts/test does that).
pub fn dist_dir() -> PathBuf {
    let dist = dist_path();
    assert!(
        dist.join("index.html").is_file(),
        "{} has no built editor: run `trunk build --release` (scripts/test does)",
        dist.display()
    );
    dist
}

/// A folder for screenshots and other things a person may want to look at after a run.
pub fn artifacts_dir() -> PathBuf {
    let dir = repo_root().join("tests").join("artifacts");
    std::fs::create_dir_all(&dir).expect("can create tests/artifacts");
    dir
}
