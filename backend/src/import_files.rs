//! The files of a lab to import, read from bytes: one file, or a `.tar`, `.tar.gz` or
//! `.zip` archive of a folder (how Kathará labs travel). Shared by `nslab import` and the
//! server's `POST /api/import`. Archives are read in memory, never unpacked to disk; an
//! entry whose path leaves the folder, a link, an archive cut short or too big is refused.
//! The main file is chosen and the others given by their path from its folder; the lab is
//! named after the file. The model's `import` then reads them.

use std::io::{Cursor, Read};
use std::path::{Component, PathBuf};

use nslab_model::import::{detect, from_name, import, ImportError, Imported, LeftOut, Source, SourceFiles};
use nslab_model::Limits;

/// The most files a folder or archive may give.
pub const MAX_FILES: usize = 2000;
/// An archive may unpack to this many times the largest lab file, at most.
const UNPACKED_FACTOR: usize = 8;

/// A source's files, the main one first, and the paths of the files it held that are not
/// text (named, not read).
#[derive(Debug, Default)]
pub struct Unpacked {
    pub files: SourceFiles,
    pub not_text: Vec<String>,
}

/// The most bytes an archive may have (packed) and unpack to.
pub fn archive_limit(limits: &Limits) -> usize {
    limits.max_bytes.saturating_mul(UNPACKED_FACTOR)
}

/// What kind of input some bytes are.
enum Packed {
    Tar,
    TarGz,
    Zip,
    Plain,
}

fn packing(bytes: &[u8]) -> Packed {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        Packed::TarGz
    } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Packed::Zip
    } else if bytes.len() >= 262 && &bytes[257..262] == b"ustar" {
        Packed::Tar
    } else {
        Packed::Plain
    }
}

/// The files in `bytes`: a plain file is the one file, named `shown`; an archive gives its
/// files, the main one chosen for `from`. The error is the reason, without `shown`.
pub fn unpack(shown: &str, bytes: Vec<u8>, from: Option<Source>, limits: &Limits) -> Result<Unpacked, String> {
    let archive_limit = archive_limit(limits);
    let packed = packing(&bytes);
    if bytes.len() > archive_limit && !matches!(packed, Packed::Plain) {
        return Err(format!("the archive is more than {archive_limit} bytes"));
    }
    let files = match packed {
        Packed::Plain => {
            if bytes.len() > limits.max_bytes {
                return Err(format!(
                    "the file is more than {} bytes; nslab imports files of at most {} bytes",
                    limits.max_bytes, limits.max_bytes
                ));
            }
            let text = String::from_utf8(bytes).map_err(|_| "the file is not text (UTF-8)".to_string())?;
            return Ok(Unpacked { files: SourceFiles::one(shown, text), not_text: Vec::new() });
        }
        Packed::Tar => untar(&bytes, limits),
        Packed::TarGz => gunzip(&bytes, archive_limit).and_then(|tar| untar(&tar, limits)),
        Packed::Zip => unzip(bytes, limits),
    }?;
    choose_main(files, from)
}

/// A lab imported from the bytes of a file called `file` (its name tells the format when
/// `from` does not, and names the lab): the lab and what it left out, files that are not
/// text among them. The error is the whole message, `FILE: PLACE: WHY`.
pub fn import_bytes(
    file: Option<&str>,
    bytes: Vec<u8>,
    from: Option<Source>,
    limits: &Limits,
) -> Result<Imported, String> {
    let shown = file.unwrap_or("the file");
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(format!("{shown}: the file is empty"));
    }
    let Unpacked { files, not_text } = unpack(shown, bytes, from, limits).map_err(|why| format!("{shown}: {why}"))?;
    let source = from.or_else(|| detect(&files)).ok_or_else(|| {
        let names: Vec<&str> = Source::ALL.iter().map(|source| source.name()).collect();
        format!("{shown}: cannot tell which format this is; name it as one of {}", names.join(", "))
    })?;
    let name = match file {
        // A Kathará `lab.conf` alone says nothing of its lab's name (its folder's).
        Some(file) if file.rsplit('/').next() == Some("lab.conf") => "lab".to_string(),
        Some(file) => lab_name_from_file(file),
        None => "imported".to_string(),
    };
    let mut imported = import(source, &files, &name).map_err(|error| located(shown, &files, &error))?;
    imported.left_out.extend(not_text.into_iter().map(|path| LeftOut::new(path, "a file that is not text; not read")));
    Ok(imported)
}

/// Adds a folder's or archive's file, refused past the count and size limits.
pub fn add_file(
    files: &mut Vec<(String, Vec<u8>)>,
    path: String,
    bytes: Vec<u8>,
    limits: &Limits,
) -> Result<(), String> {
    if files.len() >= MAX_FILES {
        return Err(format!("more than {MAX_FILES} files; a lab has fewer"));
    }
    if bytes.len() > limits.max_bytes {
        return Err(format!("{path}: more than {} bytes; nslab imports files of at most that", limits.max_bytes));
    }
    files.push((path, bytes));
    Ok(())
}

/// An archive entry's path, refused when it would leave the archive's folder.
fn safe_path(raw: &str) -> Result<String, String> {
    let path = PathBuf::from(raw);
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(format!("`{raw}` leaves the archive's folder; refused"));
            }
        }
    }
    Ok(parts.join("/"))
}

fn gunzip(bytes: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(limit as u64 + 1)
        .read_to_end(&mut tar)
        .map_err(|e| format!("the archive is damaged or cut short (gzip: {e})"))?;
    if tar.len() > limit {
        return Err(format!("the archive unpacks to more than {limit} bytes"));
    }
    Ok(tar)
}

/// A tar archive's regular files. One that ends before its end-of-archive blocks was cut
/// short: tar itself would stop quietly at a header boundary, with files missing.
fn untar(bytes: &[u8], limits: &Limits) -> Result<Vec<(String, Vec<u8>)>, String> {
    let cut = |e: std::io::Error| format!("the archive is damaged or cut short (tar: {e})");
    let mut archive = tar::Archive::new(Cursor::new(bytes));
    let mut files = Vec::new();
    let mut end = 0u64;
    for entry in archive.entries().map_err(cut)? {
        let mut entry = entry.map_err(cut)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let size = entry.header().entry_size().map_err(cut)?;
        end = end.max(entry.raw_file_position() + size.div_ceil(512) * 512);
        let kind = entry.header().entry_type();
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        let path = safe_path(&raw)?;
        if !kind.is_file() {
            return Err(format!("`{raw}` is a link or a device, which an imported lab may not hold; refused"));
        }
        let mut content = Vec::new();
        entry.by_ref().take(limits.max_bytes as u64 + 1).read_to_end(&mut content).map_err(cut)?;
        if (content.len() as u64) < size.min(limits.max_bytes as u64) {
            return Err(format!("the archive is cut short in `{raw}`"));
        }
        add_file(&mut files, path, content, limits)?;
    }
    let end = end as usize;
    let closed = bytes.len() >= end + 1024 && bytes[end..end + 1024].iter().all(|byte| *byte == 0);
    if !closed {
        return Err("the archive is cut short (it has no end-of-archive blocks)".to_string());
    }
    Ok(files)
}

fn unzip(bytes: Vec<u8>, limits: &Limits) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("the archive is damaged or cut short (zip: {e})"))?;
    let mut files = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| format!("the archive is damaged (zip: {e})"))?;
        let raw = entry.name().to_string();
        let path = safe_path(&raw)?;
        if entry.is_dir() {
            continue;
        }
        if entry.is_symlink() {
            return Err(format!("`{raw}` is a link, which an imported lab may not hold; refused"));
        }
        let mut content = Vec::new();
        entry
            .by_ref()
            .take(limits.max_bytes as u64 + 1)
            .read_to_end(&mut content)
            .map_err(|e| format!("`{raw}` is damaged (zip: {e})"))?;
        add_file(&mut files, path, content, limits)?;
    }
    Ok(files)
}

/// Puts the lab's main file first, with every path made relative to its folder (an
/// archive often holds one folder): a `lab.conf`, else a file whose name says its format,
/// else the only file. Files that are not text are named in `not_text` and not read.
pub fn choose_main(files: Vec<(String, Vec<u8>)>, from: Option<Source>) -> Result<Unpacked, String> {
    let depth = |path: &str| path.matches('/').count();
    let fits = |path: &str| {
        let named = if path.rsplit('/').next() == Some("lab.conf") { Some(Source::Kathara) } else { from_name(path) };
        named.is_some() && (from.is_none() || named == from)
    };
    let main = files
        .iter()
        .filter(|(path, _)| fits(path))
        .min_by_key(|(path, _)| (depth(path), path.rsplit('/').next() != Some("lab.conf"), path.clone()))
        .map(|(path, _)| path.clone())
        .or_else(|| (files.len() == 1).then(|| files[0].0.clone()))
        .ok_or_else(|| {
            "no lab file in it: a containerlab `*.clab.yml`, a Kathará `lab.conf`, a CORE `.xml`, a MiniEdit `.mn`, a GNS3 `.gns3` or an `ip` script `.sh`".to_string()
        })?;
    let folder = main.rsplit_once('/').map_or(String::new(), |(folder, _)| format!("{folder}/"));
    let mut unpacked = Unpacked::default();
    for (path, bytes) in files {
        let Some(relative) = path.strip_prefix(&folder) else { continue };
        match String::from_utf8(bytes) {
            Ok(text) if path == main => unpacked.files.files.insert(0, (relative.to_string(), text)),
            Ok(text) => unpacked.files.files.push((relative.to_string(), text)),
            Err(_) if path == main => return Err(format!("{path}: the file is not text (UTF-8)")),
            Err(_) => unpacked.not_text.push(path),
        }
    }
    Ok(unpacked)
}

/// A reader's error placed for the user: `SHOWN: PLACE: WHY`, where the place inside a
/// folder's or archive's file starts with that file's path.
pub fn located(shown: &str, files: &SourceFiles, error: &ImportError) -> String {
    let inside = files.main().map(|(path, _)| path).filter(|path| *path != shown);
    let place = match inside {
        Some(path) if !error.place.starts_with(path) => format!("{path}: {}", error.place),
        _ => error.place.clone(),
    };
    if place == shown {
        format!("{place}: {}", error.message)
    } else {
        format!("{shown}: {place}: {}", error.message)
    }
}

/// A lab's name made from a file's name (`srl01.clab.yml` is `srl01`): without its
/// extensions, other characters as `-`, at most 32; `imported` when nothing is left.
pub fn lab_name_from_file(file: &str) -> String {
    let stem = strip_extensions(file);
    let cleaned: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' { c } else { '-' })
        .collect();
    let cleaned = cleaned.trim_matches(['-', '.']).replace("..", ".");
    if cleaned.is_empty() {
        "imported".to_string()
    } else {
        cleaned.chars().take(32).collect()
    }
}

fn strip_extensions(name: &str) -> &str {
    const EXTENSIONS: [&str; 13] = [
        ".clab.yml",
        ".clab.yaml",
        ".tar.gz",
        ".tgz",
        ".tar",
        ".zip",
        ".yml",
        ".yaml",
        ".xml",
        ".mn",
        ".gns3",
        ".sh",
        ".txt",
    ];
    let lower = name.to_ascii_lowercase();
    EXTENSIONS.iter().find(|ext| lower.ends_with(*ext)).map_or(name, |ext| &name[..name.len() - ext.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_archive_are_refused() {
        assert_eq!(safe_path("lab/./r1.startup"), Ok("lab/r1.startup".to_string()));
        for raw in ["../etc/passwd", "/etc/passwd", "lab/../../x"] {
            assert!(safe_path(raw).unwrap_err().contains("leaves the archive's folder"), "{raw}");
        }
    }

    #[test]
    fn a_lab_is_named_after_its_file() {
        assert_eq!(lab_name_from_file("srl01.clab.yml"), "srl01");
        assert_eq!(lab_name_from_file("seed article.sh"), "seed-article");
        assert_eq!(lab_name_from_file("-"), "imported");
        assert_eq!(lab_name_from_file("labs.tar.gz"), "labs");
    }

    #[test]
    fn the_main_file_is_the_lab_conf_or_the_one_named_for_its_format() {
        let file = |path: &str| (path.to_string(), b"text".to_vec());
        let files = vec![file("top/pc1.startup"), file("top/lab.conf"), file("top/pc1/etc/x"), file("other")];
        let chosen = choose_main(files, None).unwrap();
        let paths: Vec<&str> = chosen.files.files.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["lab.conf", "pc1.startup", "pc1/etc/x"]);
        let chosen = choose_main(vec![file("notes.txt"), file("a.clab.yml")], Some(Source::Clab)).unwrap();
        assert_eq!(chosen.files.main().unwrap().0, "a.clab.yml");
        assert!(choose_main(vec![file("a"), file("b")], None).unwrap_err().contains("no lab file"));
        let binary = vec![file("lab.conf"), ("logo.png".to_string(), vec![0xff, 0xfe])];
        assert_eq!(choose_main(binary, None).unwrap().not_text, ["logo.png"]);
    }
}
