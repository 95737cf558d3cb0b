//! `nslab import` at the command line: the format from the name or the content, standard
//! input, folders and archives, what is left out said on standard error, and bad input
//! (an unknown format, a file that is not that format, an empty or huge file, an archive
//! cut short or with a path that leaves its folder) refused with exit 2 and the place,
//! nothing written.

use std::path::Path;
use std::process::{Command, Output};

use nslab_tests::paths::repo_root;
use nslab_tests::process::{nslab_with_input, text};

const SCRIPT: &str = "ip netns add a\nip netns add b\nip link add x netns a type veth peer name y netns b\n\
                      ip -n a addr add 10.0.0.1/24 dev x\nip -n a rule add from all table 5\n";

fn lab_of(output: &Output) -> nslab_model::Lab {
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&output.stdout)))
}

/// Runs an import that must be refused: exit 2, `said` on standard error, no output file.
fn refused(args: &[&str], input: &str, said: &str) {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("out.json");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-o", out.to_str().unwrap()]);
    let output = nslab_with_input(&all, input);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(said), "{args:?}: expected `{said}` in: {stderr}");
    assert!(!out.exists(), "{args:?}: nothing is written");
}

fn write(folder: &Path, name: &str, content: &[u8]) -> String {
    let path = folder.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn an_ip_script_is_told_by_its_name_and_content_and_what_is_left_out_is_said() {
    let folder = tempfile::tempdir().unwrap();
    let script = write(folder.path(), "two hosts.sh", SCRIPT.as_bytes());
    let output = nslab_with_input(&["import", &script], "");
    let lab = lab_of(&output);
    assert_eq!(lab.name, "two-hosts");
    assert_eq!(lab.namespace_names().collect::<Vec<_>>(), ["a", "b"]);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("nslab: left out: line 5: `ip -n a rule add from all table 5`"), "{stderr}");
    assert!(lab.description.contains("line 5"), "{}", lab.description);

    let typed = std::fs::read_to_string(repo_root().join("tests/fixtures/seed-article/seed-veth.txt")).unwrap();
    let lab = lab_of(&nslab_with_input(&["import", "-", "--name", "typed"], &typed));
    assert_eq!((lab.name.as_str(), lab.links.len()), ("typed", 1), "standard input, the format from the content");
}

#[test]
fn a_folder_and_its_archives_give_their_lab_file() {
    let folder = tempfile::tempdir().unwrap();
    write(folder.path(), "lab/notes.md", b"# notes\n");
    write(folder.path(), "lab/build.sh", SCRIPT.as_bytes());
    let lab = lab_of(&nslab_with_input(&["import", folder.path().join("lab").to_str().unwrap()], ""));
    assert_eq!(lab.links.len(), 1);
    let tar = |name: &str, flags: &str| {
        let archive = folder.path().join(name);
        let status = Command::new("tar")
            .args([flags, archive.to_str().unwrap(), "-C", folder.path().to_str().unwrap(), "lab"])
            .status()
            .expect("tar runs");
        assert!(status.success());
        archive.to_str().unwrap().to_string()
    };
    for archive in [tar("lab.tar", "-cf"), tar("lab.tar.gz", "-czf")] {
        let lab = lab_of(&nslab_with_input(&["import", &archive], ""));
        assert_eq!((lab.name.as_str(), lab.links.len()), ("lab", 1), "{archive}");
        // Cut inside the headers and files: a tar's zero padding after its end can go.
        let bytes = std::fs::read(&archive).unwrap();
        let cut = write(folder.path(), "cut/lab.tar.gz", &bytes[..(bytes.len() / 2).min(1200)]);
        refused(&["import", &cut], "", "cut short");
    }
}

#[test]
fn an_archive_path_that_leaves_its_folder_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    // A tar of one file called `../evil.sh`, written by hand: GNU tar strips the `..`.
    let mut header = [0u8; 512];
    let name = b"../evil.sh";
    header[..name.len()].copy_from_slice(name);
    header[100..107].copy_from_slice(b"0000644");
    header[108..115].copy_from_slice(b"0000000");
    header[116..123].copy_from_slice(b"0000000");
    let content = b"ip netns add a\n";
    header[124..135].copy_from_slice(format!("{:011o}", content.len()).as_bytes());
    header[136..147].copy_from_slice(b"00000000000");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|byte| u32::from(*byte)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut archive = header.to_vec();
    let mut block = [0u8; 512];
    block[..content.len()].copy_from_slice(content);
    archive.extend(block);
    archive.extend([0u8; 1024]);
    let evil = write(folder.path(), "evil.tar", &archive);
    refused(&["import", &evil], "", "`../evil.sh` leaves the archive's folder; refused");
}

#[test]
fn bad_input_is_refused_with_its_place_and_nothing_written() {
    let folder = tempfile::tempdir().unwrap();
    refused(&["import", "-", "--from", "yaml"], "", "invalid value 'yaml'");
    refused(&["import", "-"], "hello\n", "cannot tell which format this is; name it with --from");
    refused(&["import", "-", "--from", "ip"], "hello\n", "-: line 1: not a script of ip commands");
    let empty = write(folder.path(), "empty.sh", b"  \n");
    refused(&["import", &empty], "", &format!("{empty}: the file is empty"));
    let huge = write(folder.path(), "huge.sh", &vec![b'#'; 10 * 1024 * 1024]);
    refused(&["import", &huge], "", "nslab imports files of at most");
    let binary = write(folder.path(), "binary.sh", &[0xff, 0xfe, 0x00, 0x01]);
    refused(&["import", &binary], "", "the file is not text (UTF-8)");
    let missing = folder.path().join("missing.sh");
    refused(&["import", missing.to_str().unwrap()], "", "cannot read the file");
}
