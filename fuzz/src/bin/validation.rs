//! `scripts/fuzz validation`: AFL++ feeds inputs to `nslab_fuzz::validation`; a panic is a crash.

fn main() {
    afl::fuzz!(|data: &[u8]| nslab_fuzz::validation(data));
}
