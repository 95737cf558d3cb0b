//! Which format a source is in: from the main file's name first, then from its content.

use super::{Source, SourceFiles};

/// The format of `files`: from the main file's extension (`.clab.yml`, `lab.conf`, `.xml`,
/// `.mn`, `.gns3`, `.sh`), then from its first words. None when neither says.
pub fn detect(files: &SourceFiles) -> Option<Source> {
    let (path, text) = files.main()?;
    from_name(path).or_else(|| from_content(text))
}

/// The format a file's name says, when it says one.
pub fn from_name(path: &str) -> Option<Source> {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path).to_ascii_lowercase();
    let ends = |suffix: &str| file.ends_with(suffix);
    if ends(".clab.yml") || ends(".clab.yaml") {
        Some(Source::Clab)
    } else if file == "lab.conf" {
        Some(Source::Kathara)
    } else if ends(".xml") {
        Some(Source::Core)
    } else if ends(".mn") {
        Some(Source::Miniedit)
    } else if ends(".gns3") {
        Some(Source::Gns3)
    } else if ends(".sh") {
        Some(Source::Ip)
    } else {
        None
    }
}

/// The format a file's content looks like, when it looks like one.
pub fn from_content(text: &str) -> Option<Source> {
    let start = text.trim_start_matches('\u{feff}').trim_start();
    if start.starts_with('<') {
        return start.contains("<scenario").then_some(Source::Core);
    }
    if start.starts_with('{') {
        return json_source(start);
    }
    let lines: Vec<&str> =
        text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')).collect();
    if lines.iter().any(|line| line.starts_with("topology:")) {
        Some(Source::Clab)
    } else if lines.iter().any(|line| is_kathara_device_line(line)) {
        Some(Source::Kathara)
    } else if lines.iter().any(|line| is_network_command(line)) {
        Some(Source::Ip)
    } else {
        None
    }
}

/// MiniEdit and GNS3 both write JSON: MiniEdit's has `"application"` and `"hosts"`, a GNS3
/// project `"type": "topology"`.
fn json_source(text: &str) -> Option<Source> {
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if squeezed.contains("\"type\":\"topology\"") {
        Some(Source::Gns3)
    } else if squeezed.contains("\"hosts\":") || squeezed.contains("\"switches\":") {
        Some(Source::Miniedit)
    } else {
        None
    }
}

/// `pc1[0]="A"` or `r1[0]=lan`: a device's interface on a collision domain.
fn is_kathara_device_line(line: &str) -> bool {
    let Some((key, _)) = line.split_once('=') else { return false };
    let Some((device, rest)) = key.trim().split_once('[') else { return false };
    let Some(index) = rest.strip_suffix(']') else { return false };
    !device.is_empty()
        && device.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !index.is_empty()
        && index.chars().all(|c| c.is_ascii_digit())
}

/// A line that runs `ip`, `ifconfig` or `brctl`, perhaps after a prompt or `sudo`.
fn is_network_command(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    let command = words
        .iter()
        .position(|word| matches!(*word, "ip" | "ifconfig" | "brctl"))
        .filter(|&at| words[..at].iter().all(|word| is_prompt_or_sudo(word)));
    command.is_some()
}

fn is_prompt_or_sudo(word: &str) -> bool {
    word == "sudo" || word.ends_with('#') || word.ends_with('$') || word.ends_with(']') || word.starts_with('[')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_says_its_format() {
        let cases = [
            ("labs/srl.clab.yml", Some(Source::Clab)),
            ("x.CLAB.YAML", Some(Source::Clab)),
            ("lab/lab.conf", Some(Source::Kathara)),
            ("scenario.xml", Some(Source::Core)),
            ("net.mn", Some(Source::Miniedit)),
            ("project.gns3", Some(Source::Gns3)),
            ("seed.sh", Some(Source::Ip)),
            ("notes.txt", None),
            ("topology.yml", None),
        ];
        for (path, expected) in cases {
            assert_eq!(from_name(path), expected, "{path}");
        }
    }

    #[test]
    fn content_says_the_format_when_the_name_does_not() {
        let cases = [
            ("name: srl\ntopology:\n  nodes: {}\n", Some(Source::Clab)),
            ("# a lab\npc1[0]=\"A\"\nr1[1]=B\n", Some(Source::Kathara)),
            ("<?xml version=\"1.0\"?>\n<scenario name=\"x\">", Some(Source::Core)),
            ("<html>", None),
            ("{\"application\": {}, \"hosts\": []}", Some(Source::Miniedit)),
            ("{\n \"type\": \"topology\", \"topology\": {}}", Some(Source::Gns3)),
            ("{\"version\": 1}", None),
            ("$ sudo ip netns add ns1\n", Some(Source::Ip)),
            ("[root@h ~]# ifconfig br0 10.0.0.1/24 up\n", Some(Source::Ip)),
            ("hello world\n", None),
        ];
        for (text, expected) in cases {
            assert_eq!(from_content(text), expected, "{text}");
        }
        let files = SourceFiles::one("pasted.txt", "ip netns add a\n");
        assert_eq!(detect(&files), Some(Source::Ip));
    }
}
