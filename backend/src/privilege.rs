//! Whether this process may change the kernel: making namespaces needs CAP_SYS_ADMIN (the
//! bind mount onto /run/netns), everything else CAP_NET_ADMIN. Root has both; so has an
//! ordinary user inside nslab's sandbox (its user namespace). Checked before a run, so
//! that a missing one is said plainly instead of as the first step's EPERM.

const CAP_NET_ADMIN: u32 = 12;
const CAP_SYS_ADMIN: u32 = 21;

/// The capabilities changing the kernel needs that this process does not have, by name.
pub fn missing_capabilities() -> Vec<&'static str> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    missing_in(&status)
}

/// `missing_capabilities` from the text of `/proc/self/status`; none when it cannot be read
/// (the kernel's own refusal then says it).
fn missing_in(status: &str) -> Vec<&'static str> {
    let effective = status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok());
    let Some(effective) = effective else { return Vec::new() };
    [(CAP_NET_ADMIN, "CAP_NET_ADMIN"), (CAP_SYS_ADMIN, "CAP_SYS_ADMIN")]
        .into_iter()
        .filter(|(bit, _)| effective & (1 << bit) == 0)
        .map(|(_, name)| name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_capabilities_are_read_from_the_effective_set() {
        assert!(missing_in("Name:\tnslab\nCapEff:\t000001ffffffffff\n").is_empty());
        assert_eq!(missing_in("CapEff:\t0000000000000000\n"), ["CAP_NET_ADMIN", "CAP_SYS_ADMIN"]);
        assert_eq!(missing_in("CapEff:\t0000000000001000\n"), ["CAP_SYS_ADMIN"]);
        assert!(missing_in("no such line").is_empty(), "unknown: the kernel says it");
    }
}
