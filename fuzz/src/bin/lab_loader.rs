//! `scripts/fuzz lab_loader`: AFL++ feeds inputs to `nslab_fuzz::lab_loader`; a panic is a crash.

fn main() {
    afl::fuzz!(|data: &[u8]| nslab_fuzz::lab_loader(data));
}
