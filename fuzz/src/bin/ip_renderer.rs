//! `scripts/fuzz ip_renderer`: AFL++ feeds inputs to `nslab_fuzz::ip_renderer`; a panic is a crash.

fn main() {
    afl::fuzz!(|data: &[u8]| nslab_fuzz::ip_renderer(data));
}
