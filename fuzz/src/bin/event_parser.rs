//! `scripts/fuzz event_parser`: AFL++ feeds inputs to `nslab_fuzz::event_parser`; a panic is a crash.

fn main() {
    afl::fuzz!(|data: &[u8]| nslab_fuzz::event_parser(data));
}
