//! `nslab import`: a lab from another tool's files. The files are read here (one file,
//! standard input, a folder, or a `.tar`, `.tar.gz` or `.zip` archive of a folder, the
//! last two unpacked by `import_files`, which the server shares); the model's `import`
//! reads them into a lab. Bad input (no format named or found, a file that is not that
//! format, an empty file, an archive that is cut short or whose paths leave its folder)
//! exits 2 with the place and the reason, and nothing is written.

use std::io::{Read, Write};
use std::path::Path;

use nslab_model::export::to_json;
use nslab_model::import::{detect, import, Source, SourceFiles};
use nslab_model::{validate_with, Limits};

use super::{print_problems, CliError, CliResult};
use crate::import_files::{add_file, archive_limit, choose_main, lab_name_from_file, located, unpack, Unpacked};
use crate::lab_file::read_bounded;

/// How deep a folder is walked.
const MAX_DEPTH: usize = 8;

pub struct ImportArgs<'a> {
    /// A file, a folder, an archive, or `-` for standard input.
    pub file: &'a Path,
    pub from: Option<Source>,
    pub output: Option<&'a Path>,
    pub name: Option<&'a str>,
    pub limits: &'a Limits,
}

pub fn import_lab(args: ImportArgs) -> CliResult {
    let shown = args.file.display().to_string();
    let files = read_source(args.file, args.from, args.limits)?;
    let source = match args.from.or_else(|| detect(&files)) {
        Some(source) => source,
        None => {
            let names: Vec<&str> = Source::ALL.iter().map(|source| source.name()).collect();
            return Err(CliError::bad_input(format!(
                "{shown}: cannot tell which format this is; name it with --from {}",
                names.join("|")
            )));
        }
    };
    let name = args.name.map_or_else(|| lab_name(args.file, &files), str::to_string);
    let imported =
        import(source, &files, &name).map_err(|error| CliError::bad_input(located(&shown, &files, &error)))?;
    for item in &imported.left_out {
        eprintln!("nslab: left out: {item}");
    }
    print_problems(args.file, &validate_with(&imported.lab, args.limits));
    let text = to_json(&imported.lab);
    match args.output {
        Some(path) => std::fs::write(path, text).map_err(|e| format!("{}: cannot write: {e}", path.display())),
        None => std::io::stdout().write_all(text.as_bytes()).map_err(|e| format!("cannot write the lab: {e}")),
    }
    .map_err(CliError::failed)
}

/// The lab's name when none is given: the file's name without its extensions, or for a
/// Kathará `lab.conf` its folder's.
fn lab_name(path: &Path, files: &SourceFiles) -> String {
    let file = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let main = files.main().map(|(main, _)| main).unwrap_or_default();
    let base = if file == "lab.conf" || (main.ends_with("lab.conf") && file == main) {
        path.canonicalize().ok().and_then(|full| full.parent()?.file_name().map(|n| n.to_string_lossy().into_owned()))
    } else {
        None
    };
    lab_name_from_file(&base.unwrap_or(file))
}

/// The files of the source, the main one first.
fn read_source(path: &Path, from: Option<Source>, limits: &Limits) -> Result<SourceFiles, CliError> {
    let shown = path.display().to_string();
    let fail = |message: String| CliError::bad_input(format!("{shown}: {message}"));
    let unpacked = if path.as_os_str() != "-" && path.is_dir() {
        let mut files = Vec::new();
        walk(path, Path::new(""), 0, &mut files, limits).map_err(fail)?;
        choose_main(files, from).map_err(fail)?
    } else {
        let bytes =
            read_bounded(path, archive_limit(limits)).map_err(|e| fail(format!("cannot read the file: {e}")))?;
        unpack(&shown, bytes, from, limits).map_err(fail)?
    };
    let Unpacked { files, not_text } = unpacked;
    for path in not_text {
        eprintln!("nslab: note: {path} is not text; not read");
    }
    Ok(files)
}

/// A folder's files, by path relative to it; links are not followed.
fn walk(
    root: &Path,
    relative: &Path,
    depth: usize,
    files: &mut Vec<(String, Vec<u8>)>,
    limits: &Limits,
) -> Result<(), String> {
    let folder = root.join(relative);
    let mut entries: Vec<_> = std::fs::read_dir(&folder)
        .map_err(|e| format!("cannot read the folder {}: {e}", folder.display()))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let inner = relative.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| format!("{}: {e}", inner.display()))?;
        if kind.is_dir() && depth < MAX_DEPTH {
            walk(root, &inner, depth + 1, files, limits)?;
        } else if kind.is_file() {
            let mut bytes = Vec::new();
            std::fs::File::open(entry.path())
                .and_then(|file| file.take(limits.max_bytes as u64 + 1).read_to_end(&mut bytes))
                .map_err(|e| format!("{}: cannot read: {e}", inner.display()))?;
            add_file(files, slash_path(&inner), bytes, limits)?;
        }
    }
    Ok(())
}

fn slash_path(path: &Path) -> String {
    path.components().map(|part| part.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_is_named_after_its_file() {
        let files = SourceFiles::one("x", "y");
        assert_eq!(lab_name(Path::new("/tmp/srl01.clab.yml"), &files), "srl01");
        assert_eq!(lab_name(Path::new("seed article.sh"), &files), "seed-article");
        assert_eq!(lab_name(Path::new("-"), &files), "imported");
        assert_eq!(lab_name(Path::new("labs.tar.gz"), &files), "labs");
    }
}
